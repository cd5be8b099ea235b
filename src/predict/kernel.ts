/**
 * A compiled kernel: a chain of allocation-free ops (compile-ops.ts) run over preallocated
 * buffers. Free of TensorFlow.js, so threads that only run kernels (the loop worker after a
 * model swap) and the main thread never load it.
 */
import type { Op } from './compile-ops.js';

export interface CompiledKernel {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly ops: readonly Op[];
  /** input: the model's input tensor flattened row-major (batch 1). */
  run(input: Float32Array, output: Float32Array): void;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** One kernel over a chain of ops: every intermediate buffer allocated here, once. */
export function assembleKernel(inShape: readonly number[], shape: readonly number[], ops: Op[]): CompiledKernel {
  const inputSize = size(inShape);
  const outputSize = size(shape);
  const bufs = ops.map((o) => new Float32Array(size(o.outShape)));
  const outShape = [...shape];
  return {
    inputSize,
    outputSize,
    inputShape: [...inShape],
    outputShape: outShape,
    ops,
    run(input, output) {
      let x = input;
      for (let i = 0; i < ops.length; i++) {
        ops[i]!.run(x, bufs[i]!);
        x = bufs[i]!;
      }
      for (let i = 0; i < outputSize; i++) output[i] = x[i]!;
    },
  };
}
