/**
 * An optional ring of (input window host time, command written time) pairs, one per
 * actuator write the loop worker made: what "sample arrival -> command on the wire"
 * latency is measured from (bench/latency.ts) without the main thread in the path.
 * Single writer (the worker); readers copy out what they have not seen. Off by default.
 *
 * Layout: [Int32 count, Int32 pad] [Float64 x 2N: inputHostTimeMs, writtenMs]
 */
export class WriteLog {
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
  readonly #hdr: Int32Array;
  readonly #pairs: Float64Array;

  constructor(size: number, buffer?: SharedArrayBuffer) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`write log size must be an integer >= 1, got ${size}`);
    this.size = size;
    this.buffer = buffer ?? new SharedArrayBuffer(8 + 16 * size);
    if (this.buffer.byteLength !== 8 + 16 * size)
      throw new RangeError(`write log buffer has ${this.buffer.byteLength} bytes, ${size} entries need ${8 + 16 * size}`);
    this.#hdr = new Int32Array(this.buffer, 0, 2);
    this.#pairs = new Float64Array(this.buffer, 8, 2 * size);
  }

  /** Entries ever recorded. */
  get count(): number {
    return Atomics.load(this.#hdr, 0);
  }

  record(inputHostTimeMs: number, writtenMs: number): void {
    const n = this.#hdr[0]!;
    const i = (n % this.size) * 2;
    this.#pairs[i] = inputHostTimeMs;
    this.#pairs[i + 1] = writtenMs;
    Atomics.store(this.#hdr, 0, n + 1);
  }

  /**
   * Call `fn` for every entry from `from` on that is still in the ring; returns the count to
   * pass next time. Entries overwritten before being read are skipped and reported through
   * `lost`; read well within `size` writes, or the oldest entries read may be torn.
   */
  drain(from: number, fn: (inputHostTimeMs: number, writtenMs: number) => void, lost?: (n: number) => void): number {
    const end = this.count;
    let k = from;
    if (end - k > this.size) {
      lost?.(end - this.size - k);
      k = end - this.size;
    }
    for (; k < end; k++) {
      const i = (k % this.size) * 2;
      fn(this.#pairs[i]!, this.#pairs[i + 1]!);
    }
    return end;
  }
}
