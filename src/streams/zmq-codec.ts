/**
 * Wire format of the worker stream: one ZeroMQ multipart message per item.
 *
 *   frame 0: JSON header  {"t":"i","r":1,"f":[{"k":"x","d":"float32","s":[2,3]},{"k":"y","v":1}]}
 *   frame 1..n: one raw frame per typed array, in header order, the array's own bytes
 *
 * `t` is the kind: "i" item, "e" end (`n` items sent), "x" producer error (`name`, `message`,
 * `code`, `stack`). `r` is 1 for a record, 0 for a bare array. A field has either `d` (dtype)
 * and `s` (shape) with a frame, or `v` (a JSON scalar) and no frame. Arrays are handed to
 * ZeroMQ as views (zeromq.js sends frames over 128 bytes without copying) and received as
 * views on the received frame when its alignment allows; otherwise copied and counted.
 */
import { ReflexError } from '../core/errors.js';
import { StreamCodes } from './errors.js';
import type { TypedArray } from './types.js';

/** An array with an explicit shape (row-major); `data.length` must equal the product of `shape`. */
export interface Shaped {
  readonly data: TypedArray;
  readonly shape: readonly number[];
}
export type WireScalar = number | string | boolean | null;
export type WireValue = TypedArray | Shaped | WireScalar;
export type WireItem = TypedArray | { readonly [key: string]: WireValue };

type Ctor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  new (length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};
const DTYPES: Record<string, Ctor> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  uint8c: Uint8ClampedArray,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
};

export function dtypeOf(a: TypedArray): string {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Uint8ClampedArray) return 'uint8c';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  throw new ReflexError(StreamCodes.frame, `unsupported array type ${(a as object).constructor.name}`);
}

interface FieldHeader {
  k?: string;
  d?: string;
  s?: number[];
  v?: WireScalar;
}
export interface ItemHeader {
  t: 'i';
  r: 0 | 1;
  f: FieldHeader[];
}
export interface EndHeader {
  t: 'e';
  n: number;
}
export interface ErrorHeader {
  t: 'x';
  name: string;
  message: string;
  code?: string;
  stack?: string;
}
export type Header = ItemHeader | EndHeader | ErrorHeader;

function isShaped(v: unknown): v is Shaped {
  return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && ArrayBuffer.isView((v as Shaped).data) && Array.isArray((v as Shaped).shape);
}

function arrayFrame(a: TypedArray, copy: boolean): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return copy ? view.slice() : view;
}

/** Frames for one item. With `copy` false the arrays are sent from their own memory: do not modify them afterwards. */
export function encodeItem(item: WireItem, copy: boolean): (string | Uint8Array)[] {
  const frames: (string | Uint8Array)[] = [''];
  const fields: FieldHeader[] = [];
  if (ArrayBuffer.isView(item)) {
    fields.push({ d: dtypeOf(item), s: [item.length] });
    frames.push(arrayFrame(item, copy));
    frames[0] = JSON.stringify({ t: 'i', r: 0, f: fields } satisfies ItemHeader);
    return frames;
  }
  if (typeof item !== 'object' || item === null) {
    throw new ReflexError(StreamCodes.frame, `worker stream items must be typed arrays or records, got ${item === null ? 'null' : typeof item}`);
  }
  for (const k of Object.keys(item)) {
    const v = item[k];
    if (ArrayBuffer.isView(v)) {
      fields.push({ k, d: dtypeOf(v), s: [v.length] });
      frames.push(arrayFrame(v, copy));
    } else if (isShaped(v)) {
      const n = v.shape.reduce((p, x) => p * x, 1);
      if (n !== v.data.length)
        throw new ReflexError(StreamCodes.frame, `field "${k}": shape [${v.shape.join(', ')}] holds ${n} values, data has ${v.data.length}`);
      fields.push({ k, d: dtypeOf(v.data), s: v.shape.slice() });
      frames.push(arrayFrame(v.data, copy));
    } else if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
      fields.push({ k, v });
    } else {
      throw new ReflexError(StreamCodes.frame, `field "${k}" is ${typeof v}; fields must be typed arrays, {data, shape}, numbers, strings, booleans or null`);
    }
  }
  frames[0] = JSON.stringify({ t: 'i', r: 1, f: fields } satisfies ItemHeader);
  return frames;
}

export function parseHeader(frame: Buffer | undefined): Header {
  if (frame === undefined) throw new ReflexError(StreamCodes.frame, 'worker stream: empty message');
  let h: unknown;
  try {
    h = JSON.parse(frame.toString('utf8'));
  } catch (err) {
    throw new ReflexError(StreamCodes.frame, 'worker stream: header frame is not JSON; is something else sending to this endpoint?', { cause: err });
  }
  const t = (h as { t?: unknown }).t;
  if (t !== 'i' && t !== 'e' && t !== 'x') throw new ReflexError(StreamCodes.frame, `worker stream: unknown message kind ${JSON.stringify(t)}`);
  return h as Header;
}

/** Decode an item; `onCopy` is called for each array that had to be copied for alignment. */
export function decodeItem(h: ItemHeader, frames: readonly Buffer[], onCopy: () => void): WireItem {
  let fi = 1;
  const out: Record<string, WireValue> = {};
  for (const f of h.f) {
    let value: WireValue;
    if (f.d === undefined) value = f.v ?? null;
    else {
      const ctor = DTYPES[f.d];
      const shape = f.s;
      if (!ctor || !Array.isArray(shape)) throw new ReflexError(StreamCodes.frame, `worker stream: bad field header ${JSON.stringify(f)}`);
      const frame = frames[fi++];
      if (frame === undefined)
        throw new ReflexError(StreamCodes.frame, `worker stream: header lists more arrays than the ${frames.length - 1} frames received`);
      const n = shape.reduce((p, x) => p * x, 1);
      if (frame.byteLength !== n * ctor.BYTES_PER_ELEMENT) {
        throw new ReflexError(StreamCodes.frame, `worker stream: frame of ${frame.byteLength} bytes for ${f.d}[${shape.join(', ')}]`);
      }
      let arr: TypedArray;
      if (frame.byteOffset % ctor.BYTES_PER_ELEMENT === 0) arr = new ctor(frame.buffer, frame.byteOffset, n);
      else {
        arr = new ctor(n);
        new Uint8Array(arr.buffer).set(frame);
        onCopy();
      }
      value = h.r === 1 && shape.length !== 1 ? { data: arr, shape } : arr;
      if (h.r === 0) return arr;
    }
    out[f.k ?? ''] = value;
  }
  if (fi !== frames.length) throw new ReflexError(StreamCodes.frame, `worker stream: ${frames.length - fi} frame(s) more than the header lists`);
  return out;
}
