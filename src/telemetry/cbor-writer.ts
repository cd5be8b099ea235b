/**
 * A CBOR encoder for the publisher's hot path, limited to what telemetry bodies contain:
 * plain objects with text keys, arrays, text, finite and non-finite numbers, booleans,
 * null, and typed arrays (RFC 8746 tags in host byte order). Keys whose value is
 * `undefined` are left out, as in JSON.
 *
 * Why not cbor-x here (measured by `npm run bench -- telemetry`, `encode_*`, docs/benchmarks.md):
 * - speed: on what the runtime publishes at rate, packed blocks of 64 B and 4 KiB, this
 *   writer takes 35-41% of cbor-x's time (createEncoder(), same messages, same run) and a
 *   quarter of its heap allocation, which sends 13% more 64 B blocks a second end to end;
 *   on envelopes of the other topics cbor-x takes 1.1-2.2x as long; 256 KiB blocks are a
 *   copy either way. Encoded keys and short repeated strings (channel names, units) are
 *   cached as bytes and copied with plain loops (a Buffer.copy per key is a native call
 *   that costs more than the copy).
 * - the wire contract (docs/telemetry.md section 2, "Numbers"): cbor-x writes integers of
 *   2^32 and above as float64 (wall_ms in every envelope), -0 as the integer 0, and keys
 *   whose value is undefined as CBOR undefined; none is what a reader is promised.
 * - the large-array path below (one copy into an exact-size buffer, or none: the head-only
 *   encode that lets a block's samples go as a frame of their own).
 * The slower-to-gain topics (descriptor, health, event) share every code path with the ones
 * that gain, so handing them to cbor-x would add an encoder, not remove code.
 *
 * Where a message lives, by size:
 * - small messages are carved from a slab without ever reusing a region: zeromq.js sends
 *   messages over 128 bytes zero-copy and gives no signal when it lets go of one, so a region
 *   must stay untouched until the garbage collector frees the slab;
 * - a message holding a typed array of LARGE bytes or more gets a buffer of exactly its own
 *   size: its headers are written to the slab as scratch, the array's bytes are copied once,
 *   straight from the caller's array into that buffer, and the scratch region is reused.
 *   (Moving it to a fresh slab of twice its size, as before, cost a second copy of the
 *   headers and held twice the memory per queued message: 512 MB for 1000 x 256 KiB.)
 *   Large buffers are never pooled: zeromq.js reports no release, so a reused buffer could
 *   be overwritten while ZeroMQ still sends it.
 * The output decodes with any CBOR decoder (cbor-x, cbor2); integers beyond 32 bits are
 * written as 64-bit integers, the rest is minimal-length.
 */
import { endianness } from 'node:os';
import { PACKED_LENGTH } from './blocks.js';
import type { BlockBody } from './topics.js';

const LITTLE = endianness() === 'LE';
const SLAB = 256 * 1024;
/** Typed arrays this long or longer are copied once straight into the message's own buffer (and may be sent uncopied: ZERO_COPY_MIN). */
const LARGE = 16 * 1024;
/** Below this, copying an array into the message costs less than sending it as a frame of its own. */
export const ZERO_COPY_MIN = LARGE;
const CACHE_MAX_ENTRIES = 2048;
const CACHE_MAX_LENGTH = 48;

/** RFC 8746 tag per typed-array class, for this host's byte order. */
const TAGS = new Map<unknown, number>([
  [Uint8Array, 64],
  [Uint8ClampedArray, 68],
  [Int8Array, 72],
  [Uint16Array, LITTLE ? 69 : 65],
  [Uint32Array, LITTLE ? 70 : 66],
  [BigUint64Array, LITTLE ? 71 : 67],
  [Int16Array, LITTLE ? 77 : 73],
  [Int32Array, LITTLE ? 78 : 74],
  [BigInt64Array, LITTLE ? 79 : 75],
  [Float32Array, LITTLE ? 85 : 81],
  [Float64Array, LITTLE ? 86 : 82],
]);

function bytesOf(v: ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export class CborWriter {
  #slab: Buffer = Buffer.allocUnsafeSlow(SLAB);
  #dv = new DataView(this.#slab.buffer, this.#slab.byteOffset, this.#slab.byteLength);
  #pos = 0;
  #start = 0;
  readonly #strings = new Map<string, Uint8Array>();
  /** Large typed arrays of the message in progress, and where (relative to #start) their bytes go. */
  readonly #large: ArrayBufferView[] = [];
  readonly #largeAt: number[] = [];

  /** Encode `value`; the returned Buffer is never written again by this writer. */
  encode(value: unknown): Buffer {
    this.#begin();
    try {
      this.#value(value, 0);
    } catch (err) {
      this.#abort();
      throw err;
    }
    return this.#finish();
  }

  /**
   * The constant start of a telemetry envelope map (docs/telemetry.md): map of 5, then
   * v and the "seq" key. encodeEnvelope() continues from there.
   */
  envelopePrefix(version: number): Buffer {
    this.#begin();
    this.#head(5, 5);
    this.#string('v');
    this.#number(version);
    this.#string('seq');
    const out = Buffer.from(this.#slab.subarray(this.#start, this.#pos));
    this.#pos = this.#start;
    return out;
  }

  /** One envelope: `prefix` from envelopePrefix(), then seq, mono_ms, wall_ms and body. */
  encodeEnvelope(prefix: Uint8Array, seq: number, monoMs: number, wallMs: number, body: unknown): Buffer {
    this.#begin();
    try {
      this.#bytes(prefix);
      this.#number(seq);
      this.#string('mono_ms');
      this.#number(monoMs);
      this.#string('wall_ms');
      this.#number(wallMs);
      this.#string('body');
      this.#value(body, 1);
    } catch (err) {
      this.#abort();
      throw err;
    }
    return this.#finish();
  }

  /**
   * One packed block (docs/telemetry.md section 4, src/telemetry/blocks.ts PACKED): the
   * per-block fields of `b` in their fixed order; its description goes in a descriptor.
   */
  encodePackedBlock(version: number, seq: number, monoMs: number, desc: number, b: BlockBody): Buffer {
    return this.#packed(version, seq, monoMs, desc, b, true);
  }

  /**
   * encodePackedBlock() up to, not including, the bytes of `b.data`: the message is this
   * head followed by the array's bytes, sent as a second frame without copying them
   * (docs/telemetry.md section 2: frames after the first are one CBOR item when joined).
   */
  encodePackedBlockHead(version: number, seq: number, monoMs: number, desc: number, b: BlockBody): Buffer {
    return this.#packed(version, seq, monoMs, desc, b, false);
  }

  #packed(version: number, seq: number, monoMs: number, desc: number, b: BlockBody, withData: boolean): Buffer {
    this.#begin();
    try {
      this.#packedFields(version, seq, monoMs, desc, b);
      if (withData) this.#typedArray(b.data);
      else this.#typedArrayHead(b.data);
    } catch (err) {
      this.#abort();
      throw err;
    }
    return this.#finish();
  }

  #packedFields(version: number, seq: number, monoMs: number, desc: number, b: BlockBody): void {
    this.#head(4, PACKED_LENGTH);
    this.#number(version);
    this.#number(seq);
    this.#number(monoMs);
    this.#number(desc);
    this.#number(b.samples);
    this.#number(b.first_sample);
    this.#number(b.block_seq);
    this.#number(b.device_time_us);
    this.#number(b.host_time_ms);
    this.#number(b.host_period_ms);
    this.#room(1);
    this.#slab[this.#pos++] = b.valid ? 0xf5 : 0xf4;
  }

  #begin(): void {
    this.#start = this.#pos;
    this.#large.length = 0;
    this.#largeAt.length = 0;
  }

  #abort(): void {
    this.#pos = this.#start;
    this.#large.length = 0;
    this.#largeAt.length = 0;
  }

  #finish(): Buffer {
    const n = this.#large.length;
    if (n === 0) {
      const out = this.#slab.subarray(this.#start, this.#pos);
      // Next message starts 8-aligned, which keeps typed-array payload copies word-aligned.
      this.#pos = (this.#pos + 7) & ~7;
      return out;
    }
    let total = this.#pos - this.#start;
    for (let i = 0; i < n; i++) total += this.#large[i]!.byteLength;
    const out = Buffer.allocUnsafeSlow(total);
    let src = this.#start;
    let dst = 0;
    for (let i = 0; i < n; i++) {
      const at = this.#start + this.#largeAt[i]!;
      dst += this.#slab.copy(out, dst, src, at);
      src = at;
      const bytes = bytesOf(this.#large[i]!);
      out.set(bytes, dst);
      dst += bytes.byteLength;
    }
    this.#slab.copy(out, dst, src, this.#pos);
    // Only `out` leaves the writer, so the scratch region is free again.
    this.#abort();
    return out;
  }

  /** Make room for n more bytes, moving the message in progress to a fresh slab if needed. */
  #room(n: number): void {
    if (this.#pos + n <= this.#slab.length) return;
    const used = this.#pos - this.#start;
    const next = Buffer.allocUnsafeSlow(Math.max(SLAB, (used + n) * 2));
    this.#slab.copy(next, 0, this.#start, this.#pos);
    this.#slab = next;
    this.#dv = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.#start = 0;
    this.#pos = used;
  }

  #bytes(b: Uint8Array): void {
    const n = b.length;
    this.#room(n);
    const s = this.#slab;
    const p = this.#pos;
    for (let i = 0; i < n; i++) s[p + i] = b[i]!;
    this.#pos = p + n;
  }

  #head(major: number, n: number): void {
    this.#room(9);
    const b = this.#slab;
    const m = major << 5;
    let p = this.#pos;
    if (n < 24) b[p++] = m | n;
    else if (n < 0x100) {
      b[p++] = m | 24;
      b[p++] = n;
    } else if (n < 0x10000) {
      b[p++] = m | 25;
      b[p++] = n >>> 8;
      b[p++] = n & 0xff;
    } else if (n < 0x100000000) {
      b[p++] = m | 26;
      this.#dv.setUint32(p, n);
      p += 4;
    } else {
      b[p++] = m | 27;
      this.#dv.setUint32(p, Math.floor(n / 0x100000000));
      this.#dv.setUint32(p + 4, n >>> 0);
      p += 8;
    }
    this.#pos = p;
  }

  #number(v: number): void {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) this.#head(0, v);
      else this.#head(1, -1 - v);
      return;
    }
    this.#room(9);
    this.#slab[this.#pos] = 0xfb;
    this.#dv.setFloat64(this.#pos + 1, v);
    this.#pos += 9;
  }

  #string(s: string): void {
    const cached = this.#strings.get(s);
    if (cached) return this.#bytes(cached);
    // Short ASCII (keys, names, units) by a loop; anything else through the native UTF-8 writer.
    const short = s.length <= 64 && this.#ascii(s);
    const len = short ? s.length : Buffer.byteLength(s);
    this.#head(3, len);
    this.#room(len);
    if (short) {
      const b = this.#slab;
      const p = this.#pos;
      for (let i = 0; i < len; i++) b[p + i] = s.charCodeAt(i);
    } else {
      this.#slab.write(s, this.#pos, len, 'utf8');
    }
    this.#pos += len;
    if (s.length <= CACHE_MAX_LENGTH && this.#strings.size < CACHE_MAX_ENTRIES) {
      // Measured back from the end: #room may have moved the message to another slab meanwhile.
      const headLen = len < 24 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
      this.#strings.set(s, Uint8Array.from(this.#slab.subarray(this.#pos - len - headLen, this.#pos)));
    }
  }

  #ascii(s: string): boolean {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
    return true;
  }

  #value(v: unknown, depth: number): void {
    if (depth > 32) throw new TypeError('telemetry body nests deeper than 32 levels');
    switch (typeof v) {
      case 'number':
        return this.#number(v);
      case 'string':
        return this.#string(v);
      case 'boolean':
        this.#room(1);
        this.#slab[this.#pos++] = v ? 0xf5 : 0xf4;
        return;
      case 'object':
        break;
      default:
        throw new TypeError(`telemetry bodies cannot carry a ${typeof v}`);
    }
    if (v === null) {
      this.#room(1);
      this.#slab[this.#pos++] = 0xf6;
      return;
    }
    if (Array.isArray(v)) {
      const n = v.length;
      this.#head(4, n);
      for (let i = 0; i < n; i++) this.#value(v[i], depth + 1);
      return;
    }
    if (ArrayBuffer.isView(v)) return this.#typedArray(v);
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`telemetry bodies cannot carry a ${v.constructor?.name ?? 'non-plain object'}`);
    this.#map(v as Record<string, unknown>, depth);
  }

  /** The tag and byte-string header of a typed array, without its bytes. */
  #typedArrayHead(v: ArrayBufferView): void {
    const tag = TAGS.get(v.constructor) ?? (v instanceof Uint8Array ? 64 : undefined);
    if (tag === undefined) throw new TypeError(`telemetry bodies cannot carry a ${v.constructor.name}`);
    this.#head(6, tag);
    this.#head(2, v.byteLength);
  }

  #typedArray(v: ArrayBufferView): void {
    this.#typedArrayHead(v);
    if (v.byteLength >= LARGE) {
      this.#large.push(v);
      this.#largeAt.push(this.#pos - this.#start);
      return;
    }
    this.#room(v.byteLength);
    this.#slab.set(bytesOf(v), this.#pos);
    this.#pos += v.byteLength;
  }

  /** One pass over the keys: the count is written afterwards into a 1-byte header, widened if needed. */
  #map(obj: Record<string, unknown>, depth: number): void {
    this.#room(1);
    const at = this.#pos - this.#start;
    this.#pos++;
    let n = 0;
    for (const k in obj) {
      const x = obj[k];
      if (x === undefined) continue;
      this.#string(k);
      this.#value(x, depth + 1);
      n++;
    }
    const extra = n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : 4;
    if (extra > 0) {
      this.#room(extra);
      const from = this.#start + at + 1;
      this.#slab.copyWithin(from + extra, from, this.#pos);
      this.#pos += extra;
      for (let i = 0; i < this.#largeAt.length; i++) if (this.#largeAt[i]! > at) this.#largeAt[i]! += extra;
    }
    // Written in place: the room is already there, and #room must not move the message now.
    const b = this.#slab;
    const h = this.#start + at;
    if (extra === 0) b[h] = 0xa0 | n;
    else if (extra === 1) {
      b[h] = 0xb8;
      b[h + 1] = n;
    } else if (extra === 2) {
      b[h] = 0xb9;
      b[h + 1] = n >>> 8;
      b[h + 2] = n & 0xff;
    } else {
      b[h] = 0xba;
      this.#dv.setUint32(h + 1, n);
    }
  }
}
