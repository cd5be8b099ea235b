/**
 * The last few seconds of tracker samples, so each prediction can be shown beside the
 * tracker value at the end of its input window (what the aligner pairs it with in training).
 * A fixed ring: allocation only when the tracker's dimension count changes.
 */
export class TrackerHistory {
  readonly capacity: number;
  #dims = 0;
  #names: readonly string[] = [];
  #times: Float64Array;
  #values: Float32Array = new Float32Array(0);
  #head = 0;
  #length = 0;

  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.#times = new Float64Array(capacity);
  }

  get names(): readonly string[] {
    return this.#names;
  }

  /** Add a block: `data` channel-major, sample i at t0 + i * periodMs. */
  push(names: readonly string[], data: Float32Array, samples: number, t0: number, periodMs: number): void {
    const dims = names.length;
    if (dims !== this.#dims || names.some((n, i) => n !== this.#names[i])) {
      this.#dims = dims;
      this.#names = [...names];
      this.#values = new Float32Array(dims * this.capacity);
      this.#head = 0;
      this.#length = 0;
    }
    const cap = this.capacity;
    for (let i = 0; i < samples; i++) {
      const slot = (this.#head + this.#length) % cap;
      if (this.#length === cap) this.#head = (this.#head + 1) % cap;
      else this.#length++;
      this.#times[slot] = t0 + i * periodMs;
      for (let d = 0; d < dims; d++) this.#values[slot * dims + d] = data[d * samples + i]!;
    }
  }

  /**
   * The value of tracker dimension `name` at time t: the newest sample taken at or before t
   * (NaN when there is none, or no such dimension).
   */
  at(name: string, t: number): number {
    const d = this.#names.indexOf(name);
    if (d < 0 || this.#length === 0) return Number.NaN;
    const cap = this.capacity;
    // Newest first: predictions ask about the last few tracker periods.
    for (let k = this.#length - 1; k >= 0; k--) {
      const slot = (this.#head + k) % cap;
      if (this.#times[slot]! <= t) return this.#values[slot * this.#dims + d]!;
    }
    return Number.NaN;
  }
}
