/**
 * NumPy `.npy` format version 1.0: magic, a Python-literal header dict padded to a multiple of
 * 64 bytes, then the array's bytes, C order, little-endian. `numpy.load` reads it.
 */
import { endianness } from 'node:os';

export type NpyArray = Float32Array | Float64Array | Int32Array;

const DESCR = (a: NpyArray): string => (a instanceof Float32Array ? '<f4' : a instanceof Float64Array ? '<f8' : '<i4');

/** The whole file for `data` of `shape` (row-major; the product of shape must equal data.length). */
export function npyBytes(data: NpyArray, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new TypeError(`npy shape (${shape.join(', ')}) holds ${count} values, the array has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // 10 bytes of preamble + header, newline-terminated, padded with spaces to a multiple of 64.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  if (dict.length > 0xffff) throw new TypeError('npy header too long for format 1.0');
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (endianness() === 'BE') {
    // Typed arrays use the host's byte order; .npy says little-endian.
    const swapped = Buffer.from(body);
    if (data.BYTES_PER_ELEMENT === 8) swapped.swap64();
    else swapped.swap32();
    return Buffer.concat([head, Buffer.from(dict, 'latin1'), swapped]);
  }
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), body]);
}
