import type { SampleBlock } from '../core/block.js';
import type { Sos } from './design.js';
import { butterLowpass } from './design.js';
import { IirUnit } from './iir.js';
import { belowNyquist } from './shape.js';
import { parseLength, Rms } from './rms.js';
import { SettingsReader } from './settings.js';
import type { ShapeProblem, Unit, UnitKind } from './types.js';

export type EnvelopeSettings =
  /** Rectify, then a Butterworth low-pass (cutoff Hz, order 1..8; defaults 5 Hz, order 2). */
  | { readonly method: 'lowpass'; readonly cutoff: number; readonly order: number }
  /** Moving RMS over `length` samples. */
  | { readonly method: 'rms'; readonly length: number };

type LowpassEnvelopeSettings = Extract<EnvelopeSettings, { method: 'lowpass' }>;

/** |x| then low-pass in one pass: the rectified value goes to the filter in float64. */
class RectifiedLowpass extends IirUnit<LowpassEnvelopeSettings> {
  readonly kind = 'envelope';
  constructor(s: LowpassEnvelopeSettings) {
    super(s, true);
  }
  protected design(rate: number): Sos {
    return butterLowpass(this.settings.cutoff, rate, this.settings.order);
  }
  protected shapeProblem(rate: number): ShapeProblem | undefined {
    return belowNyquist('cutoff', this.settings.cutoff, rate);
  }
}

class RmsEnvelope extends Rms {
  override readonly kind = 'envelope';
}

/** Amplitude envelope, either rectify + low-pass or moving RMS. */
export class Envelope implements Unit<EnvelopeSettings> {
  readonly kind = 'envelope';
  readonly settings: Readonly<EnvelopeSettings>;
  readonly #inner: Unit;

  constructor(settings: EnvelopeSettings) {
    this.settings = Object.freeze({ ...settings });
    this.#inner = settings.method === 'lowpass' ? new RectifiedLowpass(settings) : new RmsEnvelope({ length: settings.length });
  }

  process(input: SampleBlock): SampleBlock {
    return this.#inner.process(input);
  }

  reset(): void {
    this.#inner.reset();
  }
}

export const envelopeKind: UnitKind<EnvelopeSettings> = {
  kind: 'envelope',
  summary: 'amplitude envelope: rectify + low-pass, or moving RMS',
  parse(raw, at) {
    const r = new SettingsReader(raw, at, ['method', 'cutoff', 'order', 'length']);
    const method = r.oneOf('method', ['lowpass', 'rms'] as const, 'lowpass');
    if (method === 'rms') {
      for (const k of ['cutoff', 'order']) if (r.has(k)) r.fail(k, 'only applies to method "lowpass"');
      return { method, length: parseLength(r) };
    }
    if (r.has('length')) r.fail('length', 'only applies to method "rms"');
    return { method, cutoff: r.number('cutoff', { above: 0 }, 5), order: r.number('order', { integer: true, min: 1, max: 8 }, 2) };
  },
  create: (s) => new Envelope(s),
  checkShape: (s, { rate }) => (s.method === 'lowpass' ? belowNyquist('cutoff', s.cutoff, rate) : undefined),
};
