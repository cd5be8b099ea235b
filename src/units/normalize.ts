import type { SampleBlock } from '../core/block.js';
import { BlockBuffer, ShapeGuard } from './block-buffer.js';
import { perChannel, shapeError } from './shape.js';
import { SettingsReader } from './settings.js';
import type { InputShape, ShapeProblem, Unit, UnitKind } from './types.js';

export type NormalizeSettings =
  /** y = (x - mean[c]) / std[c]; one value for all channels or one per channel. */
  | { readonly mode: 'fixed'; readonly mean: readonly number[]; readonly std: readonly number[] }
  /**
   * Running estimate with time constant `tau` seconds; `minStd` (input units, default 1e-6)
   * bounds the divisor so silence does not blow up.
   */
  | { readonly mode: 'running'; readonly tau: number; readonly minStd: number };

/**
 * Per-channel normalisation to zero mean and unit standard deviation.
 *
 * Running update rule, per channel, for the n-th sample x since reset (n = 1, 2, ...):
 *   a    = max(1 / n, 1 - exp(-1 / (tau * rate)))     (cumulative average first, then exponential)
 *   d    = x - mean
 *   mean = mean + a * d
 *   var  = (1 - a) * (var + a * d * d)                 (exponentially weighted variance)
 *   y    = (x - mean) / max(sqrt(var), minStd)
 * i.e. each sample is normalised with statistics that already include it. The first sample of a
 * channel always maps to 0. n counts samples, not chunks, so chunking cannot change the output.
 */
export class Normalize implements Unit<NormalizeSettings> {
  readonly kind = 'normalize';
  readonly settings: Readonly<NormalizeSettings>;
  readonly #shape = new ShapeGuard();
  readonly #out = new BlockBuffer();
  #mean = new Float64Array(0);
  #var = new Float64Array(0);
  #n = 0;
  #alphaMin = 0;

  constructor(settings: NormalizeSettings) {
    this.settings = Object.freeze({ ...settings });
  }

  process(input: SampleBlock): SampleBlock {
    const s = this.settings;
    if (this.#shape.differs(input)) {
      const problem = normalizeKind.checkShape!(s, input);
      if (problem) throw shapeError(this.kind, problem);
      this.#mean = new Float64Array(input.channels);
      this.#var = new Float64Array(input.channels);
      if (s.mode === 'fixed') {
        for (let c = 0; c < input.channels; c++) {
          this.#mean[c] = s.mean.length === 1 ? s.mean[0]! : s.mean[c]!;
          this.#var[c] = 1 / (s.std.length === 1 ? s.std[0]! : s.std[c]!);
        }
      } else {
        this.#alphaMin = 1 - Math.exp(-1 / (s.tau * input.rate));
      }
      this.#n = 0;
      this.#shape.accept(input);
    }
    const out = this.#out.like(input);
    const n = input.samples;
    const x = input.data;
    const y = out.data;
    if (s.mode === 'fixed') {
      // #var holds 1/std here: one multiply per sample.
      for (let c = 0; c < input.channels; c++) {
        const m = this.#mean[c]!;
        const inv = this.#var[c]!;
        for (let i = c * n, end = i + n; i < end; i++) y[i] = (x[i]! - m) * inv;
      }
      return out;
    }
    const alphaMin = this.#alphaMin;
    const minStd = s.minStd;
    for (let c = 0; c < input.channels; c++) {
      let mean = this.#mean[c]!;
      let v = this.#var[c]!;
      let count = this.#n;
      for (let i = c * n, end = i + n; i < end; i++) {
        const xi = x[i]!;
        count++;
        const a = Math.max(1 / count, alphaMin);
        const d = xi - mean;
        mean += a * d;
        v = (1 - a) * (v + a * d * d);
        y[i] = (xi - mean) / Math.max(Math.sqrt(v), minStd);
      }
      this.#mean[c] = mean;
      this.#var[c] = v;
    }
    this.#n += n;
    return out;
  }

  reset(): void {
    if (this.settings.mode === 'fixed') return;
    this.#mean.fill(0);
    this.#var.fill(0);
    this.#n = 0;
  }
}

export const normalizeKind: UnitKind<NormalizeSettings> = {
  kind: 'normalize',
  summary: 'per-channel (x - mean) / std, fixed or running estimate',
  parse(raw, at) {
    const r = new SettingsReader(raw, at, ['mode', 'mean', 'std', 'tau', 'minStd']);
    const mode = r.oneOf('mode', ['fixed', 'running'] as const);
    if (mode === 'fixed') {
      for (const k of ['tau', 'minStd']) if (r.has(k)) r.fail(k, 'only applies to mode "running"');
      return { mode, mean: r.numbers('mean', {}, 0), std: r.numbers('std', { above: 0 }) };
    }
    for (const k of ['mean', 'std']) if (r.has(k)) r.fail(k, 'only applies to mode "fixed"');
    return { mode, tau: r.number('tau', { above: 0 }), minStd: r.number('minStd', { above: 0 }, 1e-6) };
  },
  create: (s) => new Normalize(s),
  checkShape(s: NormalizeSettings, { channels }: InputShape): ShapeProblem | undefined {
    if (s.mode !== 'fixed') return undefined;
    return perChannel('mean', s.mean, channels) ?? perChannel('std', s.std, channels);
  },
};
