/** The firmware bridge (a real device on a serial port, or the host build on a pseudo-terminal) as a Source. */
import { EventEmitter } from 'node:events';
import type { BridgeActuateEntry, BridgeActuatorSink } from '../actuate/bridge.js';
import type { BoardDef } from '../boards/types.js';
import type { Logger } from '../core/log.js';
import { BridgeLink, type LinkGap } from '../devices/bridge-link.js';
import type { SimFirmware } from '../devices/sim-firmware.js';
import { attachBridgeClock, BridgeTracker } from '../devices/tracker-bridge.js';
import type { TrackerFeed } from '../devices/tracker-types.js';
import { openNodeSerial } from '../hal/serial-node.js';
import { ClockModel } from '../time/clock-model.js';
import type { Source, SourceEvents, SourceOptions } from './source.js';

export class BridgeSource extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'bridge';
  readonly clock = new ClockModel();
  readonly tracker: TrackerFeed | null;
  readonly actuatorSink: BridgeActuatorSink;
  readonly #link: BridgeLink;
  readonly #fw: SimFirmware | null;
  readonly #log: Logger;
  #actuateErrors = 0;
  #pending = false;
  #next: BridgeActuateEntry[] | null = null;

  constructor(board: BoardDef, path: string, fw: SimFirmware | null, opts: SourceOptions) {
    super();
    const src = board.source as Extract<BoardDef['source'], { kind: 'bridge' }>;
    this.#fw = fw;
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
      this.emit('gap', { cause: g.cause, missingSamples: g.missingSamples, hostSpanMs: g.hostSpanMs, deviceReset: g.deviceReset }),
    );
    this.#link.on('state', (s) => this.emit('state', s));
    this.#link.on('error', (err) => this.#log.limited('warn', `link.${err.code}`, `bridge: ${err.message} [${err.code}]`));
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
  }

  onActuatorFd(listener: (fd: number) => void): () => void {
    return this.#link.onActuatorFd(listener);
  }

  describe(): Record<string, string | number> {
    const h = this.#link.hello;
    return {
      ...(this.#fw && { firmware: 'host build (simulated)', pty: this.#fw.path }),
      ...(h && { device: h.name, protocol: `${h.protoMajor}.${h.protoMinor}`, rate_hz: h.rateHz, channels: h.channels }),
      link: this.#link.state,
    };
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

  async stop(): Promise<void> {
    await this.#link.stop();
    await this.tracker?.close();
    if (this.#fw) await this.#fw.stop();
  }

  counters(): Record<string, number> {
    const c = this.#link.counters();
    const out: Record<string, number> = { frames: c.frames, samples: c.samples, bytes: c.bytes, actuate_errors: this.#actuateErrors };
    for (const [k, v] of Object.entries(c.decoder)) out[`decoder.${k}`] = v;
    for (const [k, v] of Object.entries(c.link)) out[`link.${k}`] = v;
    return out;
  }
}
