/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected, no final XOR), the
 * frame check of the firmware-bridge protocol (docs/protocol.md section 1).
 * Check value: the ASCII bytes "123456789" give 0x29B1.
 *
 * Table-driven, eight bytes per step ("slicing-by-8"): table k maps a byte to the
 * register update for that byte followed by k zero bytes, so eight independent lookups
 * replace a chain of eight dependent ones. About three times faster than the one-table
 * loop in V8, same result; the tail runs bytewise on the classic table.
 */

/** CRC register value before any byte. */
export const CRC16_INIT = 0xffff;

/** The classic byte table: entry b is the register after shifting byte b through. */
export const CRC16_TABLE: Uint16Array = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  let crc = b << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  CRC16_TABLE[b] = crc;
}

function shifted(prev: Uint16Array): Uint16Array {
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) t[b] = ((prev[b]! << 8) & 0xff00) ^ CRC16_TABLE[prev[b]! >>> 8]!;
  return t;
}
const T1 = shifted(CRC16_TABLE);
const T2 = shifted(T1);
const T3 = shifted(T2);
const T4 = shifted(T3);
const T5 = shifted(T4);
const T6 = shifted(T5);
const T7 = shifted(T6);

/**
 * CRC of `data[start, end)`, continuing from `crc` (pass a previous result to checksum
 * a message in pieces).
 */
export function crc16(data: Uint8Array, start = 0, end = data.length, crc = CRC16_INIT): number {
  const t0 = CRC16_TABLE;
  let c = crc;
  let i = start;
  for (; i + 7 < end; i += 8) {
    c =
      T7[(c >>> 8) ^ data[i]!]! ^
      T6[(c & 0xff) ^ data[i + 1]!]! ^
      T5[data[i + 2]!]! ^
      T4[data[i + 3]!]! ^
      T3[data[i + 4]!]! ^
      T2[data[i + 5]!]! ^
      T1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
  }
  for (; i < end; i++) c = ((c << 8) & 0xff00) ^ t0[((c >>> 8) ^ data[i]!) & 0xff]!;
  return c;
}
