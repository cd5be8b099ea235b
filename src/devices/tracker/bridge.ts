/**
 * Adapters between a BridgeLink and the timing layer:
 * - `attachBridgeClock`: keeps the device's clock model fitted from the link's SAMPLES arrivals
 *   and PING/PONG round trips, re-seeds it on a device reset, and maps every block before any
 *   other 'samples' listener sees it;
 * - `BridgeTracker`: the TRACKER frames (docs/protocol.md, section 3) as a tracker feed. They are
 *   stamped on the same device clock as SAMPLES, so the same model maps them.
 */
import type { EventEmitter } from 'node:events';
import type { SampleBlock } from '../../core/block.js';
import { Listeners } from '../../core/listeners.js';
import type { ClockModel, ClockStatus } from '../../time/clock-model.js';
import type { BridgeLinkEvents, DeviceReset, PongSample, TrackerSample as BridgeTrackerFrame } from '../bridge/link-types.js';
import type { TrackerFeed, TrackerListener, TrackerSample, TrackerTimeBase } from './types.js';

/** What the adapters need from a BridgeLink: its events. */
export type BridgeEventSource = Pick<EventEmitter<BridgeLinkEvents>, 'on' | 'off' | 'prependListener'>;

/**
 * Feed `model` from `link` and map every block in place (`hostTimeMs`, `hostPeriodMs`; NaN when
 * the block's timestamp is rejected). Registered first, so later 'samples' listeners see mapped
 * blocks. Returns a function that detaches.
 */
export function attachBridgeClock(link: BridgeEventSource, model: ClockModel): () => void {
  const onSamples = (block: SampleBlock, arrivalMs: number): void => {
    model.ingestBlock(block, arrivalMs);
  };
  const onPong = (p: PongSample): void => {
    model.observeRoundTrip(p.hostSendMs, p.deviceRxUs, p.deviceTxUs, p.hostRecvMs);
  };
  const onReset = (_r: DeviceReset): void => model.reseed();
  link.prependListener('samples', onSamples);
  link.on('pong', onPong);
  link.on('reset', onReset);
  return () => {
    link.off('samples', onSamples);
    link.off('pong', onPong);
    link.off('reset', onReset);
  };
}

export interface BridgeTrackerOptions {
  name?: string;
  dims: number;
}

export class BridgeTracker implements TrackerFeed {
  readonly name: string;
  readonly dims: number;
  readonly #source: BridgeEventSource;
  readonly #clock: ClockModel;
  readonly #listeners = new Listeners<TrackerSample>();
  readonly #sample: TrackerSample;
  readonly #counts = { samples: 0, unmapped: 0, badDims: 0 };
  readonly #onFrame = (frame: BridgeTrackerFrame, _arrivalMs: number): void => this.#frame(frame);

  constructor(source: BridgeEventSource, clock: ClockModel, opts: BridgeTrackerOptions) {
    if (!Number.isInteger(opts.dims) || opts.dims < 1 || opts.dims > 32) throw new RangeError('"dims" must be an integer in 1..32 (protocol limit)');
    this.name = opts.name ?? 'bridge-tracker';
    this.dims = opts.dims;
    this.#source = source;
    this.#clock = clock;
    this.#sample = { hostTimeMs: Number.NaN, values: new Float32Array(opts.dims), valid: false, seq: 0 };
    source.on('tracker', this.#onFrame);
  }

  onSample(listener: TrackerListener): () => void {
    return this.#listeners.add(listener);
  }

  counters(): Record<string, number> {
    return { ...this.#counts };
  }

  clockStatus(): ClockStatus | null {
    return this.#clock.status();
  }

  /** Stamped on the board's device clock, mapped by the EMG stream's model. */
  timeBase(): TrackerTimeBase | null {
    return this.#counts.samples > 0 ? 'device' : null;
  }

  /** Detach from the link (the link itself belongs to its owner). */
  close(): Promise<void> {
    this.#source.off('tracker', this.#onFrame);
    return Promise.resolve();
  }

  #frame(frame: BridgeTrackerFrame): void {
    if (frame.values.length !== this.dims) {
      this.#counts.badDims++;
      return;
    }
    const t = this.#clock.mapTrusted(frame.deviceTimeUs);
    if (Number.isNaN(t)) {
      // No mapping yet (no SAMPLES seen since the last reset), or one under suspicion.
      this.#counts.unmapped++;
      return;
    }
    const s = this.#sample;
    s.hostTimeMs = t;
    s.seq = frame.seq;
    s.valid = true;
    for (let d = 0; d < this.dims; d++) {
      const v = frame.values[d]!;
      s.values[d] = v;
      if (!Number.isFinite(v)) s.valid = false;
    }
    this.#counts.samples++;
    this.#listeners.emit(s);
  }
}
