/**
 * Generator functions the worker-stream tests run in a child process (a module of its own:
 * the child imports it by path, and importing a test file would register its tests there).
 */
import { ReflexError } from '../src/core/errors.js';

/** Deterministic records with awkward bit patterns (NaN payloads, -0, subnormals, Inf). */
export function* records(
  n: number,
  len: number,
): Generator<{ x: Float32Array; y: Float64Array; m: { data: Int16Array; shape: number[] }; i: number; tag: string }> {
  for (let i = 0; i < n; i++) yield makeRecord(i, len);
}

export function makeRecord(i: number, len: number): { x: Float32Array; y: Float64Array; m: { data: Int16Array; shape: number[] }; i: number; tag: string } {
  const xBits = new Uint32Array(len);
  const yBits = new Uint32Array(len * 2);
  let s = (i + 1) * 2654435761;
  for (let j = 0; j < xBits.length; j++) {
    s = Math.imul(s ^ (s >>> 15), 2246822519) >>> 0;
    xBits[j] = s;
  }
  for (let j = 0; j < yBits.length; j++) {
    s = Math.imul(s ^ (s >>> 13), 3266489917) >>> 0;
    yBits[j] = s;
  }
  xBits[0] = 0x7fc00001; // NaN with payload
  xBits[1 % len] = 0x80000000; // -0
  const y = new Float64Array(yBits.buffer);
  y[0] = Number.POSITIVE_INFINITY;
  const m = new Int16Array(6);
  for (let j = 0; j < 6; j++) m[j] = (i * 7 + j) * (j % 2 ? -1 : 1);
  return { x: new Float32Array(xBits.buffer), y, m: { data: m, shape: [2, 3] }, i, tag: `item-${i}` };
}

/** Never ends; each item is a fresh `size`-float array stamped with its index. */
export function* endless(size: number): Generator<Float32Array> {
  for (let i = 0; ; i++) yield new Float32Array(size).fill(i);
}

/** `after` items, then a coded error. */
export function* failing(after: number): Generator<Float64Array> {
  for (let i = 0; i < after; i++) yield Float64Array.of(i);
  throw new ReflexError('E_DATASET', `producer failed on purpose after ${after} items`);
}

/** `after` items, then the process dies without a word. */
// eslint-disable-next-line @typescript-eslint/require-await -- the worker must drive an async generator here; it has nothing to await
export async function* crashing(after: number): AsyncGenerator<Float64Array> {
  for (let i = 0; i < after; i++) yield Float64Array.of(i);
  process.exit(3);
}
