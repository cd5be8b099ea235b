import type { SampleBlock } from '../core/block.js';
import { BlockBuffer, ShapeGuard } from './block-buffer.js';
import { SettingsReader } from './settings.js';
import type { Unit, UnitKind } from './types.js';

export interface RmsSettings {
  /** Moving window length, samples (1..1e6). */
  readonly length: number;
}

/**
 * Moving RMS: output n is sqrt(mean of x^2 over the last `length` input samples), the delay
 * line starting at zero like a filter's. The sum of squares is kept as a running sum (O(1) per
 * sample) and recomputed exactly from the delay line each time the write position wraps. Both
 * happen at sample counts since reset, not at chunk boundaries, so the arithmetic (and the
 * float64 rounding) is the same however the signal is chunked, and rounding cannot drift for
 * longer than one window.
 */
export class Rms implements Unit<RmsSettings> {
  readonly kind: string = 'rms';
  readonly settings: Readonly<RmsSettings>;
  readonly #shape = new ShapeGuard();
  readonly #out = new BlockBuffer();
  #squares = new Float64Array(0);
  #sums = new Float64Array(0);
  #pos = 0;

  constructor(settings: RmsSettings) {
    this.settings = Object.freeze({ ...settings });
  }

  process(input: SampleBlock): SampleBlock {
    const len = this.settings.length;
    if (this.#shape.differs(input)) {
      this.#squares = new Float64Array(input.channels * len);
      this.#sums = new Float64Array(input.channels);
      this.#pos = 0;
      this.#shape.accept(input);
    }
    const out = this.#out.like(input);
    const n = input.samples;
    const x = input.data;
    const y = out.data;
    const sq = this.#squares;
    const inv = 1 / len;
    let pos = this.#pos;
    for (let c = 0; c < input.channels; c++) {
      const base = c * len;
      const off = c * n;
      let sum = this.#sums[c]!;
      pos = this.#pos;
      for (let i = 0; i < n; i++) {
        const xi = x[off + i]!;
        const v = xi * xi;
        sum += v - sq[base + pos]!;
        sq[base + pos] = v;
        if (++pos === len) {
          pos = 0;
          sum = 0;
          for (let k = 0; k < len; k++) sum += sq[base + k]!;
        }
        y[off + i] = Math.sqrt(Math.max(0, sum) * inv);
      }
      this.#sums[c] = sum;
    }
    this.#pos = input.channels > 0 ? pos : (this.#pos + n) % len;
    return out;
  }

  reset(): void {
    this.#squares.fill(0);
    this.#sums.fill(0);
    this.#pos = 0;
  }
}

export function parseLength(r: SettingsReader): number {
  return r.number('length', { integer: true, min: 1, max: 1_000_000 });
}

export const rmsKind: UnitKind<RmsSettings> = {
  kind: 'rms',
  summary: 'moving RMS over the last `length` samples',
  parse(raw, at) {
    return { length: parseLength(new SettingsReader(raw, at, ['length'])) };
  },
  create: (s) => new Rms(s),
};
