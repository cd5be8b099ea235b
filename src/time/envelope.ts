/**
 * Bucketed extreme-point ring: the decimation step under the clock model.
 *
 * Points are (x, y) with x in ms of device time since the model's seed. Each bucket of
 * `bucketMs` of x keeps one point: the one with the smallest (or largest, for lower bounds)
 * `y - slope * x` seen in that bucket. A window of buckets is the whole memory: thousands
 * of frames per second shrink to a few points per second, so refitting stays cheap and
 * nothing grows with run time.
 */
export class EnvelopeRing {
  readonly capacity: number;
  readonly bucketMs: number;
  /** +1 keeps the minimum of y - slope*x per bucket (upper bounds), -1 the maximum (lower bounds). */
  readonly #sign: number;
  readonly #x: Float64Array;
  readonly #y: Float64Array;
  readonly #bucket: Float64Array;
  #start = 0;
  #count = 0;

  constructor(opts: { capacity: number; bucketMs: number; keep: 'min' | 'max' }) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 2) throw new RangeError('"capacity" must be an integer >= 2');
    if (!(opts.bucketMs > 0)) throw new RangeError('"bucketMs" must be > 0');
    this.capacity = opts.capacity;
    this.bucketMs = opts.bucketMs;
    this.#sign = opts.keep === 'min' ? 1 : -1;
    this.#x = new Float64Array(opts.capacity);
    this.#y = new Float64Array(opts.capacity);
    this.#bucket = new Float64Array(opts.capacity);
  }

  get count(): number {
    return this.#count;
  }

  clear(): void {
    this.#start = 0;
    this.#count = 0;
  }

  /** Physical slot of the k-th oldest point. */
  slot(k: number): number {
    return (this.#start + k) % this.capacity;
  }
  x(slot: number): number {
    return this.#x[slot]!;
  }
  y(slot: number): number {
    return this.#y[slot]!;
  }

  /**
   * Offer a point; returns true if the ring changed. Points older than the window, or in a
   * bucket already evicted, are ignored (they cannot tighten anything we still hold).
   */
  offer(x: number, y: number, slope: number): boolean {
    const b = Math.floor(x / this.bucketMs);
    const cap = this.capacity;
    if (this.#count > 0) {
      const lastSlot = (this.#start + this.#count - 1) % cap;
      const lastB = this.#bucket[lastSlot]!;
      if (b <= lastB) {
        // Same or an earlier bucket: walk back (rare: a ping's tx stamp, a late frame).
        for (let k = this.#count - 1; k >= 0; k--) {
          const s = (this.#start + k) % cap;
          const sb = this.#bucket[s]!;
          if (sb === b) {
            const better = this.#sign * (y - slope * x) < this.#sign * (this.#y[s]! - slope * this.#x[s]!);
            if (!better) return false;
            this.#x[s] = x;
            this.#y[s] = y;
            return true;
          }
          if (sb < b) {
            // The bucket is missing between two held ones: inserting would break x order; skip.
            return false;
          }
        }
        return false;
      }
    }
    // A newer bucket: append, evicting by capacity and by window span.
    if (this.#count === cap) {
      this.#start = (this.#start + 1) % cap;
      this.#count--;
    }
    const s = (this.#start + this.#count) % cap;
    this.#x[s] = x;
    this.#y[s] = y;
    this.#bucket[s] = b;
    this.#count++;
    const oldestAllowed = b - cap + 1;
    while (this.#count > 1 && this.#bucket[this.#start]! < oldestAllowed) {
      this.#start = (this.#start + 1) % cap;
      this.#count--;
    }
    return true;
  }

  /** min (upper bounds) or max (lower bounds) over held points with x >= minX of y - slope*x; NaN if none. */
  extreme(slope: number, minX = Number.NEGATIVE_INFINITY): number {
    let best = this.#sign * Number.POSITIVE_INFINITY;
    for (let k = 0; k < this.#count; k++) {
      const s = (this.#start + k) % this.capacity;
      if (this.#x[s]! < minX) continue;
      const v = this.#y[s]! - slope * this.#x[s]!;
      if (this.#sign * v < this.#sign * best) best = v;
    }
    return Number.isFinite(best) ? best : Number.NaN;
  }

  /**
   * The opposite extreme over points with x >= minX: the max of y - slope*x for upper bounds, the
   * min for lower bounds (how far even the least extreme recent point sits). NaN if fewer than
   * `minPoints` qualify.
   */
  least(slope: number, minX: number, minPoints: number): number {
    let best = -this.#sign * Number.POSITIVE_INFINITY;
    let n = 0;
    for (let k = 0; k < this.#count; k++) {
      const s = (this.#start + k) % this.capacity;
      if (this.#x[s]! < minX) continue;
      const v = this.#y[s]! - slope * this.#x[s]!;
      n++;
      if (this.#sign * v > this.#sign * best) best = v;
    }
    return n >= minPoints ? best : Number.NaN;
  }

  /** Forget the `n` oldest points. */
  dropOldest(n: number): void {
    const k = Math.min(n, this.#count);
    this.#start = (this.#start + k) % this.capacity;
    this.#count -= k;
  }

  /** Oldest held x (NaN if empty). */
  firstX(): number {
    return this.#count === 0 ? Number.NaN : this.#x[this.#start]!;
  }
  /** Newest held x (NaN if empty). */
  lastX(): number {
    return this.#count === 0 ? Number.NaN : this.#x[(this.#start + this.#count - 1) % this.capacity]!;
  }
}

/**
 * Slope of the lower convex hull of `ring`'s points at the points' mean x.
 *
 * The line under all points that maximises the sum of its values at the points (the linear
 * programme of Moon, Skelly and Towsley for one-way delay skew) touches the hull along the
 * edge spanning the mean x. Returns NaN when there are fewer than two points.
 * `hull` is scratch of at least `ring.capacity` entries.
 */
export function lowerHullSlope(ring: EnvelopeRing, hull: Int32Array): number {
  const n = ring.count;
  if (n < 2) return Number.NaN;
  let h = 0;
  let sumX = 0;
  for (let k = 0; k < n; k++) {
    const s = ring.slot(k);
    const x = ring.x(s);
    const y = ring.y(s);
    sumX += x;
    while (h >= 2) {
      const a = hull[h - 2]!;
      const b = hull[h - 1]!;
      const cross = (ring.x(b) - ring.x(a)) * (y - ring.y(a)) - (ring.y(b) - ring.y(a)) * (x - ring.x(a));
      if (cross > 0) break;
      h--;
    }
    hull[h++] = s;
  }
  if (h < 2) return Number.NaN;
  const meanX = sumX / n;
  let e = 0;
  while (e < h - 2 && ring.x(hull[e + 1]!) < meanX) e++;
  const a = hull[e]!;
  const b = hull[e + 1]!;
  return (ring.y(b) - ring.y(a)) / (ring.x(b) - ring.x(a));
}
