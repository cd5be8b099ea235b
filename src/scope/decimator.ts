/**
 * Min/max decimation for display: every channel's samples folded into time buckets of a
 * fixed width, each bucket reported as the exact smallest and largest sample that fell in
 * it. One bucket per plot pixel draws the same picture as every sample would (a spike of
 * one sample still reaches its pixel), at a fraction of the data. For display only: the
 * scope records nothing, and nothing decimated here is ever stored.
 *
 * Buckets are aligned to multiples of `bucketMs` on the host monotonic clock, so two
 * streams decimated with the same width (raw EMG and its envelope) land on the same grid.
 * Allocation happens in the constructor only.
 */

export interface DecimatorStats {
  /** Buckets closed since construction. */
  buckets: number;
  /** Closed buckets discarded unread because the pending ring was full (oldest first). */
  overflow: number;
  /** Samples whose time fell before the open bucket (a clock correction): folded into it. */
  late: number;
}

export class MinMaxDecimator {
  readonly channels: number;
  readonly bucketMs: number;
  readonly capacity: number;
  /** Pending closed buckets, a ring: start time of each, and per channel min/max at [c * capacity + slot]. */
  readonly #times: Float64Array;
  readonly #min: Float32Array;
  readonly #max: Float32Array;
  #head = 0;
  #length = 0;
  /** The open bucket: its index (start = index * bucketMs), running min/max per channel. */
  #open = Number.NaN;
  readonly #openMin: Float32Array;
  readonly #openMax: Float32Array;
  #openCount = 0;
  readonly #stats: DecimatorStats = { buckets: 0, overflow: 0, late: 0 };

  /**
   * @param channels channel count of the stream (every push must carry this many).
   * @param bucketMs bucket width, ms (> 0): the display's time window over its width in pixels.
   * @param capacity closed buckets held until take(); the oldest are discarded past it.
   */
  constructor(channels: number, bucketMs: number, capacity: number) {
    if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`channels must be a positive integer, got ${channels}`);
    if (!(bucketMs > 0) || !Number.isFinite(bucketMs)) throw new RangeError(`bucketMs must be a positive number, got ${bucketMs}`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.channels = channels;
    this.bucketMs = bucketMs;
    this.capacity = capacity;
    this.#times = new Float64Array(capacity);
    this.#min = new Float32Array(channels * capacity);
    this.#max = new Float32Array(channels * capacity);
    this.#openMin = new Float32Array(channels);
    this.#openMax = new Float32Array(channels);
  }

  /** Closed buckets waiting for take(). */
  get pending(): number {
    return this.#length;
  }

  stats(): DecimatorStats {
    return { ...this.#stats };
  }

  /**
   * Fold in one block: `data` channel-major (sample i of channel c at [c * samples + i]),
   * sample i taken at `t0 + i * periodMs` (host monotonic ms). NaN samples are skipped; a
   * bucket where a channel had only NaN reports NaN for it.
   */
  push(data: Float32Array, samples: number, t0: number, periodMs: number): void {
    if (data.length !== this.channels * samples) {
      throw new RangeError(`block holds ${data.length} values, want ${this.channels} channels x ${samples} samples`);
    }
    const C = this.channels;
    let i = 0;
    while (i < samples) {
      let b = Math.floor((t0 + i * periodMs) / this.bucketMs);
      if (b !== this.#open) {
        if (b < this.#open) {
          // Time stepped back (a clock model correcting itself): keep the display monotonic.
          this.#stats.late++;
          b = this.#open;
        } else {
          this.#close();
          this.#start(b);
        }
      }
      // The run of samples that falls in this bucket, then one pass per channel over it.
      let j = i + 1;
      while (j < samples && Math.floor((t0 + j * periodMs) / this.bucketMs) <= b) j++;
      for (let c = 0; c < C; c++) {
        let mn = this.#openMin[c]!;
        let mx = this.#openMax[c]!;
        const base = c * samples;
        for (let k = i; k < j; k++) {
          const v = data[base + k]!;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        this.#openMin[c] = mn;
        this.#openMax[c] = mx;
      }
      this.#openCount += j - i;
      i = j;
    }
  }

  /** Close the open bucket now (e.g. the stream stopped), so take() returns it. */
  flush(): void {
    this.#close();
    this.#open = Number.NaN;
  }

  #start(b: number): void {
    this.#open = b;
    this.#openMin.fill(Number.POSITIVE_INFINITY);
    this.#openMax.fill(Number.NEGATIVE_INFINITY);
    this.#openCount = 0;
  }

  #close(): void {
    if (Number.isNaN(this.#open) || this.#openCount === 0) return;
    const cap = this.capacity;
    if (this.#length === cap) {
      this.#head = (this.#head + 1) % cap;
      this.#length--;
      this.#stats.overflow++;
    }
    const slot = (this.#head + this.#length) % cap;
    this.#times[slot] = this.#open * this.bucketMs;
    for (let c = 0; c < this.channels; c++) {
      const mn = this.#openMin[c]!;
      const mx = this.#openMax[c]!;
      // Only NaN seen on this channel: say so rather than report the fill values.
      this.#min[c * cap + slot] = mn > mx ? Number.NaN : mn;
      this.#max[c * cap + slot] = mn > mx ? Number.NaN : mx;
    }
    this.#length++;
    this.#stats.buckets++;
    this.#openCount = 0;
  }

  /**
   * Move the pending buckets, oldest first, into caller-owned arrays: `times[k]`, and
   * `min`/`max` channel-major with row length `n` (channel c's bucket k at [c * n + k]),
   * where n is the returned count. The arrays must hold at least pending (times) and
   * channels x pending (min, max) values.
   */
  take(times: Float64Array, min: Float32Array, max: Float32Array): number {
    const n = this.#length;
    const cap = this.capacity;
    if (times.length < n || min.length < n * this.channels || max.length < n * this.channels) {
      throw new RangeError(`take() needs room for ${n} buckets of ${this.channels} channels`);
    }
    for (let k = 0; k < n; k++) {
      const slot = (this.#head + k) % cap;
      times[k] = this.#times[slot]!;
      for (let c = 0; c < this.channels; c++) {
        min[c * n + k] = this.#min[c * cap + slot]!;
        max[c * n + k] = this.#max[c * cap + slot]!;
      }
    }
    this.#head = 0;
    this.#length = 0;
    return n;
  }

  /** Discard the pending buckets (a frame that was not sent); returns how many. */
  discard(): number {
    const n = this.#length;
    this.#head = 0;
    this.#length = 0;
    return n;
  }
}
