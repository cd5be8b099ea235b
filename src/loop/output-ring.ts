/**
 * Every cycle's output, in order, from the loop worker to the main thread. The output frame
 * (shared.ts) holds only the latest cycle, which is all the dispatcher needs; a recording needs
 * every cycle, since the slew limiter's state carries from one to the next (docs/replay.md).
 *
 * A single-writer, single-reader ring of fixed-size Float64 records in a SharedArrayBuffer. The
 * writer (the loop worker) fills the record at `head`, then publishes it by storing head + 1
 * with Atomics.store; it never waits, so a reader that falls behind can never delay a cycle. It
 * loses the oldest records instead: the reader finds them overwritten, skips them and counts
 * them (`lost`), never silently. Nothing allocates per record on either side.
 *
 * `head` is an Int32 that wraps at 2^32; differences are taken with `| 0`, and the capacity is
 * a power of two so `index & mask` stays continuous across the wrap.
 *
 * Layout (bytes): [Int32 head, Int32 unused] [Float64 x capacity x stride]
 */
const HEADER_BYTES = 8;
const HEAD = 0;
export const MAX_OUTPUT_RING = 1 << 20;

export function outputRingBytes(capacity: number, stride: number): number {
  return HEADER_BYTES + 8 * capacity * stride;
}

/**
 * The capacity of a ring that keeps at least `n` unread records: the power of two above `n`,
 * since the slot the writer is filling cannot be read.
 */
export function ringCapacityFor(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n >= MAX_OUTPUT_RING) throw new RangeError(`output ring must keep 1..${MAX_OUTPUT_RING - 1} cycles, got ${n}`);
  let c = 2;
  while (c < n + 1) c *= 2;
  return c;
}

export class OutputRing {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  /** Float64 values per record. */
  readonly stride: number;
  /** The records; the writer fills `data[slot() .. slot() + stride)` before commit(). */
  readonly data: Float64Array;
  readonly #hdr: Int32Array;
  readonly #mask: number;
  /** Writer: the index of the record being filled. Reader: the next index to read. */
  #next: number;
  #lost = 0;

  constructor(capacity: number, stride: number, buffer?: SharedArrayBuffer) {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > MAX_OUTPUT_RING || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`output ring capacity must be a power of two in 2..${MAX_OUTPUT_RING}, got ${capacity}`);
    }
    if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`output ring stride must be a positive integer, got ${stride}`);
    const bytes = outputRingBytes(capacity, stride);
    this.buffer = buffer ?? new SharedArrayBuffer(bytes);
    if (this.buffer.byteLength !== bytes) throw new RangeError(`output ring buffer has ${this.buffer.byteLength} bytes, layout needs ${bytes}`);
    this.capacity = capacity;
    this.stride = stride;
    this.#mask = capacity - 1;
    this.#hdr = new Int32Array(this.buffer, 0, 2);
    this.data = new Float64Array(this.buffer, HEADER_BYTES, capacity * stride);
    // Either end starts where the ring stands when it opens it (0 for a new ring).
    this.#next = Atomics.load(this.#hdr, HEAD);
  }

  /** Records committed so far (wraps at 2^32, as an Int32). */
  get head(): number {
    return Atomics.load(this.#hdr, HEAD);
  }

  // ---- writer (one thread) ----

  /** Offset in `data` of the record to fill next. */
  slot(): number {
    return (this.#next & this.#mask) * this.stride;
  }

  /** Publish the record filled at slot(). */
  commit(): void {
    this.#next = (this.#next + 1) | 0;
    Atomics.store(this.#hdr, HEAD, this.#next);
  }

  // ---- reader (one thread) ----

  /** Records the reader found overwritten before it could read them. */
  get lost(): number {
    return this.#lost;
  }

  /** Records committed and not read yet (at most capacity - 1 of them can still be read). */
  get pending(): number {
    return (Atomics.load(this.#hdr, HEAD) - this.#next) | 0;
  }

  /**
   * Copy the oldest unread record into `into` (stride values) and return true; false when
   * there is none. Records overwritten before this reader got to them are skipped and counted
   * in `lost`; a record overwritten while it was being copied is discarded the same way.
   */
  read(into: Float64Array): boolean {
    const cap = this.capacity;
    for (;;) {
      const head = Atomics.load(this.#hdr, HEAD);
      const behind = (head - this.#next) | 0;
      if (behind === 0) return false;
      // The writer may be filling index `head` right now, which shares its slot with head - cap.
      if (behind >= cap) {
        const skip = behind - cap + 1;
        this.#lost += skip;
        this.#next = (this.#next + skip) | 0;
      }
      const at = (this.#next & this.#mask) * this.stride;
      const d = this.data;
      for (let i = 0; i < this.stride; i++) into[i] = d[at + i]!;
      // Valid only if the writer had not begun the record that reuses this slot by the end of the copy.
      const after = Atomics.load(this.#hdr, HEAD);
      if (((after - this.#next) | 0) >= cap) continue;
      this.#next = (this.#next + 1) | 0;
      return true;
    }
  }
}
