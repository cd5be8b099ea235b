/**
 * `BridgeLink`: a session with a firmware-bridge device over a serial port
 * (docs/protocol.md section 4), kept alive by itself until `stop()`.
 *
 * Per connection: open, 0x00 + HELLO_REQ, wait for HELLO (retried), check the protocol
 * version, STOP, CONFIG, START (each awaiting its ACK/ERROR by req_id), then stream:
 * SAMPLES as 'samples' events, PING every pingIntervalMs (PONGs as 'pong' events with
 * host send/receive times for clock sync), HEARTBEAT and TRACKER passed on. Silence for
 * stallMs, a port error or a device reset ends the connection; the link reconnects with
 * exponential backoff and reports the outage as a 'gap' with its host-time span.
 *
 * Nothing the device sends can crash the link: bad frames are counted by the decoder,
 * unexpected replies are counted here, and failures become 'error' events.
 */
import { EventEmitter } from 'node:events';
import { Counters } from '../core/counters.js';
import { DisconnectedError, ReflexError } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { monotonicMs } from '../time/monotonic.js';
import { BridgeDecoder } from '../bridge/decoder.js';
import { BridgeErrorCodes } from '../bridge/errors.js';
import {
  ActuatorKind,
  FaultKind,
  FrameType,
  PROTO_MAJOR,
  UNSOLICITED_REQ_ID,
  deviceErrorName,
  type ActuateEntry,
  type FaultKindName,
  type Hello,
} from '../bridge/frames.js';
import type { SerialPortLike } from '../hal/serial.js';
import type { FdSerialPort } from '../hal/serial-node.js';
import { LOOP_REQ_ID_BASE, type BridgeLinkEvents, type BridgeLinkOptions, type LinkCounterKey, type LinkCounters, type LinkState, type LinkTimers, type TrackerSample } from './bridge-link-types.js';
import { isConfigFatal, linkGap, versionError } from './bridge-link-util.js';
import { PingBook } from './bridge-replies.js';
import { BridgeCommander } from './bridge-commander.js';

export * from './bridge-link-types.js';

const defaultTimers: LinkTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class BridgeLink extends EventEmitter<BridgeLinkEvents> {
  readonly #o: Required<Omit<BridgeLinkOptions, 'logger' | 'timers' | 'now'>>;
  readonly #now: () => number;
  readonly #t: LinkTimers;
  readonly #log: Logger;
  readonly #decoder: BridgeDecoder;
  readonly #cmd: BridgeCommander;
  readonly #counters = new Counters<LinkCounterKey>();

  #state: LinkState = 'stopped';
  #running = false;
  #loopDone: Promise<void> = Promise.resolve();
  #start: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;
  #wake: (() => void) | null = null;

  // The current connection; `#gen` changes whenever one ends, so stale callbacks can tell.
  #gen = 0;
  #port: SerialPortLike | null = null;
  #endSession: ((err: ReflexError) => void) | null = null;
  #ready = false;
  #acceptSamples = false;
  #streamingSinceMs = 0;
  #lastByteMs = 0;
  #pushing = false;
  readonly #backlog: Uint8Array[] = [];
  #arrivalMs = 0;
  #lastHello: Hello | null = null;
  readonly #pings = new PingBook();
  #attempt = 0;
  #everStreamed = false;
  /** Until the first streaming after start(), a refused configuration ends the link. */
  #configFatal = true;
  /** Connection attempts since start(): the first is 'connecting', later ones 'reconnecting'. */
  #sessions = 0;
  /** The fd published to onActuatorFd listeners: the port's while streaming, else -1. */
  #actFd = -1;
  readonly #fdListeners = new Set<(fd: number) => void>();

  // Device identity and outage bookkeeping.
  #bootId: number | null = null;
  #lastBlockMs = Number.NaN;
  #outagePending = false;
  #outageFromMs = Number.NaN;
  #resetDuringOutage = false;
  readonly #tracker: TrackerSample = { seq: 0, deviceTimeUs: 0, values: new Float32Array(0) };

  constructor(opts: BridgeLinkOptions) {
    super();
    this.#o = {
      open: opts.open,
      path: opts.path,
      baudRate: opts.baudRate ?? 115200,
      rate: opts.rate ?? 0,
      channels: opts.channels ?? 0,
      block: opts.block ?? 0,
      helloTimeoutMs: opts.helloTimeoutMs ?? 1000,
      helloAttempts: opts.helloAttempts ?? 3,
      commandTimeoutMs: opts.commandTimeoutMs ?? 1000,
      pingIntervalMs: opts.pingIntervalMs ?? 200,
      stallMs: opts.stallMs ?? 1000,
      backoffMinMs: opts.backoffMinMs ?? 100,
      backoffMaxMs: opts.backoffMaxMs ?? 5000,
      healthyMs: opts.healthyMs ?? 5000,
    };
    this.#now = opts.now ?? monotonicMs;
    this.#t = opts.timers ?? defaultTimers;
    this.#log = opts.logger ?? new Logger();
    this.#cmd = new BridgeCommander(this.#o, this.#t, this.#counters);
    this.#decoder = new BridgeDecoder(
      {
        onSamples: (block, frame) => {
          if (!this.#acceptSamples) {
            this.#counters.inc('samples_before_start');
            return;
          }
          const at = this.#arrivalMs;
          this.#streaming();
          if (this.#outagePending) {
            this.#outagePending = false;
            this.#counters.inc('outages');
            this.#emitGap(linkGap('outage', this.#outageFromMs, at, this.#resetDuringOutage));
            this.#resetDuringOutage = false;
          }
          this.#lastBlockMs = at;
          this.emit('samples', block, at, frame);
        },
        onGap: (g) => {
          if (!this.#acceptSamples) return;
          this.#emitGap({ ...linkGap('frames', this.#lastBlockMs, this.#arrivalMs, false), ...g });
        },
        onRestart: () => {
          if (!this.#acceptSamples) return;
          const boot = this.#bootId ?? 0;
          this.#counters.inc('device_resets');
          this.emit('reset', { cause: 'seq_restart', previousBootId: boot, bootId: boot });
          this.#emitGap(linkGap('restart', this.#lastBlockMs, this.#arrivalMs, true));
        },
        onHello: (h) => this.#onHello(h),
        onForeignHello: (v) => {
          const err = versionError(v.protoMajor, v.protoMinor);
          if (!this.#cmd.onForeignHello(err)) this.#report(err);
        },
        onAck: (a) => {
          if (a.reqId >= LOOP_REQ_ID_BASE && a.reqId !== UNSOLICITED_REQ_ID) return this.#counters.inc('loop_acks');
          this.#cmd.onAck(a);
        },
        onError: (e) => {
          if (e.reqId >= LOOP_REQ_ID_BASE && e.reqId !== UNSOLICITED_REQ_ID) {
            const name = deviceErrorName(e.code);
            this.#counters.inc('loop_errors');
            this.#counters.inc(`loop_error_${name}`);
            this.#report(new ReflexError(BridgeErrorCodes.deviceReport, `device refused an ACTUATE from the control loop: ${name}${e.message ? `: ${e.message}` : ''}`));
            return;
          }
          if (e.reqId === UNSOLICITED_REQ_ID) {
            this.#counters.inc('device_reports');
            this.#report(new ReflexError(BridgeErrorCodes.deviceReport, `device reports ${deviceErrorName(e.code)}${e.message ? `: ${e.message}` : ''}`));
            return;
          }
          this.#cmd.onError(e);
        },
        onPong: (p) => {
          const sentMs = this.#pings.take(p.pingId);
          if (Number.isNaN(sentMs)) return this.#counters.inc('pongs_unmatched');
          this.#counters.inc('pongs');
          this.emit('pong', { pingId: p.pingId, hostSendMs: sentMs, hostRecvMs: this.#arrivalMs, deviceRxUs: p.tRxUs, deviceTxUs: p.tTxUs });
        },
        onHeartbeat: (hb) => this.emit('heartbeat', hb, this.#arrivalMs),
        onTracker: (f) => {
          const t = this.#tracker;
          t.seq = f.seq;
          t.deviceTimeUs = f.tUs;
          t.values = f.values;
          this.emit('tracker', t, this.#arrivalMs);
        },
      },
      { logger: this.#log, rate: opts.rate || Number.NaN },
    );
  }

  get state(): LinkState {
    return this.#state;
  }

  /** The last HELLO of the current device, or null before the first. */
  get hello(): Hello | null {
    return this.#lastHello;
  }

  /**
   * Start (or keep) the link running. Resolves once streaming; rejects if, before that,
   * the device refuses the configuration or speaks another protocol major (E_BAD_VERSION,
   * E_DEVICE_*: retrying cannot help), or if stop() comes first (E_STOPPED). Transport
   * failures never reject: the link keeps reconnecting and reports them as 'error' events.
   * Once it has streamed, the same refusals after a reconnect are reported and retried.
   */
  start(): Promise<void> {
    if (this.#start) return this.#start.promise;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#start = { promise, resolve, reject };
    this.#running = true;
    this.#configFatal = true;
    this.#sessions = 0;
    this.#attempt = 0;
    // After a stop(), the previous loop may still be winding down: run after it.
    this.#loopDone = this.#loopDone.then(() => this.#loop());
    return promise;
  }

  /** Stop streaming (STOP, best effort), close the port and stop reconnecting. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake?.();
    if (this.#ready && this.#port?.isOpen) {
      try {
        await this.#cmd.command(FrameType.STOP, 'STOP', (id) => this.#cmd.writer.stop(id));
      } catch (err) {
        this.#log.warn(`firmware-bridge: STOP on shutdown not acknowledged (${(err as Error).message}); closing anyway`);
      }
    }
    this.#lost(new ReflexError(BridgeErrorCodes.stopped, 'link stopped'));
    // A deliberate stop is not an outage to report after a later start().
    this.#outagePending = false;
    this.#failStart(new ReflexError(BridgeErrorCodes.stopped, `link to ${this.#o.path} stopped before it streamed`));
    await this.#loopDone;
    this.#setState('stopped');
  }

  /** Set actuator outputs; resolves on the device's ACK (ERROR BAD_ARG moves nothing). */
  actuate(entries: readonly ActuateEntry[]): Promise<void> {
    for (const e of entries) {
      if (!Number.isInteger(e.channel) || e.channel < 0 || e.channel > 255) return Promise.reject(new RangeError(`actuator channel must be an integer 0..255, got ${e.channel}`));
      if (!(e.kind in ActuatorKind)) return Promise.reject(new RangeError(`actuator kind must be digital, pwm or servo, got ${String(e.kind)}`));
      if (!Number.isInteger(e.value) || e.value < -(2 ** 31) || e.value >= 2 ** 31) return Promise.reject(new RangeError(`actuator value must be a 32-bit integer, got ${e.value}`));
    }
    return this.#cmd.command(FrameType.ACTUATE, 'ACTUATE', (id) => this.#cmd.writer.actuate(id, entries));
  }

  /**
   * The serial port's file descriptor for writers on other threads (the loop worker's
   * ACTUATE frames), and -1 whenever it must not be written: not streaming, or about to
   * be closed (called synchronously before the close, see FdSerialPort). Called at once
   * with the current value. Ports without an fd (fakes, other platforms) only ever give -1.
   */
  onActuatorFd(listener: (fd: number) => void): () => void {
    this.#fdListeners.add(listener);
    listener(this.#actFd);
    return () => this.#fdListeners.delete(listener);
  }

  #setActFd(fd: number): void {
    if (fd === this.#actFd) return;
    this.#actFd = fd;
    for (const l of this.#fdListeners) l(fd);
  }

  /** Inject a fault (simulating devices only; others answer ERROR UNSUPPORTED). */
  fault(kind: FaultKindName | number, param: number): Promise<void> {
    const k = typeof kind === 'number' ? kind : FaultKind[kind];
    if (k === undefined) return Promise.reject(new RangeError(`unknown fault kind ${String(kind)}`));
    return this.#cmd.command(FrameType.FAULT, 'FAULT', (id) => this.#cmd.writer.fault(id, k, param | 0));
  }

  counters(): LinkCounters {
    const d = this.#decoder.stats();
    return { state: this.#state, frames: d.frames, samplesFrames: d.samplesFrames, samples: d.samples, bytes: d.bytes, decoder: d.counters, link: this.#counters.snapshot() };
  }

  // ---- connection loop ----

  async #loop(): Promise<void> {
    while (this.#running) {
      const err = await this.#session();
      if (!this.#running) break;
      if (isConfigFatal(err) && this.#configFatal) {
        this.#running = false;
        this.#failStart(err);
        break;
      }
      this.#report(err);
      const delay = Math.min(this.#o.backoffMaxMs, this.#o.backoffMinMs * 2 ** Math.min(this.#attempt, 30));
      this.#attempt++;
      this.#counters.inc('reconnects');
      this.#setState('reconnecting');
      await this.#sleep(delay);
    }
    this.#setState('stopped');
  }

  /** One connection, from open to loss; returns why it ended. */
  async #session(): Promise<ReflexError> {
    this.#setState(this.#sessions++ > 0 ? 'reconnecting' : 'connecting');
    let port: SerialPortLike;
    try {
      port = await this.#o.open({ path: this.#o.path, baudRate: this.#o.baudRate });
    } catch (err) {
      this.#counters.inc('open_failures');
      return asReflexError(err);
    }
    if (!this.#running) {
      await port.close();
      return new ReflexError(BridgeErrorCodes.stopped, 'link stopped');
    }
    const gen = ++this.#gen;
    this.#counters.inc('connects');
    this.#port = port;
    this.#cmd.attach(port);
    if (isFdPort(port)) {
      // Its number can only be reused once it is closed, so "ours is published" is exact.
      const fd = port.fd;
      port.onFdClosing(() => {
        if (this.#actFd === fd) this.#setActFd(-1);
      });
    }
    this.#ready = false;
    this.#acceptSamples = false;
    this.#decoder.reset();
    this.#lastByteMs = this.#now();
    const ended = new Promise<ReflexError>((resolve) => (this.#endSession = resolve));
    port.onData((chunk) => {
      if (gen !== this.#gen) return;
      // A port that answers writes synchronously (fakes) can deliver bytes while the
      // decoder is inside a handler that wrote: queue those instead of re-entering it.
      if (this.#pushing) {
        this.#backlog.push(chunk.slice());
        return;
      }
      this.#pushing = true;
      try {
        this.#arrivalMs = this.#lastByteMs = this.#now();
        this.#decoder.push(chunk);
        for (let next = this.#backlog.shift(); next && gen === this.#gen; next = this.#backlog.shift()) {
          this.#arrivalMs = this.#lastByteMs = this.#now();
          this.#decoder.push(next);
        }
      } finally {
        this.#pushing = false;
        this.#backlog.length = 0;
      }
    });
    port.onClose((err) => {
      if (gen === this.#gen) this.#lost(err instanceof ReflexError ? err : new DisconnectedError(`serial port ${this.#o.path} closed${err ? `: ${err.message}` : ''}`, { cause: err }));
    });
    try {
      await this.#handshake();
    } catch (err) {
      this.#lost(asReflexError(err));
      return ended;
    }
    if (gen === this.#gen) this.#streaming();
    return ended;
  }

  /**
   * START acknowledged, or its first block decoded (which can come in the same chunk as
   * the ACK, before the handshake's await resumes): the connection is streaming.
   */
  #streaming(): void {
    if (this.#ready) return;
    const gen = this.#gen;
    this.#ready = true;
    this.#everStreamed = true;
    this.#configFatal = false;
    this.#streamingSinceMs = this.#now();
    this.#setState('streaming');
    this.#start?.resolve();
    // Silence is a stall only once streaming: before that, HELLO and command timeouts rule.
    this.#lastByteMs = this.#streamingSinceMs;
    this.#armStall(gen);
    this.#armPing(gen);
  }

  async #handshake(): Promise<void> {
    const hello = await this.#cmd.awaitHello();
    if (hello.protoMajor !== PROTO_MAJOR) throw versionError(hello.protoMajor, hello.protoMinor);
    if (this.#bootId !== null && hello.bootId !== this.#bootId) {
      this.#counters.inc('device_resets');
      this.#resetDuringOutage = true;
      this.emit('reset', { cause: 'boot_id', previousBootId: this.#bootId, bootId: hello.bootId });
    }
    this.#bootId = hello.bootId;
    this.emit('hello', hello);
    await this.#cmd.command(FrameType.STOP, 'STOP', (id) => this.#cmd.writer.stop(id));
    const { rate, channels, block } = this.#o;
    if (rate || channels || block) await this.#cmd.command(FrameType.CONFIG, `CONFIG(rate ${rate}, channels ${channels}, block ${block})`, (id) => this.#cmd.writer.config(id, rate, channels, block));
    this.#decoder.setRate(rate || hello.rateHz);
    this.#decoder.reset();
    this.#acceptSamples = true;
    await this.#cmd.command(FrameType.START, 'START', (id) => this.#cmd.writer.start(id));
  }

  #onHello(h: Hello): void {
    if (this.#ready && h.bootId !== this.#bootId) {
      // The device rebooted under an open port: it no longer streams; start over (the
      // next handshake sees the new boot id and reports the reset).
      this.#lost(new ReflexError('E_DEVICE_RESET', `device on ${this.#o.path} reset (boot_id ${hex(this.#bootId)} -> ${hex(h.bootId)}); reconnecting`));
      return;
    }
    this.#lastHello = h;
    this.#cmd.onHello(h);
  }

  /** The current connection ended (port closed, stall, failure, stop). Idempotent per connection. */
  #lost(err: ReflexError): void {
    const end = this.#endSession;
    if (!end) return;
    this.#endSession = null;
    this.#gen++;
    if (this.#ready) {
      this.#counters.inc('connections_lost');
      if (this.#now() - this.#streamingSinceMs >= this.#o.healthyMs) this.#attempt = 0;
    }
    if (this.#everStreamed && !this.#outagePending) {
      this.#outagePending = true;
      this.#outageFromMs = Number.isFinite(this.#lastBlockMs) ? this.#lastBlockMs : this.#now();
    }
    this.#ready = false;
    this.#acceptSamples = false;
    const port = this.#port;
    this.#port = null;
    this.#cmd.detach(err);
    if (port?.isOpen) {
      port.close().catch((e: unknown) => this.#log.warn(`firmware-bridge: closing ${this.#o.path} failed: ${String(e)}`));
    }
    end(err);
  }

  // ---- timers ----

  #armStall(gen: number): void {
    const period = Math.max(1, Math.min(250, this.#o.stallMs / 4));
    const check = (): void => {
      if (gen !== this.#gen) return;
      const silent = this.#now() - this.#lastByteMs;
      if (silent > this.#o.stallMs) {
        this.#counters.inc('stalls');
        this.#lost(new ReflexError(BridgeErrorCodes.stall, `no bytes from ${this.#o.path} for ${Math.round(silent)} ms (stall timeout ${this.#o.stallMs} ms): reconnecting`));
        return;
      }
      this.#t.setTimeout(check, period);
    };
    this.#t.setTimeout(check, period);
  }

  #armPing(gen: number): void {
    if (this.#o.pingIntervalMs <= 0) return;
    const tick = (): void => {
      if (gen !== this.#gen) return;
      const sendMs = this.#now();
      const id = this.#pings.next(sendMs);
      this.#counters.inc('pings');
      // The host token carries the send time in µs, as the protocol suggests; matching uses ping_id.
      this.#cmd.write(this.#cmd.writer.ping(id, Math.max(0, Math.round(sendMs * 1000))).slice()).catch(() => undefined /* counted in #write; the close handler reconnects */);
      this.#t.setTimeout(tick, this.#o.pingIntervalMs);
    };
    tick();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#t.setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#t.clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  // ---- reporting ----

  #setState(s: LinkState): void {
    const port = this.#port;
    this.#setActFd(s === 'streaming' && port && port.isOpen && isFdPort(port) ? port.fd : -1);
    if (s === this.#state) return;
    this.#state = s;
    this.emit('state', s);
  }

  #emitGap(g: ReturnType<typeof linkGap>): void {
    this.#counters.inc('gaps');
    this.emit('gap', g);
  }

  #failStart(err: Error): void {
    const s = this.#start;
    if (!s) return;
    this.#start = null;
    s.reject(err);
  }

  #report(err: ReflexError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.#log.limited('warn', `bridge-link.${err.code}`, `firmware-bridge ${this.#o.path}: ${err.message}`);
  }
}

/** Duck-typed so the link does not load serialport: fakes have no fd. */
function isFdPort(port: SerialPortLike): port is FdSerialPort {
  return typeof (port as Partial<FdSerialPort>).onFdClosing === 'function' && typeof (port as Partial<FdSerialPort>).fd === 'number';
}

function asReflexError(err: unknown): ReflexError {
  if (err instanceof ReflexError) return err;
  return new ReflexError('E_BRIDGE', err instanceof Error ? err.message : String(err), { cause: err });
}

function hex(v: number | null): string {
  return v === null ? '?' : `0x${v.toString(16).padStart(8, '0')}`;
}

