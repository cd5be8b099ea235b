import { EventEmitter } from 'node:events';
import { Counters } from '../../core/counters.js';
import { ReflexError } from '../../core/errors.js';
import { Logger } from '../../core/log.js';
import type { SerialPortLike } from '../../hal/serial.js';
import { monotonicMs } from '../../time/monotonic.js';
import type { CytonConnection, CytonDeviceCounterKey, CytonDeviceOptions, CytonEvents, CytonFailure, CytonState } from './device-types.js';
import { CYTON_BAUD, DAISY_CHANNELS } from './format.js';
import { CytonParser, type CytonCounterKey } from './parser.js';
import { CytonCodes } from './codes.js';
import { detachProblem, replyNamesDaisy, resetProblem, type HandshakeProblem } from './reply.js';
import { CoreCodes } from '../../core/codes.js';

export { CYTON_COUNTER_KEYS } from './device-types.js';
export type { CytonConnection, CytonDeviceCounterKey, CytonDeviceOptions, CytonEvents, CytonFailure, CytonState } from './device-types.js';

const CMD_STOP = new Uint8Array([0x73]); // 's'
const CMD_RESET = new Uint8Array([0x76]); // 'v'
const CMD_START = new Uint8Array([0x62]); // 'b'
const CMD_EIGHT = new Uint8Array([0x63]); // 'c': 8-channel mode, detaches a Daisy
const DOLLAR = 0x24;

type SessionEnd = { reason: 'outage' | 'stall' | 'stop'; detail: string; code: string };

/**
 * One OpenBCI Cyton behind its USB dongle: open at 115200, `s` (stop whatever is running),
 * `v` (soft reset) until the reply ends in `$$$`, `b` (stream). Packets become 'samples',
 * 'aux' and 'gap' events. An unplug, port error or a stall (no bytes for `stallTimeoutMs`)
 * closes the port and reconnects with exponential backoff, forever until `stop()`; each
 * outage is reported as one gap whose length is estimated from the host clock, so the stream
 * index (and the sample-clock device time) keeps tracking real time across reconnects.
 * `stop()` never waits on the device: a pending open, handshake or backoff is abandoned,
 * and every write and close is bounded by `writeTimeoutMs`.
 */
export class CytonDevice extends EventEmitter<CytonEvents> {
  readonly #o: Required<Omit<CytonDeviceOptions, 'logger' | 'now' | 'gain' | 'blockSamples' | 'stream' | 'channels'>>;
  readonly #daisy: boolean;
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
  #attempts = 0;
  #lastError: CytonFailure | null = null;
  #stateSinceMs = Number.NaN;
  /** Resolves when stop() is called: whatever the session is waiting for loses the race to it. */
  readonly #stopped: Promise<void>;
  #signalStop!: () => void;
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
      writeTimeoutMs: opts.writeTimeoutMs ?? 500,
      stallCheckMs: opts.stallCheckMs ?? Math.min(250, stallTimeoutMs / 4),
      backoffInitialMs: opts.backoffInitialMs ?? 250,
      backoffMaxMs: opts.backoffMaxMs ?? 5000,
    };
    this.#now = opts.now ?? monotonicMs;
    this.#log = opts.logger ?? new Logger();
    this.#daisy = opts.channels === DAISY_CHANNELS;
    this.#parser = new CytonParser({
      gain: opts.gain,
      channels: this.#daisy ? DAISY_CHANNELS : undefined,
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
    this.#stopped = new Promise<void>((res) => (this.#signalStop = res));
  }

  get state(): CytonState {
    return this.#state;
  }

  /** Parser and link counters (bad packets by kind, dropped samples, reconnect causes). */
  get counters(): Counters<CytonDeviceCounterKey> {
    return this.#counters;
  }

  /** State and since when, connection attempts since start(), and the last failure. */
  get connection(): CytonConnection {
    return { state: this.#state, sinceMs: this.#stateSinceMs, attempts: this.#attempts, lastError: this.#lastError };
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
    if (this.#stopping) return Promise.reject(new ReflexError(CytonCodes.stopped, 'this CytonDevice was stopped: create a new one to start again'));
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
    this.#signalStop();
    this.#cancelWait?.();
    const port = this.#port;
    if (port?.isOpen) {
      try {
        // Bounded: a port nobody drains must not keep stop() (and a SIGTERM) waiting.
        await this.#bounded(port.write(CMD_STOP), 'send "s"');
      } catch (err) {
        this.#counters.inc('write_errors');
        this.#log.warn(`cyton ${this.#o.path}: could not send "s" while stopping: ${(err as Error).message}`);
      }
    }
    this.#endSession?.({ reason: 'stop', detail: 'stop() called', code: CytonCodes.stopped });
    await this.#running;
    if (port?.isOpen) await this.#closePort(port);
    this.#parser.flush();
    this.#firstStreaming.reject(new ReflexError(CytonCodes.stopped, 'CytonDevice stopped before it streamed'));
    this.#setState('stopped', 'stopped by request');
  }

  async #run(): Promise<void> {
    let backoff = this.#o.backoffInitialMs;
    while (!this.#stopping) {
      this.#attempts++;
      this.#setState('opening', this.#o.path);
      const opening = this.#o.open({ path: this.#o.path, baudRate: this.#o.baudRate });
      let port: SerialPortLike | 'stopped';
      try {
        // An open that never returns (a device node that blocks) must not hold up stop().
        port = await Promise.race([opening, this.#stopped.then(() => 'stopped' as const)]);
      } catch (err) {
        this.#counters.inc('open_failures');
        const msg = `cannot open ${this.#o.path}: ${(err as Error).message}`;
        this.#lastError = { message: msg, code: CytonCodes.open, atMs: this.#now() };
        this.#log.limited('warn', `cyton-open-${this.#o.path}`, `cyton: ${msg} (retrying; check the dongle is plugged in and you are in the dialout group)`);
        this.#setState('reconnecting', msg);
        await this.#wait(backoff);
        backoff = Math.min(backoff * 2, this.#o.backoffMaxMs);
        continue;
      }
      if (port === 'stopped') {
        // Close a port that opens after all, once it does; a late failure is still a failed open.
        opening.then(
          (p) => this.#closePort(p),
          () => this.#counters.inc('open_failures'),
        );
        break;
      }
      if (this.#stopping) {
        await this.#closePort(port);
        break;
      }
      const end = await this.#session(port);
      if (end.reason === 'stop') break;
      if (end.reason === 'stall') this.#counters.inc('stalls');
      else this.#counters.inc('disconnects');
      this.#lastError = { message: end.detail, code: end.code, atMs: this.#now() };
      if (port.isOpen) await this.#closePort(port);
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
    // A write the session waits on also ends when the session does (stop() must not wait for it).
    const write = (bytes: Uint8Array, what: string): Promise<void> => Promise.race([this.#bounded(port.write(bytes), what), ended.then(() => undefined)]);
    port.onClose((err) => {
      if (port === this.#port) this.#endSession?.({ reason: 'outage', detail: err ? err.message : 'port closed', code: CoreCodes.disconnected });
    });

    let streamed = false;
    try {
      this.#setState('resetting', 'sending s, v');
      await write(CMD_STOP, 'send "s"');
      let ok = false;
      for (let attempt = 1; attempt <= this.#o.resetAttempts && !ok && !over; attempt++) {
        ok = await this.#commandOnce(port, CMD_RESET, 'send "v"', () => over !== undefined);
        if (!ok && !over) this.#counters.inc('reset_timeouts');
      }
      const problem = over ? null : resetProblem(this.#o.path, this.#lastReply, ok, this.#o.resetAttempts, this.#daisy);
      if (problem) this.#failHandshake(problem);
      if (!over && !this.#daisy && replyNamesDaisy(this.#lastReply)) {
        // With a Daisy attached the board alternates board and Daisy packets; `c` makes it
        // stream the board's 8 channels alone (it answers "daisy removed$$$").
        this.#log.limited(
          'info',
          `cyton-detach-${this.#o.path}`,
          `cyton ${this.#o.path}: a Daisy module answered; detaching it ("c") for 8 channels (use the openbci-cyton-daisy board for 16)`,
        );
        // The reply to `v` (firmware, chip IDs) stays what `resetReply` reports.
        const reply = this.#lastReply;
        const detached = await this.#commandOnce(port, CMD_EIGHT, 'send "c"', () => over !== undefined);
        this.#lastReply = reply;
        if (!detached && !over) this.#failHandshake(detachProblem(this.#o.path));
      }
      if (!over) {
        // Accept samples before `b` goes out: a device may answer within the write.
        this.#lastRxMs = this.#now();
        this.#streaming = true;
        streamed = true;
        await write(CMD_START, 'send "b"');
        if (!over) {
          this.#counters.inc('connections');
          this.#setState('streaming', this.#o.path);
          this.#firstStreaming.resolve();
        }
      }
    } catch (err) {
      this.#counters.inc('write_errors');
      this.#endSession?.({ reason: 'outage', detail: `write failed: ${(err as Error).message}`, code: CytonCodes.write });
    }

    const watchdog = setInterval(() => {
      if (this.#streaming && this.#now() - this.#lastRxMs > this.#o.stallTimeoutMs) {
        this.#endSession?.({ reason: 'stall', detail: `no bytes for ${this.#o.stallTimeoutMs} ms`, code: CytonCodes.stall });
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
        // From the last sample's arrival (the samples' own times), or the last bytes if no packet came.
        const last = this.#parser.lastPacketRxMs;
        this.#pendingOutage = { fromSample: this.#parser.nextSample, sinceMs: Number.isFinite(last) ? last : this.#lastRxMs, reason: end.reason };
      }
    }
    return { ...end, streamed };
  }

  /** Count and log a handshake that cannot go on, and end the session (it reconnects). */
  #failHandshake(p: HandshakeProblem): void {
    this.#counters.inc(p.counter);
    this.#log.limited('warn', p.logKey, p.error.message);
    this.#endSession?.({ reason: 'outage', detail: p.error.message, code: p.error.code });
  }

  /** Send one command (`v`, `c`) and wait for `$$$`; false on timeout or when the session ended meanwhile. */
  #commandOnce(port: SerialPortLike, cmd: Uint8Array, what: string, ended: () => boolean): Promise<boolean> {
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
      this.#bounded(port.write(cmd), what).catch((err: unknown) => {
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
    const period = this.#parser.periodUs;
    const missing = Math.max(0, Math.round(((now - o.sinceMs) * 1000) / period) - 1);
    this.#counters.inc('outages');
    this.#counters.inc('outage_samples', missing);
    this.#parser.restart(o.fromSample + missing);
    this.emit('gap', {
      stream: this.#parser.stream,
      reason: o.reason,
      fromSample: o.fromSample,
      missingSamples: missing,
      deviceTimeUs: o.fromSample * period,
      deviceSpanUs: (missing + 1) * period,
      hostFromMs: o.sinceMs,
      hostToMs: now,
      hostSpanMs: now - o.sinceMs,
      fromSeq: Number.NaN,
      toSeq: Number.NaN,
    });
  }

  /** `p`, or a rejection after writeTimeoutMs: a hung port write must not hang the session. */
  #bounded(p: Promise<void>, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ReflexError(
              CytonCodes.writeTimeout,
              `could not ${what} to ${this.#o.path} within ${this.#o.writeTimeoutMs} ms: the port is not draining (check the dongle)`,
            ),
          ),
        this.#o.writeTimeoutMs,
      );
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  /** Close without letting a failing or hung close stop the loop: counted and logged. */
  async #closePort(port: SerialPortLike): Promise<void> {
    try {
      await this.#bounded(port.close(), 'close the port');
    } catch (err) {
      this.#counters.inc('close_errors');
      this.#log.limited('warn', `cyton-close-${this.#o.path}`, `cyton ${this.#o.path}: ${(err as Error).message}`);
    }
  }

  #wait(ms: number): Promise<void> {
    // stop() cancels the wait in progress; one that starts after it must not begin at all.
    if (this.#stopping) return Promise.resolve();
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
    if (state !== this.#state) this.#stateSinceMs = this.#now();
    this.#state = state;
    this.emit('state', state, detail);
  }
}
