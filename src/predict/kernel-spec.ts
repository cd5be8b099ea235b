/**
 * A compiled kernel as plain data, so it can be built on one thread (where TensorFlow.js loads
 * and verifies the model) and run on another (the loop worker, which must not load TensorFlow.js
 * mid-run): structured-clone safe, its weights transferable. kernelFromSpec() builds the same
 * ops the compiler built, so a round trip gives bit-identical outputs.
 */
import { assembleKernel, type CompiledKernel } from './kernel.js';
import { type OpSpec, opFromSpec } from './compile-ops.js';
import { ACTIVATIONS } from './compile-ops.js';
import { ModelCodes, modelError } from './errors.js';

export interface KernelSpec {
  format: 'reflex-kernel';
  version: 1;
  inputShape: number[];
  outputShape: number[];
  ops: OpSpec[];
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The kernel as data, with its own copies of the weights (the kernel keeps working). */
export function kernelSpec(kernel: CompiledKernel): KernelSpec {
  const ops = kernel.ops.map((o) => {
    const s = { ...o.spec, inShape: [...o.spec.inShape] } as Record<string, unknown>;
    for (const [k, v] of Object.entries(s)) if (v instanceof Float32Array) s[k] = v.slice();
    return s as OpSpec;
  });
  return { format: 'reflex-kernel', version: 1, inputShape: [...kernel.inputShape], outputShape: [...kernel.outputShape], ops };
}

/** Every weight buffer of a spec, once each: the transfer list for postMessage. */
export function kernelTransferList(spec: KernelSpec): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const op of spec.ops) {
    for (const v of Object.values(op)) if (v instanceof Float32Array) seen.add(v.buffer as ArrayBuffer);
  }
  return [...seen];
}

/**
 * Build the kernel a spec describes. The spec comes from another thread, so it is checked
 * (shapes chain, weight sizes) before anything runs on it: a short weight array would read
 * past its end as NaN instead of failing.
 */
export function kernelFromSpec(spec: KernelSpec): CompiledKernel {
  const bad = (what: string): never => {
    throw modelError(ModelCodes.format, `kernel spec: ${what}`);
  };
  if (spec?.format !== 'reflex-kernel' || spec.version !== 1) bad('not a reflex-kernel version 1 spec');
  if (!Array.isArray(spec.ops) || !isShape(spec.inputShape) || !isShape(spec.outputShape)) bad('ops, inputShape or outputShape missing');
  let n = size(spec.inputShape);
  const ops = spec.ops.map((s, i) => {
    const where = `op ${i} (${s?.layer ?? '?'})`;
    if (!isShape(s?.inShape) || size(s.inShape) !== n) bad(`${where}: input shape [${String(s?.inShape)}] does not take the previous ${n} values`);
    const want = weightSizes(s);
    if (want === null) bad(`${where}: unknown op "${String((s as { op?: unknown }).op)}" or bad settings`);
    for (const [k, len] of Object.entries(want!)) {
      const v = (s as Record<string, unknown>)[k];
      if (len === null ? v !== null : !(v instanceof Float32Array) || v.length !== len)
        bad(`${where}: weight ${k} must be ${len === null ? 'null' : `${len} float32 values`}`);
    }
    const op = opFromSpec(s);
    n = size(op.outShape);
    return op;
  });
  if (n !== size(spec.outputShape)) bad(`ops end with ${n} values, outputShape [${spec.outputShape.join(', ')}] has ${size(spec.outputShape)}`);
  return assembleKernel(spec.inputShape, spec.outputShape, ops);
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.length > 0 && s.every((d) => Number.isInteger(d) && d > 0);
}

const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
const isAct = (a: unknown): boolean => typeof a === 'string' && ACTIVATIONS.includes(a);
const isPad = (p: unknown): boolean => p === 'valid' || p === 'same';
const isMode = (m: unknown): boolean => m === 'max' || m === 'avg';

/** Expected length of each weight (null: must be null), or null when the op's settings are bad. */
function weightSizes(s: OpSpec): Record<string, number | null> | null {
  const last = s.inShape[s.inShape.length - 1]!;
  const maybe = (v: unknown, len: number): number | null => (v === null ? null : len);
  switch (s.op) {
    case 'dense':
      return posInt(s.units) && isAct(s.act) ? { kernelT: s.units * last, bias: maybe(s.bias, s.units) } : null;
    case 'conv1d':
      if (s.inShape.length !== 2 || ![s.k, s.filters, s.stride, s.dilation].every(posInt) || !isPad(s.padding) || !isAct(s.act)) return null;
      return { kernel: s.k * last * s.filters, bias: maybe(s.bias, s.filters) };
    case 'pool1d':
      return s.inShape.length === 2 && posInt(s.p) && posInt(s.stride) && isPad(s.padding) && isMode(s.mode) ? {} : null;
    case 'globalPool1d':
      return s.inShape.length === 2 && isMode(s.mode) ? {} : null;
    case 'affine':
      return typeof s.kind === 'string' ? { scale: last, shift: last } : null;
    case 'layerNorm':
      return typeof s.eps === 'number' && s.eps >= 0 ? { gamma: maybe(s.gamma, last), beta: maybe(s.beta, last) } : null;
    case 'activation':
      return isAct(s.act) ? {} : null;
    default:
      return null;
  }
}
