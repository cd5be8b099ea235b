/**
 * The binary tracker message (docs/tracker.md, "ZeroMQ messages"), little-endian:
 *
 *     0   u8    version   1
 *     1   u8    flags     bit0 HAS_TIME, bit1 HOST_CLOCK, bit2 INVALID; other bits 0
 *     2   u16   dims      D, 1..256
 *     4   u32   seq       +1 per message (wraps)
 *     8   u64   t_us      sender time of the pose, µs (0 when HAS_TIME is clear)
 *     16  f32   values[D]
 *
 * Exactly 16 + 4*D bytes. Python: `struct.pack('<BBHIQ%df' % D, 1, flags, D, seq, t_us, *values)`.
 */

export const TRACKER_WIRE_VERSION = 1;
export const TRACKER_HEADER_BYTES = 16;
export const FLAG_HAS_TIME = 1;
export const FLAG_HOST_CLOCK = 2;
export const FLAG_INVALID = 4;
const KNOWN_FLAGS = FLAG_HAS_TIME | FLAG_HOST_CLOCK | FLAG_INVALID;

export type TrackerWireError = 'short' | 'bad_version' | 'bad_flags' | 'bad_dims' | 'bad_length';

/** Decoded header fields; `values` is the caller's array, filled in place. */
export interface TrackerWireMessage {
  flags: number;
  seq: number;
  /** Sender time, µs; NaN when HAS_TIME is clear. */
  timeUs: number;
  values: Float32Array;
}

/**
 * Decode into `out` (whose `values` must have exactly the feed's dims). Returns null on success or
 * the reason the message is refused. Allocation-free.
 */
export function decodeTrackerMessage(buf: Uint8Array, out: TrackerWireMessage): TrackerWireError | null {
  if (buf.length < TRACKER_HEADER_BYTES) return 'short';
  if (buf[0] !== TRACKER_WIRE_VERSION) return 'bad_version';
  const flags = buf[1]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) return 'bad_flags';
  const dims = buf[2]! | (buf[3]! << 8);
  if (dims !== out.values.length) return 'bad_dims';
  if (buf.length !== TRACKER_HEADER_BYTES + 4 * dims) return 'bad_length';
  const seq = (buf[4]! | (buf[5]! << 8) | (buf[6]! << 16) | (buf[7]! << 24)) >>> 0;
  const lo = (buf[8]! | (buf[9]! << 8) | (buf[10]! << 16) | (buf[11]! << 24)) >>> 0;
  const hi = (buf[12]! | (buf[13]! << 8) | (buf[14]! << 16) | (buf[15]! << 24)) >>> 0;
  out.flags = flags;
  out.seq = seq;
  // Exact below 2^53 µs (285 years), which every real clock is.
  out.timeUs = flags & FLAG_HAS_TIME ? hi * 4294967296 + lo : Number.NaN;
  for (let d = 0; d < dims; d++) out.values[d] = readF32LE(buf, TRACKER_HEADER_BYTES + 4 * d);
  return null;
}

// zeromq hands us a fresh Buffer per message and a DataView over it would allocate: read floats
// through one reused 4-byte scratch array instead, in the host's byte order.
const f32 = new Float32Array(1);
const f32bytes = new Uint8Array(f32.buffer);
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readF32LE(b: Uint8Array, o: number): number {
  if (hostLittleEndian) {
    f32bytes[0] = b[o]!;
    f32bytes[1] = b[o + 1]!;
    f32bytes[2] = b[o + 2]!;
    f32bytes[3] = b[o + 3]!;
  } else {
    f32bytes[3] = b[o]!;
    f32bytes[2] = b[o + 1]!;
    f32bytes[1] = b[o + 2]!;
    f32bytes[0] = b[o + 3]!;
  }
  return f32[0]!;
}

/** Encode one message (tests, benches and TypeScript senders). */
export function encodeTrackerMessage(msg: { flags: number; seq: number; timeUs?: number; values: ArrayLike<number> }): Uint8Array {
  const dims = msg.values.length;
  const out = new Uint8Array(TRACKER_HEADER_BYTES + 4 * dims);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, TRACKER_WIRE_VERSION);
  dv.setUint8(1, msg.flags);
  dv.setUint16(2, dims, true);
  dv.setUint32(4, msg.seq >>> 0, true);
  const t = msg.flags & FLAG_HAS_TIME ? Math.round(msg.timeUs ?? 0) : 0;
  dv.setUint32(8, t % 4294967296, true);
  dv.setUint32(12, Math.floor(t / 4294967296), true);
  for (let d = 0; d < dims; d++) dv.setFloat32(TRACKER_HEADER_BYTES + 4 * d, msg.values[d]!, true);
  return out;
}
