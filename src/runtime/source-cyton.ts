/** An OpenBCI Cyton on a serial port as a Source. */
import { EventEmitter } from 'node:events';
import type { BoardDef } from '../boards/types.js';
import { CYTON_COUNTER_KEYS, CytonDevice, type CytonDeviceCounterKey, type CytonState } from '../devices/cyton/device.js';
import type { CytonGapEvent } from '../devices/cyton/events.js';
import { CYTON_CHANNELS, DAISY_CHANNELS } from '../devices/cyton/format.js';
import { openNodeSerial } from '../hal/serial-node.js';
import { ClockModel } from '../time/clock-model.js';
import type { Source, SourceDevice, SourceEvents, SourceGap, SourceOptions } from './source.js';

/** A Cyton gap as the runtime sees it: every SourceGap field known, plus the host arrivals either side. */
export interface CytonSourceGap extends SourceGap {
  /** 'dropped': the packet counter jumped within a connection; 'outage': the link was lost or went silent. */
  cause: 'dropped' | 'outage';
  missingSamples: number;
  /** Missing samples (a Cyton packet carries one sample; with a Daisy, a sample is a pair of packets). */
  missingFrames: number;
  hostFromMs: number;
  hostToMs: number;
  hostSpanMs: number;
  deviceSpanUs: number;
  /** Raw u8 sample numbers either side (NaN for outages). */
  fromSeq: number;
  toSeq: number;
  /** After an outage the board was soft-reset (`v`): its own sample number started over. */
  deviceReset: boolean;
  /** The device's reason: 'dropped', 'outage' (port lost) or 'stall' (silence). */
  reason: CytonGapEvent['reason'];
}

export function cytonSourceGap(g: CytonGapEvent): CytonSourceGap {
  return {
    cause: g.reason === 'dropped' ? 'dropped' : 'outage',
    missingSamples: g.missingSamples,
    missingFrames: g.missingSamples,
    hostFromMs: g.hostFromMs,
    hostToMs: g.hostToMs,
    hostSpanMs: g.hostSpanMs,
    deviceSpanUs: g.deviceSpanUs,
    fromSeq: g.fromSeq,
    toSeq: g.toSeq,
    deviceReset: g.reason !== 'dropped',
    reason: g.reason,
  };
}

export class CytonSource extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'cyton';
  readonly clock = new ClockModel();
  readonly tracker = null;
  readonly actuatorSink = null;
  readonly #board: BoardDef;
  readonly #opts: SourceOptions;
  #dev: CytonDevice;
  /** Counts of devices retired by pause(): a CytonDevice is single-use, the source's counters are not. */
  readonly #retired = new Map<CytonDeviceCounterKey, number>();
  #lastState: { state: CytonState; detail: string } = { state: 'idle', detail: '' };
  /** Samples delivered (16-channel ones with a Daisy), over every device this source has had. */
  #samples = 0;

  constructor(board: BoardDef, opts: SourceOptions) {
    super();
    this.#board = board;
    this.#opts = opts;
    this.#dev = this.#makeDevice();
  }

  #makeDevice(): CytonDevice {
    const src = this.#board.source as Extract<BoardDef['source'], { kind: 'cyton' }>;
    const dev = new CytonDevice({
      open: this.#opts.open ?? openNodeSerial,
      path: src.path,
      ...(src.baudRate !== undefined && { baudRate: src.baudRate }),
      ...(src.gain !== undefined && { gain: src.gain }),
      ...(src.daisy === true && { channels: DAISY_CHANNELS }),
      logger: this.#opts.log,
    });
    // The Cyton's device time is its sample counter (docs/cyton.md): the model maps it from arrivals.
    dev.on('samples', (block, arrivalMs) => {
      this.#samples += block.samples;
      this.clock.ingestBlock(block, arrivalMs);
      this.emit('samples', block, arrivalMs);
    });
    dev.on('gap', (g) => this.emit('gap', cytonSourceGap(g)));
    dev.on('state', (s, detail) => {
      this.#lastState = { state: s, detail };
      const c = dev.connection;
      // A reconnect says why (the device's detail); other states' detail is only the path.
      this.emit('state', s, {
        attempts: c.attempts,
        ...(s === 'reconnecting' && { reason: detail }),
        ...(s === 'reconnecting' && c.lastError && { code: c.lastError.code }),
      });
    });
    return dev;
  }

  /** The latest state and the device's reason for it (the path, or why it is reconnecting). */
  get lastState(): { state: CytonState; detail: string } {
    return this.#lastState;
  }

  /** The same keys as the bridge's (link, link_attempts, last_error...), so `status` reads alike for both. */
  describe(): Record<string, string | number> {
    const c = this.#dev.connection;
    const src = this.#board.source as Extract<BoardDef['source'], { kind: 'cyton' }>;
    const firmware = /Firmware:\s*(\S+)/.exec(this.#dev.resetReply)?.[1];
    return {
      device: this.#name(),
      path: src.path,
      ...(firmware && { firmware }),
      link: c.state,
      link_since_ms: c.sinceMs,
      link_attempts: c.attempts,
      ...(c.lastError && { last_error: c.lastError.message, last_error_code: c.lastError.code, last_error_ms: c.lastError.atMs }),
    };
  }

  /** After the board's reply to `v`: 8 channels, or 16 with a Daisy (board file `source.daisy`); no actuators. */
  device(): SourceDevice | null {
    return this.#dev.resetReply ? { name: this.#name(), maxChannels: this.#daisy() ? DAISY_CHANNELS : CYTON_CHANNELS, actuatorChannels: 0 } : null;
  }

  #daisy(): boolean {
    return (this.#board.source as Extract<BoardDef['source'], { kind: 'cyton' }>).daisy === true;
  }

  #name(): string {
    return this.#daisy() ? 'OpenBCI Cyton + Daisy' : 'OpenBCI Cyton';
  }

  start(): Promise<void> {
    return this.#dev.start();
  }

  async pause(): Promise<void> {
    await this.#dev.stop();
  }

  /** A stopped CytonDevice cannot start again: a new one takes over, its counts added to the old ones'. */
  resume(): Promise<void> {
    if (this.#dev.state === 'stopped') {
      for (const k of CYTON_COUNTER_KEYS) this.#retired.set(k, (this.#retired.get(k) ?? 0) + this.#dev.counters.get(k));
      this.#dev.removeAllListeners();
      this.#dev = this.#makeDevice();
    }
    return this.#dev.start();
  }

  stop(): Promise<void> {
    return this.#dev.stop();
  }

  /** Every device counter (0 when nothing happened), plus `samples`: samples delivered (one per packet; with a Daisy one per pair). */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of CYTON_COUNTER_KEYS) out[k] = (this.#retired.get(k) ?? 0) + this.#dev.counters.get(k);
    out.samples = this.#samples;
    return out;
  }
}
