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
 *
 * This file is the connection lifecycle; the parts live beside it in devices/bridge/: link-inbox
 * (incoming frames), link-watchdog (stall check, PINGs), link-continuity (gaps, resets),
 * link-backoff (reconnect pacing), link-commands, commander and replies (commands and their
 * replies), actuator-fd.
 */
import { EventEmitter } from 'node:events';
import { Counters } from '../../core/counters.js';
import { DisconnectedError, ReflexError } from '../../core/errors.js';
import { Logger } from '../../core/log.js';
import { monotonicMs } from '../../time/monotonic.js';
import { BridgeErrorCodes } from '../../bridge/errors.js';
import { PROTO_MAJOR, type ActuateEntry, type FaultKindName, type Hello } from '../../bridge/frames.js';
import type { SerialPortLike } from '../../hal/serial.js';
import { ActuatorFdPublisher } from './actuator-fd.js';
import { BridgeCommander } from './commander.js';
import { ReconnectBackoff } from './link-backoff.js';
import { sendActuate, sendConfig, sendFault, sendStart, sendStop } from './link-commands.js';
import { StreamContinuity } from './link-continuity.js';
import { LinkInbox } from './link-inbox.js';
import { defaultTimers, resolveLinkOptions, type ResolvedLinkOptions } from './link-options.js';
import type { BridgeLinkEvents, BridgeLinkOptions, LinkConnection, LinkCounterKey, LinkCounters, LinkError, LinkState, LinkTimers } from './link-types.js';
import { asReflexError, hex, isConfigFatal, versionError } from './link-util.js';
import { LinkWatchdog } from './link-watchdog.js';
import { PingBook } from './replies.js';
import { BridgeLinkCodes } from './codes.js';

export * from './link-types.js';

export class BridgeLink extends EventEmitter<BridgeLinkEvents> {
  readonly #o: ResolvedLinkOptions;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #cmd: BridgeCommander;
  readonly #counters = new Counters<LinkCounterKey>();
  readonly #backoff: ReconnectBackoff;
  readonly #continuity: StreamContinuity;
  readonly #watchdog: LinkWatchdog;
  readonly #inbox: LinkInbox;
  readonly #actFd = new ActuatorFdPublisher();
  readonly #timers: LinkTimers;

  #state: LinkState = 'stopped';
  #stateSinceMs: number;
  #lastError: LinkError | null = null;
  #running = false;
  #loopDone: Promise<void> = Promise.resolve();
  #start: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;
  #stopping: Promise<void> | null = null;
  /** Settles when stop() is called: an open() still pending is abandoned then. */
  #stopped: Promise<null> = Promise.resolve(null);
  #signalStop: () => void = () => undefined;

  // The current connection; `#gen` changes whenever one ends, so stale callbacks can tell.
  #gen = 0;
  #port: SerialPortLike | null = null;
  #endSession: ((err: ReflexError) => void) | null = null;
  #ready = false;
  #streamingSinceMs = 0;
  #lastHello: Hello | null = null;
  /** Until the first streaming after start(), a refused configuration ends the link. */
  #configFatal = true;
  /** Connection attempts since start(): the first is 'connecting', later ones 'reconnecting'. */
  #sessions = 0;

  constructor(opts: BridgeLinkOptions) {
    super();
    this.#o = resolveLinkOptions(opts);
    this.#now = opts.now ?? monotonicMs;
    const timers = (this.#timers = opts.timers ?? defaultTimers);
    this.#stateSinceMs = this.#now();
    this.#log = opts.logger ?? new Logger();
    this.#cmd = new BridgeCommander(this.#o, timers, this.#counters);
    this.#backoff = new ReconnectBackoff(this.#o, timers);
    this.#continuity = new StreamContinuity(this, this.#counters, this.#now);
    const pings = new PingBook();
    const isCurrent = (gen: number): boolean => gen === this.#gen;
    const common = { now: this.#now, counters: this.#counters, cmd: this.#cmd, pings, isCurrent };
    this.#watchdog = new LinkWatchdog(this.#o, { ...common, timers, lost: (err) => this.#lost(err) });
    this.#inbox = new LinkInbox(
      {
        ...common,
        events: this,
        continuity: this.#continuity,
        watchdog: this.#watchdog,
        logger: this.#log,
        streaming: () => this.#streaming(),
        hello: (h) => this.#onHello(h),
        report: (err) => this.#report(err),
      },
      this.#o.rate,
    );
  }

  get state(): LinkState {
    return this.#state;
  }

  /**
   * Where the link stands: state and since when, connection attempts since start(), and
   * the last reason a connection failed (for `status` while it is still trying).
   */
  connection(): LinkConnection {
    return { state: this.#state, sinceMs: this.#stateSinceMs, attempts: this.#sessions, lastError: this.#lastError };
  }

  /** The last HELLO of the current device, or null before the first. */
  get hello(): Hello | null {
    return this.#lastHello;
  }

  /**
   * Start (or keep) the link running. Resolves once streaming; rejects if, before that,
   * the device refuses the configuration or speaks another protocol major (E_BAD_VERSION,
   * E_DEVICE_*: retrying cannot help), or if stop() comes first (E_STOPPED). Transport
   * failures never reject: the link keeps reconnecting and reports them as 'error' events
   * (and `connection().lastError`). Once it has streamed, the same refusals after a
   * reconnect are reported and retried. stop() ends a pending start() at any point (while
   * opening the port, in the handshake, between attempts) with E_STOPPED, without waiting
   * for any device timeout.
   */
  start(): Promise<void> {
    if (this.#start) return this.#start.promise;
    if (this.#stopping) {
      // A start() during a stop() runs after it, so the two never share a connection.
      const after = this.#stopping.then(() => this.start());
      return after;
    }
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
    this.#lastError = null;
    this.#stopped = new Promise<null>((resolve) => (this.#signalStop = () => resolve(null)));
    this.#backoff.reset();
    // After a stop(), the previous loop may still be winding down: run after it.
    this.#loopDone = this.#loopDone.then(() => this.#loop());
    return promise;
  }

  /**
   * Stop streaming (STOP, waiting at most stopAckMs for its ACK), close the port and stop
   * reconnecting. Works in every state; concurrent calls share one stop.
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (!this.#running) return Promise.resolve();
    this.#stopping = this.#stop().finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#running = false;
    this.#signalStop();
    this.#backoff.wake();
    // A pending start() learns at once; the STOP below is a courtesy to the device.
    this.#failStart(new ReflexError(BridgeErrorCodes.stopped, `link to ${this.#o.path} stopped before it streamed`));
    if (this.#ready && this.#port?.isOpen) {
      try {
        await this.#within(sendStop(this.#cmd), this.#o.stopAckMs, 'STOP');
      } catch (err) {
        this.#log.warn(`firmware-bridge: STOP on shutdown not acknowledged (${(err as Error).message}); closing anyway`);
      }
    }
    this.#lost(new ReflexError(BridgeErrorCodes.stopped, 'link stopped'));
    this.#continuity.forgetOutage();
    await this.#loopDone;
    this.#setState('stopped');
  }

  /** `p`, or E_TIMEOUT after `ms` (p's own outcome is still observed). */
  #within<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
    let timer: unknown;
    const late = new Promise<never>((_, reject) => {
      timer = this.#timers.setTimeout(() => reject(new ReflexError(BridgeErrorCodes.timeout, `no reply to ${label} within ${ms} ms`)), ms);
    });
    return Promise.race([p, late]).finally(() => this.#timers.clearTimeout(timer));
  }

  /** Set actuator outputs; resolves on the device's ACK (ERROR BAD_ARG moves nothing). */
  actuate(entries: readonly ActuateEntry[]): Promise<void> {
    return sendActuate(this.#cmd, entries);
  }

  /**
   * The serial port's file descriptor for writers on other threads (the loop worker's
   * ACTUATE frames), and -1 whenever it must not be written: not streaming, or about to
   * be closed (called synchronously before the close, see FdSerialPort). Called at once
   * with the current value. Ports without an fd (fakes, other platforms) only ever give -1.
   */
  onActuatorFd(listener: (fd: number) => void): () => void {
    return this.#actFd.subscribe(listener);
  }

  /** Inject a fault (simulating devices only; others answer ERROR UNSUPPORTED). */
  fault(kind: FaultKindName | number, param: number): Promise<void> {
    return sendFault(this.#cmd, kind, param);
  }

  counters(): LinkCounters {
    const d = this.#inbox.decoder.stats();
    return {
      state: this.#state,
      frames: d.frames,
      samplesFrames: d.samplesFrames,
      samples: d.samples,
      bytes: d.bytes,
      decoder: d.counters,
      link: this.#counters.snapshot(),
    };
  }

  // ---- connection loop ----

  async #loop(): Promise<void> {
    while (this.#running) {
      const err = await this.#session();
      if (!this.#running) break;
      this.#lastError = { code: err.code, message: err.message, atMs: this.#now() };
      if (isConfigFatal(err) && this.#configFatal) {
        this.#running = false;
        this.#failStart(err);
        break;
      }
      this.#report(err);
      const delay = this.#backoff.next();
      this.#counters.inc('reconnects');
      this.#setState('reconnecting');
      await this.#backoff.sleep(delay);
    }
    this.#setState('stopped');
  }

  /** One connection, from open to loss; returns why it ended. */
  async #session(): Promise<ReflexError> {
    this.#setState(this.#sessions++ > 0 ? 'reconnecting' : 'connecting');
    this.#counters.inc('connect_attempts');
    // An open() can hang (a device node that never answers): stop() must not wait for it.
    const opening = this.#o.open({ path: this.#o.path, baudRate: this.#o.baudRate }).then(
      (port) => ({ port }),
      (err: unknown) => ({ err }),
    );
    const opened = await Promise.race([opening, this.#stopped]);
    if (opened === null || !this.#running) {
      void opening
        .then((o) => ('port' in o ? o.port.close() : undefined))
        .catch((e: unknown) => this.#log.warn(`firmware-bridge: closing ${this.#o.path} after stop failed: ${String(e)}`));
      return new ReflexError(BridgeErrorCodes.stopped, 'link stopped');
    }
    if ('err' in opened) {
      this.#counters.inc('open_failures');
      return asReflexError(opened.err);
    }
    const port = opened.port;
    const gen = ++this.#gen;
    this.#counters.inc('connects');
    this.#port = port;
    this.#cmd.attach(port);
    this.#actFd.watch(port);
    this.#ready = false;
    this.#inbox.begin();
    this.#watchdog.lastByteMs = this.#now();
    const ended = new Promise<ReflexError>((resolve) => (this.#endSession = resolve));
    port.onData((chunk) => this.#inbox.feed(chunk, gen));
    port.onClose((err) => {
      if (gen === this.#gen)
        this.#lost(
          err instanceof ReflexError ? err : new DisconnectedError(`serial port ${this.#o.path} closed${err ? `: ${err.message}` : ''}`, { cause: err }),
        );
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
    this.#continuity.streamed();
    this.#configFatal = false;
    this.#streamingSinceMs = this.#now();
    this.#setState('streaming');
    this.#start?.resolve();
    this.#watchdog.arm(gen, this.#streamingSinceMs);
  }

  async #handshake(): Promise<void> {
    const hello = await this.#cmd.awaitHello();
    if (hello.protoMajor !== PROTO_MAJOR) throw versionError(hello.protoMajor, hello.protoMinor);
    this.#continuity.identify(hello.bootId);
    this.emit('hello', hello);
    await sendStop(this.#cmd);
    const { rate, channels, block } = this.#o;
    if (rate || channels || block) await sendConfig(this.#cmd, rate, channels, block);
    this.#inbox.accept(rate || hello.rateHz);
    await sendStart(this.#cmd);
  }

  #onHello(h: Hello): void {
    const bootId = this.#continuity.bootId;
    if (this.#ready && h.bootId !== bootId) {
      // The device rebooted under an open port: it no longer streams; start over (the
      // next handshake sees the new boot id and reports the reset).
      this.#lost(new ReflexError(BridgeLinkCodes.deviceReset, `device on ${this.#o.path} reset (boot_id ${hex(bootId)} -> ${hex(h.bootId)}); reconnecting`));
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
      this.#backoff.ended(this.#now() - this.#streamingSinceMs);
    }
    this.#continuity.lost();
    this.#ready = false;
    this.#inbox.refuse();
    const port = this.#port;
    this.#port = null;
    this.#cmd.detach(err);
    if (port?.isOpen) {
      port.close().catch((e: unknown) => this.#log.warn(`firmware-bridge: closing ${this.#o.path} failed: ${String(e)}`));
    }
    end(err);
  }

  // ---- reporting ----

  #setState(s: LinkState): void {
    this.#actFd.update(s, this.#port);
    if (s === this.#state) return;
    this.#state = s;
    this.#stateSinceMs = this.#now();
    this.emit('state', s);
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
