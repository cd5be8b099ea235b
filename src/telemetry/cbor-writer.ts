/**
 * A CBOR encoder for the publisher's hot path, limited to what telemetry bodies contain:
 * plain objects with text keys, arrays, text, finite and non-finite numbers, booleans,
 * null, and typed arrays (RFC 8746 tags in host byte order). Keys whose value is
 * `undefined` are left out, as in JSON.
 *
 * Why not cbor-x here: encoding is most of what publish() costs. Encoded keys and short
 * repeated strings (channel names, units) are cached as bytes, and messages are carved from
 * a slab without ever reusing a region: zeromq.js sends messages over 128 bytes zero-copy,
 * so a region must stay untouched until ZeroMQ lets go of it (the slab is then collected).
 * The output decodes with any CBOR decoder (cbor-x, cbor2); integers beyond 32 bits are
 * written as 64-bit integers, the rest is minimal-length.
 */
import { endianness } from 'node:os';

const LITTLE = endianness() === 'LE';
const SLAB = 256 * 1024;
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

export class CborWriter {
  #slab: Buffer = Buffer.allocUnsafeSlow(SLAB);
  #pos = 0;
  #start = 0;
  readonly #strings = new Map<string, Buffer>();

  /** Encode `value`; the returned Buffer is never written again by this writer. */
  encode(value: unknown): Buffer {
    this.#start = this.#pos;
    try {
      this.#value(value, 0);
    } catch (err) {
      this.#pos = this.#start;
      throw err;
    }
    const out = this.#slab.subarray(this.#start, this.#pos);
    // Next message starts 8-aligned, which keeps typed-array payload copies word-aligned.
    this.#pos = (this.#pos + 7) & ~7;
    return out;
  }

  /**
   * The constant start of a telemetry envelope map (docs/telemetry.md): map of 8, then
   * v, topic, runtime, board and the "seq" key. encodeEnvelope() continues from there.
   */
  envelopePrefix(version: number, topic: string, runtime: string, board: string): Buffer {
    this.#start = this.#pos;
    this.#head(5, 8);
    this.#string('v');
    this.#number(version);
    this.#string('topic');
    this.#string(topic);
    this.#string('runtime');
    this.#string(runtime);
    this.#string('board');
    this.#string(board);
    this.#string('seq');
    const out = Buffer.from(this.#slab.subarray(this.#start, this.#pos));
    this.#pos = this.#start;
    return out;
  }

  /** One envelope: `prefix` from envelopePrefix(), then seq, mono_ms, wall_ms and body. */
  encodeEnvelope(prefix: Buffer, seq: number, monoMs: number, wallMs: number, body: unknown): Buffer {
    this.#start = this.#pos;
    try {
      this.#room(prefix.length);
      prefix.copy(this.#slab, this.#pos);
      this.#pos += prefix.length;
      this.#number(seq);
      this.#string('mono_ms');
      this.#number(monoMs);
      this.#string('wall_ms');
      this.#number(wallMs);
      this.#string('body');
      this.#value(body, 1);
    } catch (err) {
      this.#pos = this.#start;
      throw err;
    }
    const out = this.#slab.subarray(this.#start, this.#pos);
    this.#pos = (this.#pos + 7) & ~7;
    return out;
  }

  /** Make room for n more bytes, moving the message in progress to a fresh slab if needed. */
  #room(n: number): void {
    if (this.#pos + n <= this.#slab.length) return;
    const used = this.#pos - this.#start;
    const next = Buffer.allocUnsafeSlow(Math.max(SLAB, (used + n) * 2));
    this.#slab.copy(next, 0, this.#start, this.#pos);
    this.#slab = next;
    this.#start = 0;
    this.#pos = used;
  }

  #head(major: number, n: number): void {
    this.#room(9);
    const b = this.#slab;
    const m = major << 5;
    if (n < 24) b[this.#pos++] = m | n;
    else if (n < 0x100) {
      b[this.#pos++] = m | 24;
      b[this.#pos++] = n;
    } else if (n < 0x10000) {
      b[this.#pos++] = m | 25;
      b.writeUInt16BE(n, this.#pos);
      this.#pos += 2;
    } else if (n < 0x100000000) {
      b[this.#pos++] = m | 26;
      b.writeUInt32BE(n, this.#pos);
      this.#pos += 4;
    } else {
      b[this.#pos++] = m | 27;
      b.writeUInt32BE(Math.floor(n / 0x100000000), this.#pos);
      b.writeUInt32BE(n >>> 0, this.#pos + 4);
      this.#pos += 8;
    }
  }

  #number(v: number): void {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) this.#head(0, v);
      else this.#head(1, -1 - v);
      return;
    }
    this.#room(9);
    this.#slab[this.#pos++] = 0xfb;
    this.#slab.writeDoubleBE(v, this.#pos);
    this.#pos += 8;
  }

  #string(s: string): void {
    const cached = this.#strings.get(s);
    if (cached) {
      this.#room(cached.length);
      cached.copy(this.#slab, this.#pos);
      this.#pos += cached.length;
      return;
    }
    const len = Buffer.byteLength(s);
    this.#head(3, len);
    this.#room(len);
    this.#slab.write(s, this.#pos, len, 'utf8');
    if (s.length <= CACHE_MAX_LENGTH && this.#strings.size < CACHE_MAX_ENTRIES) {
      this.#strings.set(s, Buffer.from(this.#slab.subarray(this.#pos - (len < 24 ? 1 : len < 0x100 ? 2 : 3), this.#pos + len)));
    }
    this.#pos += len;
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
      this.#head(4, v.length);
      for (const x of v) this.#value(x, depth + 1);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      const tag = TAGS.get(v.constructor) ?? (v instanceof Uint8Array ? 64 : undefined);
      if (tag === undefined) throw new TypeError(`telemetry bodies cannot carry a ${v.constructor.name}`);
      this.#head(6, tag);
      this.#head(2, v.byteLength);
      this.#room(v.byteLength);
      this.#slab.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), this.#pos);
      this.#pos += v.byteLength;
      return;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`telemetry bodies cannot carry a ${(v as object).constructor?.name ?? 'non-plain object'}`);
    const obj = v as Record<string, unknown>;
    let n = 0;
    for (const k in obj) if (obj[k] !== undefined) n++;
    this.#head(5, n);
    for (const k in obj) {
      const x = obj[k];
      if (x === undefined) continue;
      this.#string(k);
      this.#value(x, depth + 1);
    }
  }
}
