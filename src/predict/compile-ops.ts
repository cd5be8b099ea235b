/**
 * Allocation-free Float32Array kernels for the layers the compiler supports, batch 1,
 * channels-last (TensorFlow.js's layout). Each op owns its weights (copied once) and
 * writes into a buffer the plan preallocated; sums are taken in float64.
 */
export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'elu';
export const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'elu'];

export interface Op {
  readonly layer: string;
  readonly kind: string;
  readonly outShape: readonly number[];
  /** Weights this op copied out of the model, by name (exposed so checks can be proven to bite). */
  readonly params: Record<string, Float32Array>;
  /** Everything needed to build this op again (kernel-spec.ts): plain data, weights in run layout. */
  readonly spec: OpSpec;
  run(x: Float32Array, y: Float32Array): void;
}

type Padding = 'valid' | 'same';

/**
 * An op as plain data: what crosses a thread boundary (structured clone, weights transferable)
 * and opFromSpec() turns back into the same op. Weights are stored in the layout the op runs
 * on (Dense's kernel already transposed), so rebuilding copies and reorders nothing.
 */
export type OpSpec =
  | { op: 'dense'; layer: string; inShape: number[]; units: number; act: Activation; kernelT: Float32Array; bias: Float32Array | null }
  | {
      op: 'conv1d';
      layer: string;
      inShape: number[];
      k: number;
      filters: number;
      stride: number;
      dilation: number;
      padding: Padding;
      act: Activation;
      kernel: Float32Array;
      bias: Float32Array | null;
    }
  | { op: 'pool1d'; layer: string; inShape: number[]; mode: 'max' | 'avg'; p: number; stride: number; padding: Padding }
  | { op: 'globalPool1d'; layer: string; inShape: number[]; mode: 'max' | 'avg' }
  | { op: 'affine'; layer: string; kind: string; inShape: number[]; scale: Float32Array; shift: Float32Array }
  | { op: 'layerNorm'; layer: string; inShape: number[]; gamma: Float32Array | null; beta: Float32Array | null; eps: number }
  | { op: 'activation'; layer: string; inShape: number[]; act: Activation };

/** The op a spec describes; the spec's arrays become the op's own (not copied). */
export function opFromSpec(s: OpSpec): Op {
  switch (s.op) {
    case 'dense':
      return denseOpT(s.layer, s.inShape, s.kernelT, s.bias, s.units, s.act);
    case 'conv1d':
      return conv1dOp(s.layer, s.inShape, s.kernel, s.bias, s.k, s.filters, s.stride, s.dilation, s.padding, s.act);
    case 'pool1d':
      return pool1dOp(s.layer, s.inShape, s.mode, s.p, s.stride, s.padding);
    case 'globalPool1d':
      return globalPool1dOp(s.layer, s.inShape, s.mode);
    case 'affine':
      return affineOp(s.layer, s.kind, s.inShape, s.scale, s.shift, { scale: s.scale, shift: s.shift });
    case 'layerNorm':
      return layerNormOp(s.layer, s.inShape, s.gamma, s.beta, s.eps);
    case 'activation':
      return activationOp(s.layer, s.inShape, s.act);
  }
}

/** Apply an activation in place; softmax normalises over the last axis of length `last`. */
export function activate(a: Activation, y: Float32Array, n: number, last: number): void {
  switch (a) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < n; i++) if (y[i]! < 0) y[i] = 0;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-y[i]!));
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(y[i]!);
      return;
    case 'elu':
      for (let i = 0; i < n; i++) if (y[i]! < 0) y[i] = Math.expm1(y[i]!);
      return;
    case 'softmax':
      for (let r = 0; r < n; r += last) {
        let m = -Infinity;
        for (let i = r; i < r + last; i++) if (y[i]! > m) m = y[i]!;
        let s = 0;
        for (let i = r; i < r + last; i++) {
          const e = Math.exp(y[i]! - m);
          y[i] = e;
          s += e;
        }
        for (let i = r; i < r + last; i++) y[i] = y[i]! / s;
      }
      return;
  }
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

export function denseOp(layer: string, inShape: readonly number[], kernel: Float32Array, bias: Float32Array | null, units: number, act: Activation): Op {
  const inDim = inShape[inShape.length - 1]!;
  // Transposed to [units][in] so each output is one contiguous dot product kept in registers.
  const wt = new Float32Array(units * inDim);
  for (let i = 0; i < inDim; i++) for (let u = 0; u < units; u++) wt[u * inDim + i] = kernel[i * units + u]!;
  return denseOpT(layer, inShape, wt, bias, units, act);
}

/** Dense with its kernel already transposed to [units][in]. */
export function denseOpT(layer: string, inShape: readonly number[], wt: Float32Array, bias: Float32Array | null, units: number, act: Activation): Op {
  const inDim = inShape[inShape.length - 1]!;
  const rows = size(inShape) / inDim;
  const outShape = [...inShape.slice(0, -1), units];
  const n = rows * units;
  const tail = inDim - (inDim % 4);
  return {
    layer,
    kind: 'Dense',
    outShape,
    params: bias ? { kernelT: wt, bias } : { kernelT: wt },
    spec: { op: 'dense', layer, inShape: [...inShape], units, act, kernelT: wt, bias },
    run(x, y) {
      for (let r = 0; r < rows; r++) {
        const xo = r * inDim;
        for (let u = 0; u < units; u++) {
          const wo = u * inDim;
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          let i = 0;
          for (; i < tail; i += 4) {
            s0 += x[xo + i]! * wt[wo + i]!;
            s1 += x[xo + i + 1]! * wt[wo + i + 1]!;
            s2 += x[xo + i + 2]! * wt[wo + i + 2]!;
            s3 += x[xo + i + 3]! * wt[wo + i + 3]!;
          }
          for (; i < inDim; i++) s0 += x[xo + i]! * wt[wo + i]!;
          y[r * units + u] = (bias ? bias[u]! : 0) + (s0 + s1) + (s2 + s3);
        }
      }
      activate(act, y, n, units);
    },
  };
}

/** TensorFlow's padding arithmetic for one spatial axis. */
export function pad1d(len: number, window: number, stride: number, dilation: number, padding: 'valid' | 'same'): { out: number; left: number } {
  const eff = (window - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.max(0, Math.floor((len - eff) / stride) + 1), left: 0 };
  const out = Math.ceil(len / stride);
  const total = Math.max((out - 1) * stride + eff - len, 0);
  return { out, left: Math.floor(total / 2) };
}

export function conv1dOp(
  layer: string,
  inShape: readonly number[],
  kernel: Float32Array,
  bias: Float32Array | null,
  k: number,
  filters: number,
  stride: number,
  dilation: number,
  padding: Padding,
  act: Activation,
): Op {
  const [T, C] = inShape as [number, number];
  const { out, left } = pad1d(T, k, stride, dilation, padding);
  const acc = new Float64Array(filters);
  return {
    layer,
    kind: 'Conv1D',
    outShape: [out, filters],
    params: bias ? { kernel, bias } : { kernel },
    spec: { op: 'conv1d', layer, inShape: [...inShape], k, filters, stride, dilation, padding, act, kernel, bias },
    run(x, y) {
      for (let t = 0; t < out; t++) {
        if (bias) for (let f = 0; f < filters; f++) acc[f] = bias[f]!;
        else acc.fill(0);
        for (let j = 0; j < k; j++) {
          const ti = t * stride + j * dilation - left;
          if (ti < 0 || ti >= T) continue;
          for (let c = 0; c < C; c++) {
            const xv = x[ti * C + c]!;
            const wo = (j * C + c) * filters;
            for (let f = 0; f < filters; f++) acc[f]! += xv * kernel[wo + f]!;
          }
        }
        for (let f = 0; f < filters; f++) y[t * filters + f] = acc[f]!;
      }
      activate(act, y, out * filters, filters);
    },
  };
}

export function pool1dOp(layer: string, inShape: readonly number[], mode: 'max' | 'avg', p: number, stride: number, padding: Padding): Op {
  const [T, C] = inShape as [number, number];
  const { out, left } = pad1d(T, p, stride, 1, padding);
  return {
    layer,
    kind: mode === 'max' ? 'MaxPooling1D' : 'AveragePooling1D',
    outShape: [out, C],
    params: {},
    spec: { op: 'pool1d', layer, inShape: [...inShape], mode, p, stride, padding },
    run(x, y) {
      for (let t = 0; t < out; t++) {
        const lo = Math.max(0, t * stride - left);
        const hi = Math.min(T, t * stride - left + p);
        for (let c = 0; c < C; c++) {
          // Padded positions are excluded (max ignores them, average divides by the valid count), as in TensorFlow.
          let a = mode === 'max' ? -Infinity : 0;
          for (let ti = lo; ti < hi; ti++) {
            const v = x[ti * C + c]!;
            if (mode === 'max') {
              if (v > a) a = v;
            } else a += v;
          }
          y[t * C + c] = mode === 'max' ? a : a / (hi - lo);
        }
      }
    },
  };
}

export function globalPool1dOp(layer: string, inShape: readonly number[], mode: 'max' | 'avg'): Op {
  const [T, C] = inShape as [number, number];
  return {
    layer,
    kind: mode === 'max' ? 'GlobalMaxPooling1D' : 'GlobalAveragePooling1D',
    outShape: [C],
    params: {},
    spec: { op: 'globalPool1d', layer, inShape: [...inShape], mode },
    run(x, y) {
      for (let c = 0; c < C; c++) {
        let a = mode === 'max' ? -Infinity : 0;
        for (let t = 0; t < T; t++) {
          const v = x[t * C + c]!;
          if (mode === 'max') {
            if (v > a) a = v;
          } else a += v;
        }
        y[c] = mode === 'max' ? a : a / T;
      }
    },
  };
}

/** Per-feature affine on the last axis: BatchNormalization at inference folds into this. */
export function affineOp(
  layer: string,
  kind: string,
  inShape: readonly number[],
  scale: Float32Array,
  shift: Float32Array,
  params: Record<string, Float32Array>,
): Op {
  const D = inShape[inShape.length - 1]!;
  const n = size(inShape);
  return {
    layer,
    kind,
    outShape: [...inShape],
    params,
    spec: { op: 'affine', layer, kind, inShape: [...inShape], scale, shift },
    run(x, y) {
      for (let i = 0; i < n; i++) {
        const d = i % D;
        y[i] = x[i]! * scale[d]! + shift[d]!;
      }
    },
  };
}

export function layerNormOp(layer: string, inShape: readonly number[], gamma: Float32Array | null, beta: Float32Array | null, eps: number): Op {
  const D = inShape[inShape.length - 1]!;
  const n = size(inShape);
  const params: Record<string, Float32Array> = {};
  if (gamma) params.gamma = gamma;
  if (beta) params.beta = beta;
  return {
    layer,
    kind: 'LayerNormalization',
    outShape: [...inShape],
    params,
    spec: { op: 'layerNorm', layer, inShape: [...inShape], gamma, beta, eps },
    run(x, y) {
      for (let r = 0; r < n; r += D) {
        let m = 0;
        for (let i = r; i < r + D; i++) m += x[i]!;
        m /= D;
        let v = 0;
        for (let i = r; i < r + D; i++) {
          const d = x[i]! - m;
          v += d * d;
        }
        v /= D;
        const inv = 1 / Math.sqrt(v + eps);
        for (let i = r; i < r + D; i++) {
          const d = i - r;
          y[i] = (x[i]! - m) * inv * (gamma ? gamma[d]! : 1) + (beta ? beta[d]! : 0);
        }
      }
    },
  };
}

export function activationOp(layer: string, inShape: readonly number[], act: Activation): Op {
  const n = size(inShape);
  const D = inShape[inShape.length - 1]!;
  return {
    layer,
    kind: 'Activation',
    outShape: [...inShape],
    params: {},
    spec: { op: 'activation', layer, inShape: [...inShape], act },
    run(x, y) {
      for (let i = 0; i < n; i++) y[i] = x[i]!;
      activate(act, y, n, D);
    },
  };
}
