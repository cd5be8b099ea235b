import { SOS_STRIDE, type Sos } from './design.js';

/**
 * Runs one SOS cascade over every channel of a channel-major block, Direct Form II transposed,
 * with float64 state per channel and section. Values stay float64 between sections and are
 * rounded to float32 once, on output; the arithmetic for sample n depends only on the samples
 * before it, never on where chunks were cut, so chunked and whole-signal output are bit-identical.
 */
export class SosBank {
  readonly sos: Sos;
  readonly sections: number;
  #state = new Float64Array(0);
  #scratch = new Float64Array(0);
  #channels = 0;

  constructor(sos: Sos) {
    this.sos = sos;
    this.sections = sos.length / SOS_STRIDE;
  }

  /** Allocate zeroed state for `channels` channels (called on a shape change). */
  allocate(channels: number): void {
    this.#channels = channels;
    this.#state = new Float64Array(channels * this.sections * 2);
  }

  reset(): void {
    this.#state.fill(0);
  }

  /**
   * Filter `samples` samples of each of the allocated channels from `input` into `output`
   * (both channel-major, may be the same array). `rectify` takes |x| first (envelope detection).
   */
  run(input: Float32Array, output: Float32Array, samples: number, rectify = false): void {
    if (this.#scratch.length < samples) this.#scratch = new Float64Array(Math.max(samples, this.#scratch.length * 2));
    const x = this.#scratch;
    const sos = this.sos;
    const state = this.#state;
    const nsec = this.sections;
    for (let c = 0; c < this.#channels; c++) {
      const off = c * samples;
      if (rectify) for (let i = 0; i < samples; i++) x[i] = Math.abs(input[off + i]!);
      else for (let i = 0; i < samples; i++) x[i] = input[off + i]!;
      for (let s = 0; s < nsec; s++) {
        const k = s * SOS_STRIDE;
        const b0 = sos[k]!,
          b1 = sos[k + 1]!,
          b2 = sos[k + 2]!,
          a1 = sos[k + 3]!,
          a2 = sos[k + 4]!;
        const z = (c * nsec + s) * 2;
        let s1 = state[z]!;
        let s2 = state[z + 1]!;
        for (let i = 0; i < samples; i++) {
          const xi = x[i]!;
          const y = b0 * xi + s1;
          s1 = b1 * xi - a1 * y + s2;
          s2 = b2 * xi - a2 * y;
          x[i] = y;
        }
        state[z] = s1;
        state[z + 1] = s2;
      }
      for (let i = 0; i < samples; i++) output[off + i] = x[i]!;
    }
  }
}
