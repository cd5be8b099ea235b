/**
 * Opens a board's EMG source and gives the runtime one shape for all of them:
 * clock-mapped sample blocks, an optional tracker feed on the same device clock, an
 * optional actuator sink (the firmware bridge's ACTUATE), and counters.
 */
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BridgeActuateEntry, BridgeActuatorSink } from '../actuate/bridge.js';
import type { BoardDef } from '../boards/types.js';
import type { SampleBlock } from '../core/block.js';
import type { Logger } from '../core/log.js';
import { BridgeLink, type LinkGap } from '../devices/bridge-link.js';
import { CytonDevice } from '../devices/cyton/device.js';
import { startSimFirmware, type SimFirmware } from '../devices/sim-firmware.js';
import { attachBridgeClock, BridgeTracker } from '../devices/tracker-bridge.js';
import type { TrackerFeed } from '../devices/tracker-types.js';
import { openNodeSerial } from '../hal/serial-node.js';
import type { SerialOpener } from '../hal/serial.js';
import { ClockModel } from '../time/clock-model.js';

export interface SourceEvents {
  /** A clock-mapped block; valid only during the event. */
  samples: [block: SampleBlock, arrivalMs: number];
  /** A gap in the stream with its span (lost frames, outage, device reset). */
  gap: [gap: { cause: string; missingSamples: number; hostSpanMs: number; deviceReset: boolean }];
  state: [state: string];
}

export interface Source extends EventEmitter<SourceEvents> {
  readonly kind: string;
  readonly clock: ClockModel;
  readonly tracker: TrackerFeed | null;
  /** Where bridge actuators send their ACTUATE commands (null: the source has no actuators). */
  readonly actuatorSink: BridgeActuatorSink | null;
  /**
   * The serial fd the loop worker may write ACTUATE frames to (-1 while not streaming);
   * absent when the source cannot offer one. See BridgeLink.onActuatorFd.
   */
  onActuatorFd?(listener: (fd: number) => void): () => void;
  /** Extra detail for status: the pty of the simulated board, the device's HELLO... */
  describe(): Record<string, string | number>;
  start(): Promise<void>;
  /** Stop streaming but keep the device open (control "stop"). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  counters(): Record<string, number>;
}

export interface SourceOptions {
  log: Logger;
  /** Serial backend; the real one unless a test injects the fake. */
  open?: SerialOpener;
}

export async function openSource(board: BoardDef, opts: SourceOptions): Promise<Source> {
  const src = board.source;
  if (src.kind === 'cyton') return new CytonSource(board, opts);
  let fw: SimFirmware | null = null;
  let path: string;
  if (src.transport === 'sim') {
    fw = await startSimFirmware({
      rate: src.rate,
      channels: src.channels,
      ...(src.blockSamples !== undefined && { block: src.blockSamples }),
      // A stable path like /dev/serial/by-id: the link reopens it after a simulated unplug.
      link: join(tmpdir(), `reflex-sim-${process.pid}-${Date.now()}`),
      ...(src.firmwareArgs && { extraArgs: src.firmwareArgs }),
    });
    path = fw.linkPath ?? fw.path;
  } else {
    path = src.path;
  }
  return new BridgeSource(board, path, fw, opts);
}

class BridgeSource extends EventEmitter<SourceEvents> implements Source {
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

class CytonSource extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'cyton';
  readonly clock = new ClockModel();
  readonly tracker = null;
  readonly actuatorSink = null;
  readonly #dev: CytonDevice;

  constructor(board: BoardDef, opts: SourceOptions) {
    super();
    const src = board.source as Extract<BoardDef['source'], { kind: 'cyton' }>;
    this.#dev = new CytonDevice({
      open: opts.open ?? openNodeSerial,
      path: src.path,
      ...(src.baudRate !== undefined && { baudRate: src.baudRate }),
      ...(src.gain !== undefined && { gain: src.gain }),
      logger: opts.log,
    });
    // The Cyton's device time is its sample counter (docs/cyton.md): the model maps it from arrivals.
    this.#dev.on('samples', (block, arrivalMs) => {
      this.clock.ingestBlock(block, arrivalMs);
      this.emit('samples', block, arrivalMs);
    });
    this.#dev.on('gap', (g) => {
      this.emit('gap', { cause: 'outage', missingSamples: g.missingSamples, hostSpanMs: Number.NaN, deviceReset: false });
    });
    this.#dev.on('state', (s) => this.emit('state', s));
  }

  describe(): Record<string, string | number> {
    return { device: 'OpenBCI Cyton', state: this.#dev.state };
  }
  start(): Promise<void> {
    return this.#dev.start();
  }
  pause(): Promise<void> {
    return this.#dev.stop();
  }
  resume(): Promise<void> {
    return this.#dev.start();
  }
  stop(): Promise<void> {
    return this.#dev.stop();
  }
  counters(): Record<string, number> {
    return { ...this.#dev.counters };
  }
}
