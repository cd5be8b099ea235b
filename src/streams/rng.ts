/**
 * Small, fast, seeded PRNG (xoshiro128**, state seeded through splitmix32) with the
 * samplers the muxes need. Deterministic for a given seed on every platform, allocation-free
 * per draw, and independent of Math.random so tests can replay a mux exactly.
 */

const TWO_POW_M32 = 2 ** -32;
const TWO_POW_M53 = 2 ** -53;
/** Knuth's product method costs ~lam uniforms; above this the rejection sampler is cheaper. */
const POISSON_SMALL = 12;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

export class Rng {
  #a = 0;
  #b = 0;
  #c = 0;
  #d = 0;
  /** Cached exp(-lam) for the small-lam Poisson path (muxes call it with one lam). */
  #lastLam = Number.NaN;
  #lastExp = 0;

  constructor(seed = 0x9e3779b9) {
    this.seed(seed);
  }

  /** Reset the state from a 32-bit seed (non-integers are truncated). */
  seed(seed: number): void {
    let s = seed >>> 0;
    const next = (): number => {
      // splitmix32: spreads even tiny or similar seeds over the whole state.
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1; // the all-zero state is a fixed point
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const b = this.#b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.#c ^= this.#a;
    this.#d ^= b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * TWO_POW_M53;
  }

  /** Uniform double in [0, 1) with 32 random bits: half the cost, enough for picking among few items. */
  random32(): number {
    return this.nextUint32() * TWO_POW_M32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** Fisher-Yates in place. */
  shuffle<A extends { length: number; [i: number]: number }>(arr: A): A {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }

  /**
   * Poisson(lam) sample. lam < 12: Knuth's product of uniforms (exact). Otherwise Hörmann's
   * transformed rejection with squeeze (PTRS, 1993), exact up to floating point; O(1) expected.
   */
  poisson(lam: number): number {
    if (!(lam >= 0) || !Number.isFinite(lam)) throw new RangeError(`poisson: lam must be finite and >= 0, got ${lam}`);
    if (lam === 0) return 0;
    if (lam < POISSON_SMALL) {
      if (lam !== this.#lastLam) {
        this.#lastLam = lam;
        this.#lastExp = Math.exp(-lam);
      }
      const limit = this.#lastExp;
      let k = 0;
      let p = this.random();
      while (p > limit) {
        k++;
        p *= this.random();
      }
      return k;
    }
    return this.#ptrs(lam);
  }

  #ptrs(lam: number): number {
    const slam = Math.sqrt(lam);
    const loglam = Math.log(lam);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.random() - 0.5;
      const v = this.random();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lam + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lam + k * loglam - logFactorial(k)) return k;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

let logFactTable: Float64Array | null = null;
/** ln(k!) exactly from a table below 256, Stirling's series above (error < 1e-12 there). */
export function logFactorial(k: number): number {
  if (k < 256) {
    if (!logFactTable) {
      logFactTable = new Float64Array(256);
      for (let i = 2; i < 256; i++) logFactTable[i] = logFactTable[i - 1]! + Math.log(i);
    }
    return logFactTable[k]!;
  }
  const x = k + 1;
  const x2 = x * x;
  return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + 1 / (12 * x) - 1 / (360 * x * x2) + 1 / (1260 * x * x2 * x2);
}
