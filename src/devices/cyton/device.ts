import { EventEmitter } from 'node:events';
import type { SampleBlock } from '../../core/block.js';
import { Counters } from '../../core/counters.js';
import { ReflexError } from '../../core/errors.js';
import { Logger } from '../../core/log.js';
import type { SerialOpener, SerialPortLike } from '../../hal/serial.js';
import { monotonicMs } from '../../time/monotonic.js';
import { CYTON_BAUD, CYTON_PERIOD_US } from './format.js';
import { CytonParser, type CytonAuxEvent, type CytonCounterKey, type CytonGapEvent } from './parser.js';

export type CytonState = 'idle' | 'opening' | 'resetting' | 'streaming' | 'reconnecting' | 'stopped';

export type CytonDeviceCounterKey =
  | CytonCounterKey
  | 'open_failures'
  | 'reset_timeouts'
  | 'handshake_failures'
  | 'no_board'
  | 'disconnects'
  | 'stalls'
  | 'write_errors'
  | 'outage_samples';

export interface CytonEvents {
  /** A block of µV samples (reused object: copy what you keep) and its host arrival time (monotonic ms). */
  samples: [block: SampleBlock, hostRxMs: number];
  aux: [event: CytonAuxEvent];
  gap: [event: CytonGapEvent];
  state: [state: CytonState, detail: string];
}

export interface CytonDeviceOptions {
  /** How to open the port: the real serialport opener, or FakeSerialBus.open in tests. */
  open: SerialOpener;
  /** Serial device of the dongle, e.g. /dev/ttyUSB0 (board file `source.path`). */
  path: string;
  /** Default 115200, what the dongle runs at. */
  baudRate?: number;
  /** ADS1299 gain (board file `source.gain`), default 24. */
  gain?: number;
  /** Samples per block, default 1. */
  blockSamples?: number;
  stream?: string;
  /** How long to wait for the `$$$` after `v`, ms (default 3000). */
  resetTimeoutMs?: number;
  /** `v` attempts per connection before giving up on it and reconnecting (default 3). */
  resetAttempts?: number;
  /** Silence while streaming that counts as a stalled link, ms (default 1000). */
  stallTimeoutMs?: number;
  /** How often the stall watchdog looks, ms (default min(250, stallTimeoutMs / 4)). */
  stallCheckMs?: number;
  /** First reconnect delay, doubled per failure up to `backoffMaxMs` (defaults 250 and 5000 ms). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Host monotonic clock in ms; injectable so tests can make outage lengths exact. */
  now?: () => number;
  logger?: Logger;
}

const CMD_STOP = new Uint8Array([0x73]); // 's'
const CMD_RESET = new Uint8Array([0x76]); // 'v'
const CMD_START = new Uint8Array([0x62]); // 'b'
const DOLLAR = 0x24;

type SessionEnd = { reason: 'outage' | 'stall' | 'stop'; detail: string };

/**
 * One OpenBCI Cyton behind its USB dongle: open at 115200, `s` (stop whatever is running),
 * `v` (soft reset) until the reply ends in `$$$`, `b` (stream). Packets become 'samples',
 * 'aux' and 'gap' events. An unplug, port error or a stall (no bytes for `stallTimeoutMs`)
 * closes the port and reconnects with exponential backoff, forever until `stop()`; each
 * outage is reported as one gap whose length is estimated from the host clock, so the stream
 * index (and the sample-clock device time) keeps tracking real time across reconnects.
 */
export class CytonDevice extends EventEmitter<CytonEvents> {
  readonly #o: Required<Omit<CytonDeviceOptions, 'logger' | 'now' | 'gain' | 'blockSamples' | 'stream'>>;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #counters = new Counters<CytonDeviceCounterKey>();
  readonly #parser: CytonParser;
  #state: CytonState = 'idle';
  #stopping = false;
  #port: SerialPortLike | undefined;
  #running: Promise<void> | undefined;
  #endSession: ((end: SessionEnd) => void) | undefined;
  #cancelWait: (() => void) | undefined;
  #firstStreaming: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };
  #lastRxMs = Number.NaN;
  #streaming = false;
  #pendingOutage: { fromSample: number; sinceMs: number; reason: 'outage' | 'stall' } | undefined;
  #dollars = 0;
  #onDollars: (() => void) | undefined;
  #replyText = '';
  #lastReply = '';

  constructor(opts: CytonDeviceOptions) {
    super();
    const stallTimeoutMs = opts.stallTimeoutMs ?? 1000;
    this.#o = {
      open: opts.open,
      path: opts.path,
      baudRate: opts.baudRate ?? CYTON_BAUD,
      resetTimeoutMs: opts.resetTimeoutMs ?? 3000,
      resetAttempts: opts.resetAttempts ?? 3,
      stallTimeoutMs,
      stallCheckMs: opts.stallCheckMs ?? Math.min(250, stallTimeoutMs / 4),
      backoffInitialMs: opts.backoffInitialMs ?? 250,
      backoffMaxMs: opts.backoffMaxMs ?? 5000,
    };
    this.#now = opts.now ?? monotonicMs;
    this.#log = opts.logger ?? new Logger();
    this.#parser = new CytonParser({
      gain: opts.gain,
      blockSamples: opts.blockSamples,
      stream: opts.stream,
      counters: this.#counters as Counters<CytonCounterKey>,
      onBlock: (block, rx) => this.emit('samples', block, rx),
      onAux: (ev) => this.emit('aux', ev),
      onGap: (ev) => this.emit('gap', ev),
    });
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // observed through start(); a stop before streaming must not be unhandled
    this.#firstStreaming = { promise, resolve, reject };
  }

  get state(): CytonState {
    return this.#state;
  }

  /** Parser and link counters (bad packets by kind, dropped samples, reconnect causes). */
  get counters(): Counters<CytonDeviceCounterKey> {
    return this.#counters;
  }

  /** The text the board sent after the last `v` (firmware and chip IDs), for logs and `status`. */
  get resetReply(): string {
    return this.#lastReply;
  }

  /**
   * Start the session loop. Resolves the first time the board is streaming; keeps
   * retrying (with backoff) while the device is absent, so bound the wait yourself.
   * Rejects if `stop()` is called first.
   */
  start(): Promise<void> {
    if (this.#stopping) return Promise.reject(new ReflexError('E_CYTON_STOPPED', 'this CytonDevice was stopped: create a new one to start again'));
    if (this.#running) return this.#firstStreaming.promise;
    this.#running = this.#run();
    return this.#firstStreaming.promise;
  }

  /** Send `s`, close the port, flush the last partial block. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopping) {
      await this.#running;
      return;
    }
    this.#stopping = true;
    this.#cancelWait?.();
    const port = this.#port;
    if (port?.isOpen) {
      try {
        await port.write(CMD_STOP);
      } catch (err) {
        this.#counters.inc('write_errors');
        this.#log.warn(`cyton ${this.#o.path}: could not send "s" while stopping: ${(err as Error).message}`);
      }
    }
    this.#endSession?.({ reason: 'stop', detail: 'stop() called' });
    await this.#running;
    if (port?.isOpen) await port.close();
    this.#parser.flush();
    this.#firstStreaming.reject(new ReflexError('E_CYTON_STOPPED', 'CytonDevice stopped before it streamed'));
    this.#setState('stopped', 'stopped by request');
  }

  async #run(): Promise<void> {
    let backoff = this.#o.backoffInitialMs;
    while (!this.#stopping) {
      this.#setState('opening', this.#o.path);
      let port: SerialPortLike;
      try {
        port = await this.#o.open({ path: this.#o.path, baudRate: this.#o.baudRate });
      } catch (err) {
        this.#counters.inc('open_failures');
        const msg = `cannot open ${this.#o.path}: ${(err as Error).message}`;
        this.#log.limited('warn', `cyton-open-${this.#o.path}`,
          `cyton: ${msg} (retrying; check the dongle is plugged in and you are in the dialout group)`);
        this.#setState('reconnecting', msg);
        await this.#wait(backoff);
        backoff = Math.min(backoff * 2, this.#o.backoffMaxMs);
        continue;
      }
      if (this.#stopping) {
        await port.close();
        break;
      }
      const end = await this.#session(port);
      if (end.reason === 'stop') break;
      if (end.reason === 'stall') this.#counters.inc('stalls');
      else this.#counters.inc('disconnects');
      if (port.isOpen) await port.close();
      this.#setState('reconnecting', end.detail);
      if (end.streamed) backoff = this.#o.backoffInitialMs;
      await this.#wait(backoff);
      backoff = Math.min(backoff * 2, this.#o.backoffMaxMs);
    }
  }

  /** One connection: handshake, stream until it ends. */
  async #session(port: SerialPortLike): Promise<SessionEnd & { streamed: boolean }> {
    this.#port = port;
    // `over` is set synchronously by whoever ends the session (close, watchdog, stop,
    // failed handshake), so every step below can check it right after an await.
    let over: SessionEnd | undefined;
    const ended = new Promise<SessionEnd>((resolve) => {
      this.#endSession = (e) => {
        if (over) return;
        over = e;
        this.#onDollars?.();
        resolve(e);
      };
    });
    port.onData((chunk) => {
      if (port === this.#port) this.#onData(chunk);
    });
    port.onClose((err) => {
      if (port === this.#port) this.#endSession?.({ reason: 'outage', detail: err ? err.message : 'port closed' });
    });

    let streamed = false;
    try {
      this.#setState('resetting', 'sending s, v');
      await port.write(CMD_STOP);
      let ok = false;
      for (let attempt = 1; attempt <= this.#o.resetAttempts && !ok && !over; attempt++) {
        ok = await this.#resetOnce(port, () => over !== undefined);
        if (!ok && !over) this.#counters.inc('reset_timeouts');
      }
      if (!over && ok && /Failure:|failed to poll Host/i.test(this.#lastReply)) {
        // The dongle's radio answers for itself when the board is off or out of range.
        this.#counters.inc('no_board');
        const e = new ReflexError('E_CYTON_NO_BOARD',
          `the dongle at ${this.#o.path} cannot reach the board ("${this.#lastReply.trim()}"): switch the Cyton on (PC), check its battery and keep it near the dongle`);
        this.#log.limited('warn', `cyton-noboard-${this.#o.path}`, e.message);
        this.#endSession?.({ reason: 'outage', detail: e.message });
      }
      if (!over && !ok) {
        this.#counters.inc('handshake_failures');
        const e = new ReflexError('E_CYTON_NO_RESET',
          `no "$$$" from ${this.#o.path} after ${this.#o.resetAttempts} soft resets ("v"): check the board is on (switch to PC) and the dongle to GPIO6, and that nothing else has the port open`);
        this.#log.limited('warn', `cyton-reset-${this.#o.path}`, e.message);
        this.#endSession?.({ reason: 'outage', detail: e.message });
      }
      if (!over) {
        if (/daisy/i.test(this.#lastReply)) {
          this.#log.warn(`cyton ${this.#o.path}: a Daisy module answered; only the 8 board channels are decoded (see docs/cyton.md)`);
        }
        // Accept samples before `b` goes out: a device may answer within the write.
        this.#lastRxMs = this.#now();
        this.#streaming = true;
        streamed = true;
        await port.write(CMD_START);
        if (!over) {
          this.#setState('streaming', this.#o.path);
          this.#firstStreaming.resolve();
        }
      }
    } catch (err) {
      this.#counters.inc('write_errors');
      this.#endSession?.({ reason: 'outage', detail: `write failed: ${(err as Error).message}` });
    }

    const watchdog = setInterval(() => {
      if (this.#streaming && this.#now() - this.#lastRxMs > this.#o.stallTimeoutMs) {
        this.#endSession?.({ reason: 'stall', detail: `no bytes for ${this.#o.stallTimeoutMs} ms` });
      }
    }, this.#o.stallCheckMs);
    const end = await ended;
    clearInterval(watchdog);
    this.#streaming = false;
    this.#endSession = undefined;
    this.#port = undefined;
    if (streamed) {
      this.#parser.flush();
      if (end.reason !== 'stop' && !this.#pendingOutage) {
        this.#pendingOutage = { fromSample: this.#parser.nextSample, sinceMs: this.#lastRxMs, reason: end.reason };
      }
    }
    return { ...end, streamed };
  }

  /** Send one `v` and wait for `$$$`; false on timeout or when the session ended meanwhile. */
  #resetOnce(port: SerialPortLike, ended: () => boolean): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#dollars = 0;
      this.#replyText = '';
      const timer = setTimeout(() => finish(false), this.#o.resetTimeoutMs);
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.#onDollars = undefined;
        resolve(ok);
      };
      // Armed before writing: a device (or fake) may answer within the write call.
      this.#onDollars = () => finish(!ended());
      port.write(CMD_RESET).catch((err: unknown) => {
        clearTimeout(timer);
        this.#onDollars = undefined;
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  #onData(chunk: Uint8Array): void {
    const now = this.#now();
    if (this.#streaming) {
      if (this.#pendingOutage) this.#reportOutage(now);
      this.#lastRxMs = now;
      this.#parser.push(chunk, now);
      return;
    }
    if (this.#onDollars) {
      for (let i = 0; i < chunk.length; i++) {
        this.#dollars = chunk[i] === DOLLAR ? this.#dollars + 1 : 0;
        if (this.#dollars >= 3) {
          this.#replyText += Buffer.from(chunk.subarray(0, i + 1)).toString('latin1');
          this.#lastReply = this.#replyText;
          this.#onDollars();
          return;
        }
      }
      if (this.#replyText.length < 4096) this.#replyText += Buffer.from(chunk).toString('latin1');
    }
    // Bytes outside streaming and outside a reset (e.g. packets still in flight after `s`) are
    // not samples we can place in time: counted, not parsed.
    else this.#counters.inc('garbage_bytes', chunk.length);
  }

  /** First bytes after a reconnect: one gap for the whole outage, then continue the index. */
  #reportOutage(now: number): void {
    const o = this.#pendingOutage!;
    this.#pendingOutage = undefined;
    const missing = Math.max(0, Math.round(((now - o.sinceMs) * 1000) / CYTON_PERIOD_US) - 1);
    this.#counters.inc('outage_samples', missing);
    this.#parser.restart(o.fromSample + missing);
    this.emit('gap', {
      stream: this.#parser.stream,
      reason: o.reason,
      fromSample: o.fromSample,
      missingSamples: missing,
      deviceTimeUs: o.fromSample * CYTON_PERIOD_US,
    });
  }

  #wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#cancelWait = undefined;
        resolve();
      }, ms);
      this.#cancelWait = () => {
        clearTimeout(t);
        this.#cancelWait = undefined;
        resolve();
      };
    });
  }

  #setState(state: CytonState, detail: string): void {
    if (state === this.#state && state !== 'reconnecting') return;
    this.#state = state;
    this.emit('state', state, detail);
  }
}
