/**
 * Shared-memory hand-off between the main thread and the loop worker, with no
 * allocation per cycle and no locks a writer could wait on.
 *
 * A SharedFrame is a seqlock: the single writer makes the sequence word odd, writes the
 * payload, and makes it even again; a reader copies the payload and accepts the copy
 * only if the word was even and unchanged across the copy. The writer never waits,
 * so a slow reader can never delay the loop; a reader retries a bounded number of times.
 *
 * Layout (bytes): [Int32 seq, Int32 count] [Float64 meta x M] [Float64 f64 x D] [Float32 f32 x F]
 */
const HEADER_BYTES = 8;
const SEQ = 0;
const COUNT = 1;

export interface SharedFrameLayout {
  meta: number;
  f64: number;
  f32: number;
}

export function sharedFrameBytes(l: SharedFrameLayout): number {
  return HEADER_BYTES + 8 * (l.meta + l.f64) + 4 * l.f32;
}

export class SharedFrame {
  readonly buffer: SharedArrayBuffer;
  readonly layout: Readonly<SharedFrameLayout>;
  /** Writer-side views: fill these between begin() and end(). */
  readonly meta: Float64Array;
  readonly f64: Float64Array;
  readonly f32: Float32Array;
  readonly #hdr: Int32Array;
  // Sequence 0 is "never published", so a fresh frame does not count as a change.
  #lastSeq = 0;

  constructor(layout: SharedFrameLayout, buffer?: SharedArrayBuffer) {
    const bytes = sharedFrameBytes(layout);
    this.buffer = buffer ?? new SharedArrayBuffer(bytes);
    if (this.buffer.byteLength !== bytes) {
      throw new RangeError(`shared frame buffer has ${this.buffer.byteLength} bytes, layout needs ${bytes}`);
    }
    this.layout = Object.freeze({ ...layout });
    this.#hdr = new Int32Array(this.buffer, 0, 2);
    this.meta = new Float64Array(this.buffer, HEADER_BYTES, layout.meta);
    this.f64 = new Float64Array(this.buffer, HEADER_BYTES + 8 * layout.meta, layout.f64);
    this.f32 = new Float32Array(this.buffer, HEADER_BYTES + 8 * (layout.meta + layout.f64), layout.f32);
  }

  /** The word readers (and Atomics.waitAsync) watch: it changes on every publish. */
  get seqView(): Int32Array {
    return this.#hdr;
  }
  static readonly SEQ_INDEX = SEQ;

  begin(): void {
    Atomics.add(this.#hdr, SEQ, 1);
  }
  end(): void {
    Atomics.add(this.#hdr, SEQ, 1);
    Atomics.add(this.#hdr, COUNT, 1);
  }
  /** Wake threads blocked in Atomics.wait/waitAsync on the sequence word. */
  notify(): void {
    Atomics.notify(this.#hdr, SEQ);
  }

  /** Times a frame was published (wraps at 2^31). */
  get published(): number {
    return Atomics.load(this.#hdr, COUNT);
  }
  get seq(): number {
    return Atomics.load(this.#hdr, SEQ);
  }

  /**
   * Copy a consistent frame into the given arrays (any may be shorter or omitted).
   * Returns false if the writer kept interrupting for `tries` attempts; the outputs
   * then hold a torn copy and must not be used.
   */
  read(meta: Float64Array | null, f64: Float64Array | null, f32: Float32Array | null, tries = 64): boolean {
    for (let t = 0; t < tries; t++) {
      const s1 = Atomics.load(this.#hdr, SEQ);
      if ((s1 & 1) !== 0) continue;
      if (meta) copy64(this.meta, meta);
      if (f64) copy64(this.f64, f64);
      if (f32) copy32(this.f32, f32);
      const s2 = Atomics.load(this.#hdr, SEQ);
      if (s1 === s2) {
        this.#lastSeq = s1;
        return true;
      }
    }
    return false;
  }

  /** True if a frame was published since the last successful read() through this object. */
  get changed(): boolean {
    return Atomics.load(this.#hdr, SEQ) !== this.#lastSeq;
  }
}

function copy64(src: Float64Array, dst: Float64Array): void {
  const n = Math.min(src.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
}
function copy32(src: Float32Array, dst: Float32Array): void {
  const n = Math.min(src.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
}

/**
 * Main -> worker control words. Requests are counters, not flags, so two quick
 * requests are never merged into one and the worker sees exactly what is new.
 * `wake` is what the worker sleeps on: every request bumps it and notifies.
 */
export const CTRL = {
  wake: 0,
  estop: 1,
  release: 2,
  stop: 3,
  /** Written by the worker: 1 while in the safe state. */
  safe: 4,
  /** Written by the worker: the reason code of the latest safety event. */
  reason: 5,
  /** Written by the worker: 1 once the loop runs. */
  running: 6,
  /** Written by main before an estop request: the SafetyReason code to report (estop, signal, uncaught). */
  estopReason: 7,
  /** Request: a model swap waits on the swap port (the worker reads it with receiveMessageOnPort). */
  swap: 8,
} as const;
export const CTRL_WORDS = 9;

export function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * CTRL_WORDS));
}

export function request(ctrl: Int32Array, word: number): void {
  Atomics.add(ctrl, word, 1);
  Atomics.add(ctrl, CTRL.wake, 1);
  Atomics.notify(ctrl, CTRL.wake);
}
