/**
 * Test helpers for strict control decoding (not a test file itself): raw CBOR building for
 * what an encoder of JS values cannot produce (repeated keys, indefinite lengths, trailing
 * bytes), and an independent byte-level statement of which frames the server must refuse,
 * written from RFC 8949 and docs/telemetry.md, not from the server's code.
 */
import { createEncoder } from '../src/telemetry/codec.js';

const enc = createEncoder();

/** Raw CBOR for one item: a Buffer is taken as already encoded, anything else is encoded. */
export function raw(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : enc.encode(v);
}

function header(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  const b = Buffer.alloc(3);
  b[0] = (major << 5) | 25;
  b.writeUInt16BE(n, 1);
  return b;
}

/** A definite-length map with its entries in this order, repeats allowed. */
export function cborMap(entries: Array<[unknown, unknown]>): Buffer {
  return Buffer.concat([header(5, entries.length), ...entries.flatMap(([k, v]) => [raw(k), raw(v)])]);
}

/** A request `{ id: 1, cmd: 'echo', args }` with `args` raw or encoded, keys in that order. */
export function echoRequest(args: unknown): Buffer {
  return cborMap([
    ['id', 1],
    ['cmd', 'echo'],
    ['args', args],
  ]);
}

/** A definite-length array of raw or encoded items. */
export function cborArray(items: unknown[]): Buffer {
  return Buffer.concat([header(4, items.length), ...items.map(raw)]);
}

/** An indefinite-length map (0xbf ... 0xff). */
export function indefiniteMap(entries: Array<[unknown, unknown]>): Buffer {
  return Buffer.concat([Buffer.from([0xbf]), ...entries.flatMap(([k, v]) => [raw(k), raw(v)]), Buffer.from([0xff])]);
}

/** An indefinite-length text string made of the given chunks. */
export function indefiniteText(...chunks: string[]): Buffer {
  return Buffer.concat([Buffer.from([0x7f]), ...chunks.map((c) => enc.encode(c)), Buffer.from([0xff])]);
}

/** An indefinite-length array. */
export function indefiniteArray(...items: unknown[]): Buffer {
  return Buffer.concat([Buffer.from([0x9f]), ...items.map(raw), Buffer.from([0xff])]);
}

export type Violation =
  | 'truncated'
  | 'trailing'
  | 'indefinite'
  | 'reserved'
  | 'tag'
  | 'undefined'
  | 'simple'
  | 'non-minimal'
  | 'non-finite'
  | 'big-integer'
  | 'bytes'
  | 'invalid-utf8'
  | 'non-text-key'
  | 'proto-key'
  | 'duplicate-key'
  | 'too-deep';

class Stop extends Error {}

/**
 * Everything wrong with `frame` as a control request frame by the strict rules (empty when
 * it is one plain, definite-length item). Structural faults stop the walk; the others are
 * recorded and the walk goes on, so a frame can show several.
 */
export function strictViolations(frame: Uint8Array, maxDepth = 10): Set<Violation> {
  const found = new Set<Violation>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  const stop = (v: Violation): never => {
    found.add(v);
    throw new Stop();
  };
  const need = (n: number): void => {
    if (pos + n > frame.length) stop('truncated');
  };
  const uint = (n: number): number => {
    need(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + frame[pos + i]!;
    pos += n;
    return v;
  };
  /** The argument of the head at `pos` (after the initial byte). */
  const argument = (ai: number): number => {
    if (ai < 24) return ai;
    if (ai === 31) stop('indefinite');
    if (ai > 27) stop('reserved');
    const bytes = 1 << (ai - 24);
    const v = uint(bytes);
    const min = [24, 256, 65536, 2 ** 32][ai - 24]!;
    if (v < min) found.add('non-minimal');
    return v;
  };
  /** `key`: how the item would compare as a map key in a JS Map (scalars only), `text` for text. */
  const item = (depth: number): { text?: string; key?: string } => {
    need(1);
    const ib = frame[pos++]!;
    const major = ib >> 5;
    const ai = ib & 31;
    if (major === 7) {
      if (ai === 20 || ai === 21 || ai === 22) return { key: `s${ai}` };
      if (ai === 31) stop('indefinite'); // a break outside an indefinite item
      if (ai > 27) stop('reserved');
      if (ai <= 24) {
        if (ai === 24) uint(1);
        found.add(ai === 23 ? 'undefined' : 'simple');
        return {};
      }
      const n = 1 << (ai - 24);
      need(n);
      const dv = new DataView(frame.buffer, frame.byteOffset + pos, n);
      const x = n === 2 ? halfFloat(dv.getUint16(0)) : n === 4 ? dv.getFloat32(0) : dv.getFloat64(0);
      pos += n;
      if (!Number.isFinite(x)) found.add('non-finite');
      return { key: `n${x}` };
    }
    const n = argument(ai);
    switch (major) {
      case 0:
        if (n > Number.MAX_SAFE_INTEGER) found.add('big-integer');
        return { key: `n${n}` };
      case 1:
        if (n + 1 > Number.MAX_SAFE_INTEGER) found.add('big-integer');
        return { key: `n${-1 - n}` };
      case 2:
        need(n);
        pos += n;
        found.add('bytes');
        return {};
      case 3: {
        need(n);
        let text: string;
        try {
          text = utf8.decode(frame.subarray(pos, pos + n));
        } catch {
          found.add('invalid-utf8');
          text = `\u0000invalid@${pos}`;
        }
        pos += n;
        return { text, key: `t${text}` };
      }
      case 4:
        if (depth + 1 > maxDepth) stop('too-deep');
        for (let i = 0; i < n; i++) item(depth + 1);
        return {};
      case 5: {
        if (depth + 1 > maxDepth) stop('too-deep');
        const keys = new Set<string>();
        for (let i = 0; i < n; i++) {
          const key = item(depth + 1);
          if (key.text === undefined) found.add('non-text-key');
          if (key.text === '__proto__') found.add('proto-key');
          if (key.key !== undefined) {
            if (keys.has(key.key)) found.add('duplicate-key');
            keys.add(key.key);
          }
          item(depth + 1);
        }
        return {};
      }
      default: // 6
        found.add('tag');
        item(depth); // a tag's content is checked too
        return {};
    }
  };
  try {
    item(0);
    if (pos !== frame.length) found.add('trailing');
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  return found;
}

function halfFloat(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
