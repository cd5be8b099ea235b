/**
 * Aligner: one bounded ring per stream, all on the host clock (CLOCK_MONOTONIC ms). EMG blocks
 * and tracker samples are pushed as they come (late and out of order allowed); the loop asks for
 * the EMG window ending at an instant and the tracker target at that instant. Memory is fixed at
 * construction; push and query allocate nothing.
 */
import type { SampleBlock } from '../core/block.js';
import { EmgRing, type EmgRingCounters } from './emg-ring.js';
import { TrackerRing, type TrackerRingCounters, type TrackerSampleLike } from './tracker-ring.js';

export interface AlignerOptions {
  /** History kept per stream, seconds (at least the longest window plus the loop's lag). */
  capacitySeconds: number;
}

export interface TrackerStreamOptions {
  dims: number;
  /** Highest sample rate the feed may reach, Hz; sizes the ring. Default 1000. */
  maxRateHz?: number;
  /** Interpolation never spans a gap wider than this, ms. Default 100. */
  maxGapMs?: number;
}

export interface AlignerCounters {
  emg: Record<string, EmgRingCounters>;
  tracker: Record<string, TrackerRingCounters>;
}

export class Aligner {
  readonly capacitySeconds: number;
  readonly #emg = new Map<string, EmgRing>();
  readonly #tracker = new Map<string, TrackerRing>();
  #defaultEmg: EmgRing | undefined;
  #defaultTracker: TrackerRing | undefined;

  constructor(opts: AlignerOptions) {
    if (!(opts.capacitySeconds > 0)) throw new RangeError('"capacitySeconds" must be > 0');
    this.capacitySeconds = opts.capacitySeconds;
  }

  /** Declare an EMG stream (the first one declared is the default for `window`). */
  addEmg(stream: string, opts: { channels: number; rate: number }): EmgRing {
    if (this.#emg.has(stream)) throw new RangeError(`EMG stream "${stream}" already added`);
    const ring = new EmgRing({ ...opts, capacitySeconds: this.capacitySeconds });
    this.#emg.set(stream, ring);
    this.#defaultEmg ??= ring;
    return ring;
  }

  /** Declare a tracker feed (the first one declared is the default for `target`). */
  addTracker(stream: string, opts: TrackerStreamOptions): TrackerRing {
    if (this.#tracker.has(stream)) throw new RangeError(`tracker stream "${stream}" already added`);
    const ring = new TrackerRing({
      dims: opts.dims,
      capacity: Math.max(2, Math.ceil(this.capacitySeconds * (opts.maxRateHz ?? 1000))),
      maxGapMs: opts.maxGapMs ?? 100,
    });
    this.#tracker.set(stream, ring);
    this.#defaultTracker ??= ring;
    return ring;
  }

  emg(stream: string): EmgRing {
    const r = this.#emg.get(stream);
    if (!r) throw new RangeError(`unknown EMG stream "${stream}": call addEmg("${stream}", ...) first`);
    return r;
  }

  tracker(stream: string): TrackerRing {
    const r = this.#tracker.get(stream);
    if (!r) throw new RangeError(`unknown tracker stream "${stream}": call addTracker("${stream}", ...) first`);
    return r;
  }

  /** Copy a clock-mapped block into its stream's ring (by `block.stream`). */
  pushBlock(block: SampleBlock): void {
    this.emg(block.stream).push(block);
  }

  /** Copy a clock-mapped tracker sample in; false if dropped (too old, no time). */
  pushTracker(stream: string, sample: TrackerSampleLike): boolean {
    return this.tracker(stream).push(sample);
  }

  /**
   * EMG window ending at `atMs` into `out`, time-major [samples x channels] (see EmgRing.window).
   * Uses the first EMG stream unless `stream` is given.
   */
  window(atMs: number, windowMs: number, out: Float32Array, stream?: string): boolean {
    const ring = stream === undefined ? this.#defaultEmg : this.emg(stream);
    if (!ring) throw new RangeError('no EMG stream: call addEmg() first');
    return ring.window(atMs, windowMs, out);
  }

  /** Tracker value interpolated at `atMs` into `out` (dims floats). Uses the first feed unless `stream` is given. */
  target(atMs: number, out: Float32Array, stream?: string): boolean {
    const ring = stream === undefined ? this.#defaultTracker : this.tracker(stream);
    if (!ring) throw new RangeError('no tracker stream: call addTracker() first');
    return ring.target(atMs, out);
  }

  /** Bytes held by all rings: fixed once the streams are declared. */
  get memoryBytes(): number {
    let n = 0;
    for (const r of this.#emg.values()) n += r.memoryBytes;
    for (const r of this.#tracker.values()) n += r.memoryBytes;
    return n;
  }

  counters(): AlignerCounters {
    const out: AlignerCounters = { emg: {}, tracker: {} };
    for (const [k, r] of this.#emg) out.emg[k] = { ...r.counters };
    for (const [k, r] of this.#tracker) out.tracker[k] = { ...r.counters };
    return out;
  }
}
