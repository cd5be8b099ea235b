/**
 * orakle's array message, our framing. One ZeroMQ message of three frames:
 *
 *   frame 0: topic (UTF-8; SUB sockets filter on its prefix, we then match it exactly)
 *   frame 1: header, 24 + 4*ndim bytes, little-endian:
 *            u8 magic 0xA7 | u8 version 1 | u8 status | u8 dtype (1 f32, 2 f64) |
 *            u8 ndim | 3 bytes zero | u32 seq low | u32 seq high | f64 timestampMs |
 *            u32 shape[ndim]
 *   frame 2: the array's bytes (row-major; its length must match dtype and shape)
 *
 * status: OK (0), INVALID (1: the producer knows the values are wrong, e.g. an empty or
 * failed computation), STALE (2: the values are old, e.g. the source stopped updating).
 * seq counts messages per publisher from 0; timestampMs is CLOCK_MONOTONIC ms (see
 * time/monotonic.ts), so timestamps from processes on one host compare directly.
 */
import { ReflexError } from '../core/errors.js';

export const Status = { OK: 0, INVALID: 1, STALE: 2 } as const;
export type StatusCode = (typeof Status)[keyof typeof Status];
export type ArrayDtype = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

export interface ArrayMessage {
  readonly topic: string;
  readonly status: StatusCode;
  readonly seq: number;
  readonly timestampMs: number;
  readonly shape: readonly number[];
  readonly data: FloatArray;
}

export const MAGIC = 0xa7;
export const VERSION = 1;
const HEADER_FIXED = 24;
export const MAX_NDIM = 8;

export const OrakleCodes = {
  /** A received array message is malformed (frames, magic, version, dtype, sizes). */
  frame: 'E_ORAKLE_FRAME',
  /** An array's shape does not match its data, has too many dimensions, or rows differ in width. */
  shape: 'E_ORAKLE_SHAPE',
  /** The dtype is not float32/float64, or the data is not of the publisher's dtype. */
  dtype: 'E_ORAKLE_DTYPE',
  /** A publisher or subscriber topic is empty. */
  topic: 'E_ORAKLE_TOPIC',
  /** Subscribers did not connect, or a source sent nothing, within the timeout. */
  timeout: 'E_ORAKLE_TIMEOUT',
  /** A receive was stopped by its AbortSignal. */
  aborted: 'E_ORAKLE_ABORTED',
  /** The predict function of predictAndPublish threw. */
  predict: 'E_ORAKLE_PREDICT',
  /** drainUntilInSync or lockstep got no subscribers. */
  empty: 'E_ORAKLE_EMPTY',
  /** drainUntilInSync's tolerance is negative. */
  tolerance: 'E_ORAKLE_TOLERANCE',
  /** collectPairs' row count is not an integer >= 1. */
  rows: 'E_ORAKLE_ROWS',
} as const;

export function headerSize(ndim: number): number {
  return HEADER_FIXED + 4 * ndim;
}

/** Write a header into `out` (sized by headerSize). No allocation. */
export function writeHeader(out: Buffer, status: StatusCode, dtype: ArrayDtype, seq: number, timestampMs: number, shape: readonly number[]): void {
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = status;
  out[3] = dtype === 'float32' ? 1 : 2;
  out[4] = shape.length;
  out[5] = 0;
  out[6] = 0;
  out[7] = 0;
  out.writeUInt32LE(seq % 0x100000000, 8);
  out.writeUInt32LE(Math.floor(seq / 0x100000000), 12);
  out.writeDoubleLE(timestampMs, 16);
  for (let i = 0; i < shape.length; i++) out.writeUInt32LE(shape[i]!, HEADER_FIXED + 4 * i);
}

/** Decode the three frames; the data is a view on the received frame when aligned, else a copy. */
export function decodeMessage(frames: readonly Buffer[]): ArrayMessage {
  if (frames.length !== 3) throw new ReflexError(OrakleCodes.frame, `array message: expected 3 frames (topic, header, data), got ${frames.length}`);
  const [t, h, d] = frames as [Buffer, Buffer, Buffer];
  if (h.length < HEADER_FIXED || h[0] !== MAGIC)
    throw new ReflexError(OrakleCodes.frame, 'array message: bad header magic; is a non-orakle publisher on this endpoint?');
  if (h[1] !== VERSION) throw new ReflexError(OrakleCodes.frame, `array message: header version ${h[1]}, this build reads ${VERSION}`);
  const status = h[2]!;
  if (status > 2) throw new ReflexError(OrakleCodes.frame, `array message: unknown status ${status}`);
  const dt = h[3];
  if (dt !== 1 && dt !== 2) throw new ReflexError(OrakleCodes.frame, `array message: unknown dtype ${dt}`);
  const ndim = h[4]!;
  if (h.length !== headerSize(ndim)) throw new ReflexError(OrakleCodes.frame, `array message: header of ${h.length} bytes for ndim ${ndim}`);
  const shape = new Array<number>(ndim);
  let n = 1;
  for (let i = 0; i < ndim; i++) {
    shape[i] = h.readUInt32LE(HEADER_FIXED + 4 * i);
    n *= shape[i]!;
  }
  const bytes = dt === 1 ? 4 : 8;
  if (d.byteLength !== n * bytes)
    throw new ReflexError(OrakleCodes.frame, `array message: ${d.byteLength} data bytes for ${dt === 1 ? 'float32' : 'float64'}[${shape.join(', ')}]`);
  let data: FloatArray;
  if (d.byteOffset % bytes === 0) data = dt === 1 ? new Float32Array(d.buffer, d.byteOffset, n) : new Float64Array(d.buffer, d.byteOffset, n);
  else {
    data = dt === 1 ? new Float32Array(n) : new Float64Array(n);
    new Uint8Array(data.buffer).set(d);
  }
  return {
    topic: t.toString('utf8'),
    status: status as StatusCode,
    seq: h.readUInt32LE(8) + h.readUInt32LE(12) * 0x100000000,
    timestampMs: h.readDoubleLE(16),
    shape,
    data,
  };
}
