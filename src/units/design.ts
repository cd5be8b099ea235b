/**
 * IIR filter design, done here rather than by a dependency: Butterworth low-, high- and
 * band-pass via the bilinear transform with frequency prewarping, and second-order notches.
 *
 * A design is a cascade of second-order sections (SOS): a Float64Array with five numbers per
 * section, `[b0, b1, b2, a1, a2]` (a0 normalised to 1). First-order sections have b2 = a2 = 0.
 * `order` follows scipy.signal.butter: a band-pass of order N has 2N poles (N sections).
 */
export type Sos = Float64Array;

export const SOS_STRIDE = 5;

/** tan-prewarped cutoff, normalised so the bilinear map is z = (1 + s) / (1 - s). */
function prewarp(freq: number, rate: number): number {
  return Math.tan((Math.PI * freq) / rate);
}

/** Q of the k-th conjugate pole pair of an order-N Butterworth prototype. */
function butterQ(order: number, k: number): number {
  return 1 / (2 * Math.sin(((2 * k + 1) * Math.PI) / (2 * order)));
}

function lowHigh(kind: 'lowpass' | 'highpass', cutoff: number, rate: number, order: number): Sos {
  const k = prewarp(cutoff, rate);
  const k2 = k * k;
  const pairs = Math.floor(order / 2);
  const sos = new Float64Array(Math.ceil(order / 2) * SOS_STRIDE);
  for (let i = 0; i < pairs; i++) {
    const q = butterQ(order, i);
    const norm = 1 / (1 + k / q + k2);
    const b0 = kind === 'lowpass' ? k2 * norm : norm;
    sos.set([b0, kind === 'lowpass' ? 2 * b0 : -2 * b0, b0, 2 * (k2 - 1) * norm, (1 - k / q + k2) * norm], i * SOS_STRIDE);
  }
  if (order % 2 === 1) {
    const norm = 1 / (1 + k);
    const b0 = kind === 'lowpass' ? k * norm : norm;
    sos.set([b0, kind === 'lowpass' ? b0 : -b0, 0, (k - 1) * norm, 0], pairs * SOS_STRIDE);
  }
  return sos;
}

export function butterLowpass(cutoff: number, rate: number, order: number): Sos {
  return lowHigh('lowpass', cutoff, rate, order);
}

export function butterHighpass(cutoff: number, rate: number, order: number): Sos {
  return lowHigh('highpass', cutoff, rate, order);
}

/**
 * Band-pass: the order-N Butterworth prototype's poles go through the low-pass to band-pass
 * transform (s -> (s^2 + W0^2) / (B s)) at prewarped edges, then through the bilinear map.
 * Each section gets one zero at z = 1 and one at z = -1 and unit gain at the centre frequency.
 */
export function butterBandpass(low: number, high: number, rate: number, order: number): Sos {
  const w1 = prewarp(low, rate);
  const w2 = prewarp(high, rate);
  const w0sq = w1 * w2;
  const bw = w2 - w1;
  const re: number[] = [];
  const im: number[] = [];
  for (let k = 0; k < order; k++) {
    const theta = (Math.PI * (2 * k + order + 1)) / (2 * order);
    // Roots of s^2 - (p B) s + W0^2 with p = e^{j theta}.
    const pr = Math.cos(theta) * bw;
    const pi = Math.sin(theta) * bw;
    const [dr, di] = csqrt(pr * pr - pi * pi - 4 * w0sq, 2 * pr * pi);
    for (const sign of [1, -1]) {
      const [zr, zi] = bilinear((pr + sign * dr) / 2, (pi + sign * di) / 2);
      re.push(zr);
      im.push(zi);
    }
  }
  const w0 = 2 * Math.atan(Math.sqrt(w0sq));
  const sections: Array<[number, number]> = [];
  const reals: number[] = [];
  const tol = 1e-12;
  for (let i = 0; i < re.length; i++) {
    if (im[i]! > tol) sections.push([-2 * re[i]!, re[i]! * re[i]! + im[i]! * im[i]!]);
    else if (Math.abs(im[i]!) <= tol) reals.push(re[i]!);
  }
  reals.sort((a, b) => a - b);
  for (let i = 0; i + 1 < reals.length; i += 2) sections.push([-(reals[i]! + reals[i + 1]!), reals[i]! * reals[i + 1]!]);
  const sos = new Float64Array(sections.length * SOS_STRIDE);
  sections.forEach(([a1, a2], i) => {
    sos.set([1, 0, -1, a1, a2], i * SOS_STRIDE);
    const g = 1 / sectionGain(sos, i, w0);
    sos[i * SOS_STRIDE] = g;
    sos[i * SOS_STRIDE + 2] = -g;
  });
  return sos;
}

/**
 * Notch (band-stop biquad, bilinear with prewarping at the centre, as in the RBJ cookbook):
 * a true zero at `freq`, -3 dB bandwidth about freq / q.
 */
export function notch(freq: number, rate: number, q: number): Sos {
  const w0 = (2 * Math.PI * freq) / rate;
  const alpha = Math.sin(w0) / (2 * q);
  const c = -2 * Math.cos(w0);
  const n = 1 / (1 + alpha);
  return Float64Array.of(n, c * n, n, c * n, (1 - alpha) * n);
}

/** Concatenate designs into one cascade. */
export function cascade(...parts: readonly Sos[]): Sos {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** |H(e^{jw})| of the whole cascade at `freq` Hz: for tests, docs and sanity checks. */
export function sosGain(sos: Sos, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  let g = 1;
  for (let i = 0; i < sos.length / SOS_STRIDE; i++) g *= sectionGain(sos, i, w);
  return g;
}

function sectionGain(sos: Sos, i: number, w: number): number {
  const o = i * SOS_STRIDE;
  const c1 = Math.cos(w),
    s1 = Math.sin(w),
    c2 = Math.cos(2 * w),
    s2 = Math.sin(2 * w);
  const nr = sos[o]! + sos[o + 1]! * c1 + sos[o + 2]! * c2;
  const ni = -(sos[o + 1]! * s1 + sos[o + 2]! * s2);
  const dr = 1 + sos[o + 3]! * c1 + sos[o + 4]! * c2;
  const di = -(sos[o + 3]! * s1 + sos[o + 4]! * s2);
  return Math.sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
}

function csqrt(re: number, im: number): [number, number] {
  const m = Math.hypot(re, im);
  const r = Math.sqrt((m + re) / 2);
  const i = Math.sqrt(Math.max(0, (m - re) / 2));
  return [r, im < 0 ? -i : i];
}

/** z = (1 + s) / (1 - s) for complex s. */
function bilinear(sr: number, si: number): [number, number] {
  const dr = 1 - sr;
  const di = -si;
  const nr = 1 + sr;
  const ni = si;
  const d = dr * dr + di * di;
  return [(nr * dr + ni * di) / d, (ni * dr - nr * di) / d];
}
