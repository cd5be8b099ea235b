/**
 * The scope's binary display frame (docs/scope.md, "WebSocket protocol"): one WebSocket
 * binary message per display tick, little-endian, every array 8-byte aligned so a browser
 * reads it with typed-array views and no copy.
 *
 *   header (24 bytes): u8 version, u8 sections, u16 0, u32 frame_seq,
 *                      f64 server_ms (server monotonic ms when built),
 *                      f64 pub_ms (publish time of the newest message fully in this frame, server monotonic ms; NaN if none)
 *   per section:       u8 stream, u8 0, u16 channels C, u32 buckets N, f64 bucket_ms   (16 bytes)
 *                      f64 times[N] (bucket start, server monotonic ms)
 *                      f32 min[C*N], f32 max[C*N] (channel-major: channel c bucket k at [c*N + k])
 *                      zero padding to a multiple of 8 bytes
 */

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 24;
export const SECTION_HEADER_BYTES = 16;

/** Section stream ids. */
export const STREAM_IDS = { 'emg.raw': 0, 'emg.features': 1, tracker: 2 } as const;
export type ScopeStream = keyof typeof STREAM_IDS;
export const SCOPE_STREAMS: readonly ScopeStream[] = ['emg.raw', 'emg.features', 'tracker'];

export interface FrameSection {
  stream: ScopeStream;
  channels: number;
  buckets: number;
  bucketMs: number;
  /** At least `buckets` values are read. */
  times: Float64Array;
  /** Channel-major with row length `buckets`; at least channels x buckets values are read. */
  min: Float32Array;
  max: Float32Array;
}

export interface FrameHeader {
  seq: number;
  serverMs: number;
  pubMs: number;
}

function sectionBytes(s: { channels: number; buckets: number }): number {
  const floats = 2 * s.channels * s.buckets * 4;
  return SECTION_HEADER_BYTES + 8 * s.buckets + Math.ceil(floats / 8) * 8;
}

export function encodeFrame(h: FrameHeader, sections: readonly FrameSection[]): Buffer {
  let total = FRAME_HEADER_BYTES;
  for (const s of sections) total += sectionBytes(s);
  const buf = Buffer.alloc(total);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, sections.length);
  view.setUint32(4, h.seq >>> 0, true);
  view.setFloat64(8, h.serverMs, true);
  view.setFloat64(16, h.pubMs, true);
  let off = FRAME_HEADER_BYTES;
  for (const s of sections) {
    const n = s.buckets;
    const cn = s.channels * n;
    view.setUint8(off, STREAM_IDS[s.stream]);
    view.setUint16(off + 2, s.channels, true);
    view.setUint32(off + 4, n, true);
    view.setFloat64(off + 8, s.bucketMs, true);
    off += SECTION_HEADER_BYTES;
    // Byte views: the source arrays may sit at any offset; what matters is the offsets within the message.
    buf.set(new Uint8Array(s.times.buffer, s.times.byteOffset, n * 8), off);
    off += n * 8;
    buf.set(new Uint8Array(s.min.buffer, s.min.byteOffset, cn * 4), off);
    off += cn * 4;
    buf.set(new Uint8Array(s.max.buffer, s.max.byteOffset, cn * 4), off);
    off += cn * 4;
    off = Math.ceil(off / 8) * 8;
  }
  return buf;
}

/** A section as decodeFrame returns it: its arrays are copies holding exactly buckets and channels x buckets values. */
export type DecodedSection = FrameSection;

export interface DecodedFrame extends FrameHeader {
  version: number;
  sections: DecodedSection[];
}

const STREAM_BY_ID: readonly ScopeStream[] = ['emg.raw', 'emg.features', 'tracker'];

/** Decode a frame (copies the arrays, so any input alignment works). Throws RangeError on a malformed frame. */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  if (bytes.byteLength < FRAME_HEADER_BYTES) throw new RangeError('scope frame shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== FRAME_VERSION) throw new RangeError(`scope frame version ${version}, this reader knows ${FRAME_VERSION}`);
  const count = view.getUint8(1);
  const out: DecodedFrame = {
    version,
    seq: view.getUint32(4, true),
    serverMs: view.getFloat64(8, true),
    pubMs: view.getFloat64(16, true),
    sections: [],
  };
  let off = FRAME_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (off + SECTION_HEADER_BYTES > bytes.byteLength) throw new RangeError('scope frame section header truncated');
    const stream = STREAM_BY_ID[view.getUint8(off)];
    if (stream === undefined) throw new RangeError(`unknown scope stream id ${view.getUint8(off)}`);
    const channels = view.getUint16(off + 2, true);
    const buckets = view.getUint32(off + 4, true);
    const bucketMs = view.getFloat64(off + 8, true);
    if (off + sectionBytes({ channels, buckets }) > bytes.byteLength) throw new RangeError('scope frame section truncated');
    off += SECTION_HEADER_BYTES;
    const copy = (len: number): ArrayBuffer => {
      // Not bytes.slice(): on a Buffer that is a view, and its .buffer the whole pool.
      const u = new Uint8Array(len);
      u.set(bytes.subarray(off, off + len));
      return u.buffer;
    };
    const times = new Float64Array(copy(buckets * 8));
    off += buckets * 8;
    const min = new Float32Array(copy(channels * buckets * 4));
    off += channels * buckets * 4;
    const max = new Float32Array(copy(channels * buckets * 4));
    off += channels * buckets * 4;
    off = Math.ceil(off / 8) * 8;
    out.sections.push({ stream, channels, buckets, bucketMs, times, min, max });
  }
  return out;
}
