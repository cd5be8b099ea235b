/**
 * Z85 (ZeroMQ RFC 32), the text form of CURVE keys. zeromq.js hands out z85 key strings
 * but ZAP requests carry the raw 32-byte key, so the ZAP handler needs this encoding.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`z85 needs a multiple of 4 bytes, got ${bytes.length}`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    const chunk = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chunk[j] = ALPHABET[value % 85]!;
      value = Math.floor(value / 85);
    }
    out += chunk.join('');
  }
  return out;
}

/** Returns undefined for text that is not valid z85 (wrong length, bad character, overflow). */
export function z85Decode(text: string): Uint8Array | undefined {
  if (text.length % 5 !== 0) return undefined;
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const c = text.charCodeAt(i + j);
      const d = c < 128 ? DECODE[c]! : -1;
      if (d < 0) return undefined;
      value = value * 85 + d;
    }
    if (value > 0xffffffff) return undefined;
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/**
 * A string that passed isCurveKey. The brand matters: with a plain `text is string` guard, a
 * string that fails the check would narrow to `never`.
 */
export type CurveKey = string & { readonly __curveKey: true };

/** A CURVE key in z85 is 40 characters encoding 32 bytes. */
export function isCurveKey(text: unknown): text is CurveKey {
  return typeof text === 'string' && text.length === 40 && z85Decode(text) !== undefined;
}
