import type { SampleBlock } from '../core/block.js';
import { BlockBuffer, ShapeGuard } from './block-buffer.js';
import { butterLowpass } from './design.js';
import { belowNyquist, shapeError } from './shape.js';
import { SettingsReader } from './settings.js';
import { SosBank } from './sos-bank.js';
import type { InputShape, ShapeProblem, Unit, UnitKind } from './types.js';

export interface DecimateSettings {
  /** Keep one sample in `factor` (2..64). */
  readonly factor: number;
  /** Anti-alias Butterworth low-pass order (1..8). Default 8. */
  readonly order: number;
  /** Anti-alias cutoff, Hz; below the output Nyquist. Default 0.8 x output Nyquist (null = default). */
  readonly cutoff: number | null;
}

/**
 * Anti-alias low-pass, then keep every `factor`-th sample, starting with the first sample after
 * a reset. The phase is counted in samples since reset, so chunking cannot change which samples
 * are kept. Output rate is `rate / factor`; output `firstSample` is the kept sample's input index
 * divided by `factor`, rounded down; times are those of the first kept sample. A chunk with no
 * kept sample yields an empty block whose times are those the next output sample will have.
 */
export class Decimate implements Unit<DecimateSettings> {
  readonly kind = 'decimate';
  readonly settings: Readonly<DecimateSettings>;
  readonly #shape = new ShapeGuard();
  readonly #out = new BlockBuffer();
  #bank: SosBank | undefined;
  #filtered = new Float32Array(0);
  /** Input samples to skip before the next kept one. */
  #skip = 0;

  constructor(settings: DecimateSettings) {
    this.settings = Object.freeze({ ...settings });
  }

  process(input: SampleBlock): SampleBlock {
    const f = this.settings.factor;
    if (this.#shape.differs(input)) {
      const problem = decimateKind.checkShape!(this.settings, input);
      if (problem) throw shapeError(this.kind, problem);
      this.#bank = new SosBank(butterLowpass(cutoffFor(this.settings, input.rate), input.rate, this.settings.order));
      this.#bank.allocate(input.channels);
      this.#skip = 0;
      this.#shape.accept(input);
    }
    const n = input.samples;
    const total = input.channels * n;
    if (this.#filtered.length < total) this.#filtered = new Float32Array(Math.max(total, this.#filtered.length * 2));
    const filtered = this.#filtered;
    this.#bank!.run(input.data, filtered, n);
    const first = this.#skip;
    const kept = first < n ? Math.floor((n - 1 - first) / f) + 1 : 0;
    this.#skip = kept > 0 ? f - 1 - (n - 1 - (first + (kept - 1) * f)) : first - n;
    const out = this.#out.take(input, input.channels, kept, input.rate / f);
    out.firstSample = Math.floor((input.firstSample + first) / f);
    out.hostTimeMs = input.hostTimeMs + first * input.hostPeriodMs;
    out.deviceTimeUs = input.deviceTimeUs + (first * 1e6) / input.rate;
    out.hostPeriodMs = input.hostPeriodMs * f;
    const y = out.data;
    for (let c = 0; c < input.channels; c++) {
      const src = c * n + first;
      const dst = c * kept;
      for (let k = 0; k < kept; k++) y[dst + k] = filtered[src + k * f]!;
    }
    return out;
  }

  reset(): void {
    this.#bank?.reset();
    this.#skip = 0;
  }
}

function cutoffFor(s: DecimateSettings, rate: number): number {
  return s.cutoff ?? (0.8 * rate) / (2 * s.factor);
}

export const decimateKind: UnitKind<DecimateSettings> = {
  kind: 'decimate',
  summary: 'anti-alias low-pass, then keep one sample in `factor`',
  parse(raw, at) {
    const r = new SettingsReader(raw, at, ['factor', 'order', 'cutoff']);
    return {
      factor: r.number('factor', { integer: true, min: 2, max: 64 }),
      order: r.number('order', { integer: true, min: 1, max: 8 }, 8),
      cutoff: r.has('cutoff') ? r.number('cutoff', { above: 0 }) : null,
    };
  },
  create: (s) => new Decimate(s),
  checkShape(s: DecimateSettings, { rate }: InputShape): ShapeProblem | undefined {
    return s.cutoff === null ? undefined : belowNyquist('cutoff', s.cutoff, rate / s.factor);
  },
};
