import { butterBandpass, butterHighpass, butterLowpass, cascade, notch, type Sos } from './design.js';
import { IirUnit } from './iir.js';
import { belowNyquist } from './shape.js';
import { SettingsReader } from './settings.js';
import type { ShapeProblem, UnitKind } from './types.js';

export interface BandpassSettings {
  /** Lower -3 dB edge, Hz. */
  readonly low: number;
  /** Upper -3 dB edge, Hz; below Nyquist. */
  readonly high: number;
  /** Butterworth prototype order 2..8 (2N poles, N biquads). Default 4. */
  readonly order: number;
}

export class Bandpass extends IirUnit<BandpassSettings> {
  readonly kind = 'bandpass';
  protected design(rate: number): Sos {
    return butterBandpass(this.settings.low, this.settings.high, rate, this.settings.order);
  }
  protected shapeProblem(rate: number): ShapeProblem | undefined {
    return belowNyquist('high', this.settings.high, rate);
  }
}

export const bandpassKind: UnitKind<BandpassSettings> = {
  kind: 'bandpass',
  summary: 'Butterworth band-pass (bilinear, prewarped), order 2..8',
  parse(raw, at) {
    const r = new SettingsReader(raw, at, ['low', 'high', 'order']);
    const low = r.number('low', { above: 0 });
    const high = r.number('high', { above: low });
    return { low, high, order: r.number('order', { integer: true, min: 2, max: 8 }, 4) };
  },
  create: (s) => new Bandpass(s),
  checkShape: (s, { rate }) => belowNyquist('high', s.high, rate),
};

export interface PassSettings {
  /** -3 dB cutoff, Hz; below Nyquist. */
  readonly cutoff: number;
  /** Butterworth order 1..8. Default 4. */
  readonly order: number;
}

function parsePass(raw: unknown, at: string): PassSettings {
  const r = new SettingsReader(raw, at, ['cutoff', 'order']);
  return { cutoff: r.number('cutoff', { above: 0 }), order: r.number('order', { integer: true, min: 1, max: 8 }, 4) };
}

export class Highpass extends IirUnit<PassSettings> {
  readonly kind = 'highpass';
  protected design(rate: number): Sos {
    return butterHighpass(this.settings.cutoff, rate, this.settings.order);
  }
  protected shapeProblem(rate: number): ShapeProblem | undefined {
    return belowNyquist('cutoff', this.settings.cutoff, rate);
  }
}

export const highpassKind: UnitKind<PassSettings> = {
  kind: 'highpass',
  summary: 'Butterworth high-pass, order 1..8',
  parse: parsePass,
  create: (s) => new Highpass(s),
  checkShape: (s, { rate }) => belowNyquist('cutoff', s.cutoff, rate),
};

export class Lowpass extends IirUnit<PassSettings> {
  readonly kind = 'lowpass';
  protected design(rate: number): Sos {
    return butterLowpass(this.settings.cutoff, rate, this.settings.order);
  }
  protected shapeProblem(rate: number): ShapeProblem | undefined {
    return belowNyquist('cutoff', this.settings.cutoff, rate);
  }
}

export const lowpassKind: UnitKind<PassSettings> = {
  kind: 'lowpass',
  summary: 'Butterworth low-pass, order 1..8',
  parse: parsePass,
  create: (s) => new Lowpass(s),
  checkShape: (s, { rate }) => belowNyquist('cutoff', s.cutoff, rate),
};

export interface NotchSettings {
  /** Mains frequency, 50 or 60 Hz. */
  readonly mains: 50 | 60;
  /** Notch the fundamental and the next harmonics-1 multiples (1..20). Default 1. Multiples at or above Nyquist are skipped. */
  readonly harmonics: number;
  /** Quality factor: -3 dB width is about frequency / q. Default 30. */
  readonly q: number;
}

/** Frequencies the notch removes at `rate`: mains multiples below Nyquist. */
export function notchFrequencies(s: NotchSettings, rate: number): number[] {
  const out: number[] = [];
  for (let h = 1; h <= s.harmonics && h * s.mains < rate / 2; h++) out.push(h * s.mains);
  return out;
}

export class Notch extends IirUnit<NotchSettings> {
  readonly kind = 'notch';
  protected design(rate: number): Sos {
    return cascade(...notchFrequencies(this.settings, rate).map((f) => notch(f, rate, this.settings.q)));
  }
  protected shapeProblem(rate: number): ShapeProblem | undefined {
    return belowNyquist('mains', this.settings.mains, rate);
  }
}

export const notchKind: UnitKind<NotchSettings> = {
  kind: 'notch',
  summary: 'mains notch at 50 or 60 Hz and harmonics',
  parse(raw, at) {
    const r = new SettingsReader(raw, at, ['mains', 'harmonics', 'q']);
    return {
      mains: r.oneOf('mains', [50, 60] as const),
      harmonics: r.number('harmonics', { integer: true, min: 1, max: 20 }, 1),
      q: r.number('q', { above: 0 }, 30),
    };
  },
  create: (s) => new Notch(s),
  checkShape: (s, { rate }) => belowNyquist('mains', s.mains, rate),
};
