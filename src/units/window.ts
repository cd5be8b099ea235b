import type { SampleBlock } from '../core/block.js';
import { BlockBuffer, ShapeGuard } from './block-buffer.js';
import { SettingsReader } from './settings.js';
import type { MutableBlock, Unit, UnitKind, WindowBlock } from './types.js';

export interface WindowSettings {
  /** Samples per window (1..1e6). */
  readonly length: number;
  /** Samples between the starts of consecutive windows (1..1e6); hop < length overlaps, hop > length skips. */
  readonly hop: number;
}

type MutableWindowBlock = MutableBlock & { windowLength: number; windowCount: number; hop: number };

/**
 * Moving window with hop. The first window is complete `length` samples after a reset (or a
 * shape change); after that one window completes every `hop` samples. Each `process` call
 * returns every window completed inside its chunk, as a `WindowBlock` (see `types.ts` for the
 * layout): usually zero or one per call, several when the chunk is longer than `hop`, and an
 * empty block (`samples === 0`, `windowCount === 0`) when none completed.
 * `valid` is false if any of the returned windows holds a sample from an invalid input block.
 * Windows are plain copies of the input values, so chunking cannot change them.
 */
export class MovingWindow implements Unit<WindowSettings> {
  readonly kind = 'window';
  readonly settings: Readonly<WindowSettings>;
  readonly #shape = new ShapeGuard();
  readonly #out = new BlockBuffer();
  #ring = new Float32Array(0);
  #ends = new Int32Array(16);
  #pos = 0;
  /** Samples still to come before the next window completes. */
  #untilNext = 0;
  /** Samples still to come before windows stop containing an invalid sample. */
  #taint = 0;

  constructor(settings: WindowSettings) {
    this.settings = Object.freeze({ ...settings });
    this.reset();
  }

  process(input: SampleBlock): WindowBlock {
    const { length: len, hop } = this.settings;
    if (this.#shape.differs(input)) {
      this.#ring = new Float32Array(input.channels * len);
      this.reset();
      this.#shape.accept(input);
    }
    const n = input.samples;
    // Pass 1: where windows complete in this chunk, and whether each holds invalid data.
    let count = 0;
    let until = this.#untilNext;
    let taint = this.#taint;
    let valid = true;
    for (let i = 0; i < n; i++) {
      if (!input.valid) taint = len;
      if (--until === 0) {
        if (count === this.#ends.length) this.#grow();
        this.#ends[count++] = i;
        until = hop;
        if (taint > 0) valid = false;
      }
      if (taint > 0) taint--;
    }
    this.#untilNext = until;
    this.#taint = taint;
    const out = this.#out.take(input, input.channels, count * len, input.rate) as MutableWindowBlock;
    out.windowLength = len;
    out.windowCount = count;
    out.hop = hop;
    out.valid = valid;
    if (count > 0) {
      const start = this.#ends[0]! + 1 - len;
      out.firstSample = input.firstSample + start;
      out.hostTimeMs = input.hostTimeMs + start * input.hostPeriodMs;
      out.deviceTimeUs = input.deviceTimeUs + (start * 1e6) / input.rate;
    }
    // Pass 2: push samples through each channel's ring, copying it out at each completion.
    const x = input.data;
    const y = out.data;
    const ring = this.#ring;
    const ends = this.#ends;
    let pos = this.#pos;
    for (let c = 0; c < input.channels; c++) {
      const base = c * len;
      const off = c * n;
      const dst = c * count * len;
      let e = 0;
      pos = this.#pos;
      for (let i = 0; i < n; i++) {
        ring[base + pos] = x[off + i]!;
        if (++pos === len) pos = 0;
        if (e < count && ends[e] === i) {
          // pos is now the oldest sample: copy [pos, len) then [0, pos).
          let o = dst + e * len;
          for (let k = pos; k < len; k++) y[o++] = ring[base + k]!;
          for (let k = 0; k < pos; k++) y[o++] = ring[base + k]!;
          e++;
        }
      }
    }
    this.#pos = input.channels > 0 ? pos : (this.#pos + n) % len;
    return out;
  }

  reset(): void {
    this.#ring.fill(0);
    this.#pos = 0;
    this.#untilNext = this.settings.length;
    this.#taint = 0;
  }

  #grow(): void {
    const next = new Int32Array(this.#ends.length * 2);
    next.set(this.#ends);
    this.#ends = next;
  }
}

export const windowKind: UnitKind<WindowSettings> = {
  kind: 'window',
  summary: 'moving window of `length` samples every `hop` samples (emits WindowBlocks; must come last)',
  parse(raw, at) {
    const r = new SettingsReader(raw, at, ['length', 'hop']);
    const length = r.number('length', { integer: true, min: 1, max: 1_000_000 });
    return { length, hop: r.number('hop', { integer: true, min: 1, max: 1_000_000 }, length) };
  },
  create: (s) => new MovingWindow(s),
};
