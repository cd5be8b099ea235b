// Decimated buckets of one stream as the page keeps them: times plus min and max per
// channel, in flat typed arrays that plots read through subarray views (no copy per draw).

export class BucketStore {
  constructor(channels, capacity) {
    this.channels = channels;
    this.capacity = capacity;
    this.times = new Float64Array(capacity);
    this.min = Array.from({ length: channels }, () => new Float32Array(capacity));
    this.max = Array.from({ length: channels }, () => new Float32Array(capacity));
    this.length = 0;
  }

  /** Append a decoded frame section (channel-major min/max with row length n). */
  append(s) {
    if (s.channels !== this.channels) return;
    let n = s.n;
    let from = 0;
    if (n > this.capacity) {
      from = n - this.capacity;
      n = this.capacity;
    }
    if (this.length + n > this.capacity) {
      // Keep the newest half (or what leaves room), shifted to the front.
      const keep = Math.min(this.length, Math.max(0, Math.min(this.capacity >> 1, this.capacity - n)));
      const drop = this.length - keep;
      this.times.copyWithin(0, drop, this.length);
      for (let c = 0; c < this.channels; c++) {
        this.min[c].copyWithin(0, drop, this.length);
        this.max[c].copyWithin(0, drop, this.length);
      }
      this.length = keep;
    }
    this.times.set(s.times.subarray(from, from + n), this.length);
    for (let c = 0; c < this.channels; c++) {
      this.min[c].set(s.min.subarray(c * s.n + from, c * s.n + from + n), this.length);
      this.max[c].set(s.max.subarray(c * s.n + from, c * s.n + from + n), this.length);
    }
    this.length += n;
  }

  /** Index of the first bucket at or after t. */
  lowerBound(t) {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get latest() {
    return this.length > 0 ? this.times[this.length - 1] : NaN;
  }
}
