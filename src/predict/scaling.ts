/**
 * The arithmetic around a model: per-channel z-score of the time-major window on the way in,
 * `raw * std + mean` per output on the way out. One implementation, used by Predictor and by
 * KernelPredictor (the loop worker's predictor after a live model switch), so both give the
 * same bits for the same window.
 */
import type { CompiledKernel } from './kernel.js';
import type { ReflexModelMeta } from './metadata.js';

export interface ModelScaling {
  channels: number;
  samples: number;
  mean: Float32Array;
  invStd: Float32Array;
  outMean: Float32Array;
  outStd: Float32Array;
}

export function scalingOf(meta: Pick<ReflexModelMeta, 'input' | 'normalization' | 'outputs'>): ModelScaling {
  return {
    channels: meta.input.channels,
    samples: meta.input.samples,
    mean: Float32Array.from(meta.normalization.mean),
    invStd: Float32Array.from(meta.normalization.std, (s) => 1 / s),
    outMean: Float32Array.from(meta.outputs, (o) => o.mean ?? 0),
    outStd: Float32Array.from(meta.outputs, (o) => o.std ?? 1),
  };
}

/** x = (input - mean[c]) / std[c], layout kept (time-major). */
export function normalise(s: ModelScaling, input: Float32Array, x: Float32Array): void {
  const { channels: C, samples: S, mean, invStd } = s;
  if (input.length < C * S) throw new RangeError(`predictor input has ${input.length} values, needs ${C * S} (${S} samples x ${C} channels, time-major)`);
  for (let t = 0, i = 0; t < S; t++) {
    for (let c = 0; c < C; c++, i++) x[i] = (input[i]! - mean[c]!) * invStd[c]!;
  }
}

/** out = raw * std + mean, per output. */
export function denormalise(s: ModelScaling, raw: Float32Array, out: Float32Array): void {
  const n = s.outMean.length;
  for (let i = 0; i < n; i++) out[i] = raw[i]! * s.outStd[i]! + s.outMean[i]!;
}

/**
 * A compiled kernel with its model's scaling: what Predictor's compiled path computes, with
 * no TensorFlow.js behind it. Allocates nothing per call.
 */
export class KernelPredictor {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly #s: ModelScaling;
  readonly #k: CompiledKernel;
  readonly #x: Float32Array;
  readonly #raw: Float32Array;

  constructor(scaling: ModelScaling, kernel: CompiledKernel) {
    const n = scaling.channels * scaling.samples;
    if (kernel.inputSize !== n) throw new RangeError(`kernel takes ${kernel.inputSize} values, the model's window is ${scaling.samples} x ${scaling.channels}`);
    if (kernel.outputSize !== scaling.outMean.length)
      throw new RangeError(`kernel gives ${kernel.outputSize} values, the model lists ${scaling.outMean.length} outputs`);
    this.#s = scaling;
    this.#k = kernel;
    this.inputSize = n;
    this.outputSize = kernel.outputSize;
    this.#x = new Float32Array(n);
    this.#raw = new Float32Array(kernel.outputSize);
  }

  predict(input: Float32Array, out: Float32Array): void {
    normalise(this.#s, input, this.#x);
    this.#k.run(this.#x, this.#raw);
    denormalise(this.#s, this.#raw, out);
  }
}
