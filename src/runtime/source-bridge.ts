/**
 * The firmware bridge (a real device on a serial port, or the supervised host build on a
 * pseudo-terminal) as a Source: link events become source events, the link's connection
 * state and the firmware's restarts reach `status` (describe) and `health` (counters).
 */
import { EventEmitter } from 'node:events';
import type { BridgeActuateEntry, BridgeActuatorSink } from '../actuate/bridge.js';
import type { BoardDef } from '../boards/types.js';
import type { Logger } from '../core/log.js';
import { BAD_KINDS } from '../bridge/frames.js';
import { BridgeLink, type LinkCounterKey, type LinkGap } from '../devices/bridge/link.js';
import type { SimFirmwareSupervisor, SupervisorCounters } from '../devices/sim/firmware-supervisor.js';
import { attachBridgeClock, BridgeTracker } from '../devices/tracker/bridge.js';
import type { TrackerFeed } from '../devices/tracker/types.js';
import { openNodeSerial } from '../hal/serial-node.js';
import { ClockModel } from '../time/clock-model.js';
import type { Source, SourceDevice, SourceEvents, SourceOptions, SourceStateDetail } from './source.js';

/**
 * Counters reported from the start, at 0, so `health` and `status` always carry the same
 * keys (a subscriber can tell "none yet" from "not counted").
 */
/** Longest wait at stop for an ACTUATE in flight (its ACK or ERROR): about ten round trips on USB serial. */
const ACTUATE_SETTLE_MS = 250;

const LINK_KEYS: readonly LinkCounterKey[] = [
  'connect_attempts',
  'connects',
  'open_failures',
  'connections_lost',
  'reconnects',
  'stalls',
  'hello_timeouts',
  'command_timeouts',
  'device_errors',
  'device_reports',
  'unmatched_replies',
  'pings',
  'pongs',
  'pongs_unmatched',
  'write_errors',
  'samples_before_start',
  'device_resets',
  'outages',
  'gaps',
  'loop_acks',
  'loop_errors',
];
const DECODER_KEYS: readonly string[] = [...BAD_KINDS, 'gaps', 'restarts', 'missing_frames', 'missing_samples', 'hello_foreign'];

export class BridgeSource extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'bridge';
  readonly clock = new ClockModel();
  readonly tracker: TrackerFeed | null;
  readonly actuatorSink: BridgeActuatorSink;
  readonly #link: BridgeLink;
  readonly #path: string;
  readonly #sim: SimFirmwareSupervisor | null;
  readonly #log: Logger;
  #actuateErrors = 0;
  #pending = false;
  #next: BridgeActuateEntry[] | null = null;
  /** Set while stop() waits for the last ACTUATE to finish. */
  #idle: (() => void) | null = null;

  /** `sim`: the supervised host firmware behind `path` (the simulated board), else null. */
  constructor(board: BoardDef, path: string, sim: SimFirmwareSupervisor | null, opts: SourceOptions) {
    super();
    const src = board.source as Extract<BoardDef['source'], { kind: 'bridge' }>;
    this.#path = path;
    this.#sim = sim;
    this.#log = opts.log;
    this.#link = new BridgeLink({
      open: opts.open ?? openNodeSerial,
      path,
      rate: src.rate,
      channels: src.channels,
      ...(src.blockSamples !== undefined && { block: src.blockSamples }),
      ...('baudRate' in src && src.baudRate !== undefined && { baudRate: src.baudRate }),
      logger: opts.log,
    });
    attachBridgeClock(this.#link, this.clock);
    this.tracker = board.tracker ? new BridgeTracker(this.#link, this.clock, { name: 'tracker', dims: board.tracker.dims }) : null;
    this.#link.on('samples', (block, arrivalMs) => this.emit('samples', block, arrivalMs));
    this.#link.on('gap', (g: LinkGap) =>
      this.emit('gap', {
        cause: g.cause,
        missingSamples: g.missingSamples,
        hostSpanMs: g.hostSpanMs,
        deviceReset: g.deviceReset,
        missingFrames: g.missingFrames,
        fromSeq: g.fromSeq,
        toSeq: g.toSeq,
        deviceSpanUs: g.deviceSpanUs,
      }),
    );
    this.#link.on('state', (s) => this.emit('state', s, this.#stateDetail()));
    this.#link.on('error', (err) => this.#log.limited('warn', `link.${err.code}`, `bridge: ${err.message} [${err.code}]`));
    if (sim) this.#superviseFirmware(sim);
    // At most one ACTUATE in flight: the newest command replaces a queued one, so a slow
    // device sees the latest targets rather than a growing backlog.
    this.actuatorSink = { send: (entries) => this.#actuate(entries) };
  }

  #actuate(entries: readonly BridgeActuateEntry[]): void {
    if (this.#pending) {
      this.#next = entries.slice();
      return;
    }
    this.#pending = true;
    this.#link.actuate(entries).then(
      () => this.#actuateDone(),
      (err: Error) => {
        this.#actuateErrors++;
        this.#log.limited('warn', 'actuate', `bridge ACTUATE failed: ${err.message}`);
        this.#actuateDone();
      },
    );
  }

  #actuateDone(): void {
    this.#pending = false;
    const next = this.#next;
    this.#next = null;
    if (next) this.#actuate(next);
    else if (this.#idle) {
      const done = this.#idle;
      this.#idle = null;
      done();
    }
  }

  /**
   * Resolves once no ACTUATE is in flight or queued, or after `ms`. Stopping waits on it: the
   * safe values the runtime sent while stopping reach the device before STOP and the close,
   * rather than being cut off by them ("link stopped").
   */
  #actuateSettled(ms: number): Promise<void> {
    if (!this.#pending) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#idle = null;
        resolve();
      }, ms);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** The supervisor's news as source notices: the firmware died (an unplug), came back, or will not. */
  #superviseFirmware(sim: SimFirmwareSupervisor): void {
    sim.on('exit', (e) => {
      const how = e.signal ? `was killed (${e.signal})` : `exited with code ${e.code}`;
      const next = e.willRestart ? `restarting it in ${e.restartInMs} ms, as if the board were unplugged and plugged back` : 'not restarting it';
      this.emit('notice', {
        kind: 'firmware',
        level: 'warn',
        message: `simulated firmware (pid ${e.pid}) ${how}; ${next}`,
        data: {
          reason: 'firmware_exit',
          pid: e.pid,
          code: e.code ?? Number.NaN,
          signal: e.signal ?? '',
          link_removed: e.linkRemoved,
          will_restart: e.willRestart,
        },
      });
    });
    sim.on('restart', (r) => {
      this.emit('notice', {
        kind: 'firmware',
        level: 'info',
        message: `simulated firmware restarted (pid ${r.pid}, ${r.pty}) after ${Math.round(r.downMs)} ms down; restarts so far: ${r.restarts}`,
        data: { reason: 'firmware_restart', pid: r.pid, restarts: r.restarts, in_a_row: r.inARow, down_ms: r.downMs },
      });
    });
    sim.on('warning', (err) => this.#log.limited('warn', `sim.${err.code}`, `simulated firmware: ${err.message} [${err.code}]`));
    sim.on('failed', (err) => {
      this.emit('notice', { kind: 'firmware', level: 'error', message: err.message, data: { reason: 'firmware_gave_up', code: err.code } });
    });
  }

  #stateDetail(): SourceStateDetail {
    const c = this.#link.connection();
    return { attempts: c.attempts, ...(c.lastError && { reason: c.lastError.message, code: c.lastError.code }) };
  }

  onActuatorFd(listener: (fd: number) => void): () => void {
    return this.#link.onActuatorFd(listener);
  }

  /**
   * For `status`: path, the device's HELLO, and the link's state, since when (`link_since_ms`,
   * host monotonic ms), connection attempts since start and the last connection error.
   */
  describe(): Record<string, string | number> {
    const h = this.#link.hello;
    const c = this.#link.connection();
    const fw = this.#sim?.firmware;
    return {
      path: this.#path,
      ...(this.#sim && {
        firmware: 'host build (simulated)',
        pty: fw?.path ?? '(not running)',
        firmware_pid: fw?.pid ?? 0,
        firmware_restarts: this.#sim.counters().restarts,
      }),
      ...(h && { device: h.name, protocol: `${h.protoMajor}.${h.protoMinor}`, rate_hz: h.rateHz, channels: h.channels }),
      link: c.state,
      link_since_ms: c.sinceMs,
      link_attempts: c.attempts,
      ...(c.lastError && { last_error: c.lastError.message, last_error_code: c.lastError.code, last_error_ms: c.lastError.atMs }),
    };
  }

  device(): SourceDevice | null {
    const h = this.#link.hello;
    return h && { name: h.name, maxChannels: h.maxChannels, actuatorChannels: h.nActuators };
  }

  start(): Promise<void> {
    return this.#link.start();
  }

  async pause(): Promise<void> {
    await this.#link.stop();
  }

  async resume(): Promise<void> {
    await this.#link.start();
  }

  /** Ends the link in any state (a pending start() rejects with E_STOPPED), then the firmware. */
  async stop(): Promise<void> {
    await this.#actuateSettled(ACTUATE_SETTLE_MS);
    await this.#link.stop();
    await this.tracker?.close();
    if (this.#sim) await this.#sim.stop();
  }

  /**
   * Everything the link, its decoder and this source count: `frames`, `samples`, `bytes`,
   * `actuate_errors`, `decoder.<kind>`, `link.<key>` (connect attempts, reconnects, stalls...)
   * and, on the simulated board, `firmware.<exits|restarts|restart_failures|gave_up>`.
   */
  counters(): Record<string, number> {
    const c = this.#link.counters();
    const out: Record<string, number> = {
      frames: c.frames,
      samples_frames: c.samplesFrames,
      samples: c.samples,
      bytes: c.bytes,
      actuate_errors: this.#actuateErrors,
    };
    for (const k of DECODER_KEYS) out[`decoder.${k}`] = 0;
    for (const [k, v] of Object.entries(c.decoder)) out[`decoder.${k}`] = v;
    for (const k of LINK_KEYS) out[`link.${k}`] = 0;
    for (const [k, v] of Object.entries(c.link)) out[`link.${k}`] = v;
    if (this.#sim) {
      // As a Record, so Object.entries knows the values are numbers.
      const fw: Record<keyof SupervisorCounters, number> = this.#sim.counters();
      for (const [k, v] of Object.entries(fw)) out[`firmware.${k}`] = v;
    }
    return out;
  }
}
