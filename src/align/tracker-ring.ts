/**
 * Tracker ring: time-sorted tracker samples (pose, joint angles, grip...) of one feed, preallocated.
 * Late samples are inserted in order; `target(atMs)` interpolates linearly between the samples
 * around an instant and refuses to bridge gaps wider than `maxGapMs`.
 */

/** What a tracker feed delivers; `values` may be reused by the producer after the call. */
export interface TrackerSampleLike {
  /** CLOCK_MONOTONIC ms (clock-mapped). */
  hostTimeMs: number;
  values: ArrayLike<number>;
  /** False for occluded / untracked samples. */
  valid: boolean;
}

export interface TrackerRingOptions {
  dims: number;
  /** Capacity in samples. */
  capacity: number;
  /** Interpolation never spans a gap between samples wider than this, ms. */
  maxGapMs: number;
}

export interface TrackerRingCounters {
  /** Samples that arrived out of order and were inserted in place. */
  inserted: number;
  /** Samples older than everything held while full, or with a non-finite time (dropped). */
  dropped: number;
}

export class TrackerRing {
  readonly dims: number;
  readonly capacity: number;
  readonly maxGapMs: number;
  readonly counters: TrackerRingCounters = { inserted: 0, dropped: 0 };
  readonly #t: Float64Array;
  readonly #v: Float32Array;
  readonly #ok: Uint8Array;
  #start = 0;
  #count = 0;

  constructor(opts: TrackerRingOptions) {
    if (!Number.isInteger(opts.dims) || opts.dims < 1) throw new RangeError('"dims" must be an integer >= 1');
    if (!Number.isInteger(opts.capacity) || opts.capacity < 2) throw new RangeError('"capacity" must be an integer >= 2');
    if (!(opts.maxGapMs > 0)) throw new RangeError('"maxGapMs" must be > 0');
    this.dims = opts.dims;
    this.capacity = opts.capacity;
    this.maxGapMs = opts.maxGapMs;
    this.#t = new Float64Array(opts.capacity);
    this.#v = new Float32Array(opts.capacity * opts.dims);
    this.#ok = new Uint8Array(opts.capacity);
  }

  get memoryBytes(): number {
    return this.#t.byteLength + this.#v.byteLength + this.#ok.byteLength;
  }

  get count(): number {
    return this.#count;
  }

  /** Host time of the k-th oldest sample. */
  timeAt(k: number): number {
    return this.#t[(this.#start + k) % this.capacity]!;
  }

  clear(): void {
    this.#start = 0;
    this.#count = 0;
  }

  /** Copy a sample in; returns false if it was dropped (counted). */
  push(sample: TrackerSampleLike): boolean {
    const t = sample.hostTimeMs;
    if (!Number.isFinite(t)) {
      this.counters.dropped++;
      return false;
    }
    if (sample.values.length < this.dims) {
      throw new RangeError(`tracker sample has ${sample.values.length} values, the ring ${this.dims}: re-create the aligner stream when the feed changes`);
    }
    const cap = this.capacity;
    let pos = this.#count; // logical position to insert at
    if (this.#count > 0 && t < this.timeAt(this.#count - 1)) {
      if (t < this.timeAt(0) && this.#count === cap) {
        this.counters.dropped++;
        return false;
      }
      // Binary search: first held sample later than t (equal times keep arrival order).
      let lo = 0;
      let hi = this.#count - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.timeAt(mid) <= t) lo = mid + 1;
        else hi = mid;
      }
      pos = lo;
      this.counters.inserted++;
    }
    if (this.#count === cap) {
      // Full: the oldest goes; the insertion point moves with it.
      this.#start = (this.#start + 1) % cap;
      this.#count--;
      pos--;
    }
    // Shift [pos, count) one slot right (rare: only late samples).
    for (let k = this.#count; k > pos; k--) this.#copy((this.#start + k - 1) % cap, (this.#start + k) % cap);
    const slot = (this.#start + pos) % cap;
    this.#t[slot] = t;
    this.#ok[slot] = sample.valid ? 1 : 0;
    const base = slot * this.dims;
    for (let d = 0; d < this.dims; d++) {
      const v = sample.values[d]!;
      this.#v[base + d] = v;
      if (!Number.isFinite(v)) this.#ok[slot] = 0;
    }
    this.#count++;
    return true;
  }

  /**
   * Linear interpolation at `atMs` into `out` (dims values). False (out zeroed) if `atMs` is outside
   * the held samples, the two samples around it are more than `maxGapMs` apart, or either is invalid.
   */
  target(atMs: number, out: Float32Array): boolean {
    const dims = this.dims;
    if (out.length < dims) throw new RangeError(`target needs ${dims} floats, got ${out.length}`);
    const n = this.#count;
    if (n === 0 || !(atMs >= this.timeAt(0)) || !(atMs <= this.timeAt(n - 1))) {
      out.fill(0, 0, dims);
      return false;
    }
    // Last sample at or before atMs.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.timeAt(mid) <= atMs) lo = mid;
      else hi = mid - 1;
    }
    const cap = this.capacity;
    const a = (this.#start + lo) % cap;
    const ta = this.#t[a]!;
    if (ta === atMs || lo === n - 1) {
      for (let d = 0; d < dims; d++) out[d] = this.#v[a * dims + d]!;
      return this.#ok[a] === 1;
    }
    const b = (this.#start + lo + 1) % cap;
    const tb = this.#t[b]!;
    if (tb - ta > this.maxGapMs || this.#ok[a] === 0 || this.#ok[b] === 0) {
      out.fill(0, 0, dims);
      return false;
    }
    const w = (atMs - ta) / (tb - ta);
    for (let d = 0; d < dims; d++) {
      const va = this.#v[a * dims + d]!;
      out[d] = va + (this.#v[b * dims + d]! - va) * w;
    }
    return true;
  }

  #copy(from: number, to: number): void {
    this.#t[to] = this.#t[from]!;
    this.#ok[to] = this.#ok[from]!;
    const d = this.dims;
    this.#v.copyWithin(to * d, from * d, from * d + d);
  }
}
