import * as tf from '@tensorflow/tfjs';
import { ACTIVATIONS, type Activation, type Op, activationOp, affineOp, conv1dOp, denseOp, globalPool1dOp, layerNormOp, pool1dOp } from './compile-ops.js';
import { ModelCodes, modelError } from './errors.js';
import { assembleKernel, type CompiledKernel } from './kernel.js';
import { mulberry32 } from '../core/prng.js';

export { assembleKernel, type CompiledKernel } from './kernel.js';

/**
 * Compile a LayersModel made of supported layers into one allocation-free kernel:
 * weights copied out once, every intermediate preallocated, batch 1. Anything it
 * cannot reproduce exactly (an unsupported layer, option or topology) is refused with
 * the reason, and the caller keeps running the model through TensorFlow.js.
 */
export type CompileResult = { ok: true; kernel: CompiledKernel } | { ok: false; reason: string };

class Unsupported extends Error {}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

export function compileLayersModel(model: tf.LayersModel): CompileResult {
  try {
    return { ok: true, kernel: build(model) };
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, reason: err.message };
    throw err;
  }
}

function build(model: tf.LayersModel): CompiledKernel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new Unsupported(`model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; only single-input single-output chains compile`);
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  if (model.getClassName() !== 'Sequential') checkChain(model);
  const inShape = model.inputs[0]!.shape.slice(1);
  if (inShape.some((d) => d === null)) throw new Unsupported(`input shape [${model.inputs[0]!.shape.join(', ')}] has unknown dimensions`);
  let shape = inShape as number[];
  const ops: Op[] = [];
  for (const layer of layers) {
    const op = layerOp(layer, shape);
    if (op === null) {
      // Shape-only layers (Flatten, Reshape, Dropout) move no data in row-major layout.
      const out = (layer.outputShape as (number | null)[]).slice(1);
      if (out.some((d) => d === null) || size(out as number[]) !== size(shape))
        throw new Unsupported(`layer ${layer.name}: output shape [${out.join(', ')}] is not a plain reshape`);
      shape = out as number[];
      continue;
    }
    const expect = (layer.outputShape as (number | null)[]).slice(1);
    if (expect.length !== op.outShape.length || expect.some((d, i) => d !== op.outShape[i])) {
      throw new Unsupported(
        `layer ${layer.name} (${layer.getClassName()}): computed output shape [${op.outShape.join(', ')}], TensorFlow.js says [${expect.join(', ')}]`,
      );
    }
    ops.push(op);
    shape = [...op.outShape];
  }
  return assembleKernel(inShape as number[], shape, ops);
}

function checkChain(model: tf.LayersModel): void {
  let prev: tf.layers.Layer | undefined;
  for (const layer of model.layers) {
    const nodes = layer.inboundNodes;
    if (nodes.length !== 1) throw new Unsupported(`layer ${layer.name} is used ${nodes.length} times; only plain chains compile`);
    const inbound = nodes[0]!.inboundLayers;
    if (prev === undefined) {
      if (inbound.length !== 0) throw new Unsupported(`first layer ${layer.name} is not the input`);
    } else if (inbound.length !== 1 || inbound[0] !== prev) {
      throw new Unsupported(`layer ${layer.name} does not take the previous layer's output; only plain chains compile`);
    }
    prev = layer;
  }
}

type Cfg = Record<string, unknown>;

function activation(layer: tf.layers.Layer, cfg: Cfg): Activation {
  const a = cfg.activation ?? 'linear';
  if (typeof a !== 'string' || !ACTIVATIONS.includes(a))
    throw new Unsupported(`layer ${layer.name}: activation ${JSON.stringify(a)} is not compiled (supported: ${ACTIVATIONS.join(', ')})`);
  return a as Activation;
}

function weight(layer: tf.layers.Layer, suffix: string, required: boolean): Float32Array | null {
  const w = layer.weights.find((v) => v.name.endsWith(`/${suffix}`) || v.originalName.endsWith(`/${suffix}`));
  if (!w) {
    if (required) throw new Unsupported(`layer ${layer.name}: weight "${suffix}" not found`);
    return null;
  }
  const t = w.read();
  return Float32Array.from(t.dataSync() as Float32Array);
}

function one(v: unknown, what: string, layer: tf.layers.Layer): number {
  const n: unknown = Array.isArray(v) ? (v.length === 1 ? (v as unknown[])[0] : Number.NaN) : v;
  if (!Number.isInteger(n)) throw new Unsupported(`layer ${layer.name}: ${what} ${JSON.stringify(v)} is not a single integer`);
  return n as number;
}

function lastAxis(layer: tf.layers.Layer, axis: unknown, rank: number): void {
  const a: unknown = Array.isArray(axis) ? (axis.length === 1 ? (axis as unknown[])[0] : Number.NaN) : axis;
  if (a !== -1 && a !== rank) throw new Unsupported(`layer ${layer.name}: normalisation over axis ${JSON.stringify(axis)}; only the last axis compiles`);
}

/** An op for the layer, null for a data-free reshape; throws Unsupported otherwise. */
function layerOp(layer: tf.layers.Layer, inShape: readonly number[]): Op | null {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Cfg;
  const rank = inShape.length;
  const need3d = (): void => {
    if (rank !== 2) throw new Unsupported(`layer ${layer.name} (${cls}) needs a [steps, channels] input, got [${inShape.join(', ')}]`);
    if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast')
      throw new Unsupported(`layer ${layer.name}: dataFormat ${JSON.stringify(cfg.dataFormat)} is not compiled`);
  };
  switch (cls) {
    case 'Flatten':
    case 'Reshape':
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'GaussianNoise':
    case 'GaussianDropout':
      return null;
    case 'Dense': {
      const units = cfg.units as number;
      return denseOp(
        layer.name,
        inShape,
        weight(layer, 'kernel', true)!,
        cfg.useBias === false ? null : weight(layer, 'bias', true),
        units,
        activation(layer, cfg),
      );
    }
    case 'Conv1D': {
      need3d();
      const padding = cfg.padding as string;
      // TensorFlow.js 4 cannot run causal Conv1D itself, so there is nothing to verify a kernel against.
      if (padding !== 'valid' && padding !== 'same') throw new Unsupported(`layer ${layer.name}: Conv1D padding "${padding}" is not compiled`);
      return conv1dOp(
        layer.name,
        inShape,
        weight(layer, 'kernel', true)!,
        cfg.useBias === false ? null : weight(layer, 'bias', true),
        one(cfg.kernelSize, 'kernelSize', layer),
        cfg.filters as number,
        one(cfg.strides ?? 1, 'strides', layer),
        one(cfg.dilationRate ?? 1, 'dilationRate', layer),
        padding,
        activation(layer, cfg),
      );
    }
    case 'MaxPooling1D':
    case 'AveragePooling1D': {
      need3d();
      const padding = cfg.padding as string;
      if (padding !== 'valid' && padding !== 'same') throw new Unsupported(`layer ${layer.name}: padding ${padding}`);
      const p = one(cfg.poolSize, 'poolSize', layer);
      return pool1dOp(layer.name, inShape, cls === 'MaxPooling1D' ? 'max' : 'avg', p, one(cfg.strides ?? p, 'strides', layer), padding);
    }
    case 'GlobalAveragePooling1D':
    case 'GlobalMaxPooling1D':
      need3d();
      return globalPool1dOp(layer.name, inShape, cls === 'GlobalMaxPooling1D' ? 'max' : 'avg');
    case 'Activation':
      return activationOp(layer.name, inShape, activation(layer, cfg));
    case 'BatchNormalization': {
      lastAxis(layer, cfg.axis ?? -1, rank);
      const eps = cfg.epsilon as number;
      const gamma = cfg.scale === false ? null : weight(layer, 'gamma', true);
      const beta = cfg.center === false ? null : weight(layer, 'beta', true);
      const mean = weight(layer, 'moving_mean', true)!;
      const variance = weight(layer, 'moving_variance', true)!;
      const D = mean.length;
      const scale = new Float32Array(D);
      const shift = new Float32Array(D);
      for (let d = 0; d < D; d++) {
        const s = (gamma ? gamma[d]! : 1) / Math.sqrt(variance[d]! + eps);
        scale[d] = s;
        shift[d] = (beta ? beta[d]! : 0) - mean[d]! * s;
      }
      return affineOp(layer.name, 'BatchNormalization', inShape, scale, shift, { moving_mean: mean, moving_variance: variance, scale, shift });
    }
    case 'LayerNormalization':
      lastAxis(layer, cfg.axis ?? -1, rank);
      return layerNormOp(
        layer.name,
        inShape,
        cfg.scale === false ? null : weight(layer, 'gamma', true),
        cfg.center === false ? null : weight(layer, 'beta', true),
        cfg.epsilon as number,
      );
    default:
      throw new Unsupported(`layer ${layer.name}: ${cls} is not compiled`);
  }
}

export interface VerifyResult {
  maxAbsDiff: number;
  trials: number;
}

/**
 * Run the kernel and TensorFlow.js on the same random inputs (seeded, N(0,1)-like,
 * plus all-zero) and refuse the kernel if any output differs by more than `tol`.
 */
export function verifyCompiled(
  kernel: CompiledKernel,
  model: tf.LayersModel,
  opts: { trials?: number; tol?: number; seed?: number; file?: string } = {},
): VerifyResult {
  const trials = opts.trials ?? 16;
  const tol = opts.tol ?? 1e-5;
  const rand = mulberry32(opts.seed ?? 0x5eed);
  const x = new Float32Array(kernel.inputSize);
  const y = new Float32Array(kernel.outputSize);
  let maxAbs = 0;
  for (let t = 0; t < trials; t++) {
    for (let i = 0; i < x.length; i++) x[i] = t === 0 ? 0 : gauss(rand);
    kernel.run(x, y);
    const ref = tf.tidy(() => {
      const out = model.predict(tf.tensor(x, [1, ...kernel.inputShape])) as tf.Tensor;
      return out.dataSync() as Float32Array;
    });
    if (ref.length !== y.length)
      throw modelError(
        ModelCodes.compileMismatch,
        `compiled kernel gives ${y.length} outputs, TensorFlow.js ${ref.length}${opts.file ? ` for ${opts.file}` : ''}`,
      );
    for (let i = 0; i < y.length; i++) {
      const d = Math.abs(y[i]! - ref[i]!);
      if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    }
  }
  if (!(maxAbs <= tol)) {
    throw modelError(
      ModelCodes.compileMismatch,
      `compiled kernel disagrees with TensorFlow.js${opts.file ? ` for ${opts.file}` : ''}: ` +
        `max abs difference ${maxAbs.toExponential(3)} > ${tol} over ${trials} random inputs. ` +
        'This is a compiler bug: run with predictor mode "tfjs" and report the model',
    );
  }
  return { maxAbsDiff: maxAbs, trials };
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}
