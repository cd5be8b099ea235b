import test from 'ava';
import fc from 'fast-check';
import { cobsDecodeInPlace, cobsEncode, cobsMaxEncodedLength } from '../src/bridge/cobs.js';
import { CRC16_INIT, crc16 } from '../src/bridge/crc16.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('CRC-16/CCITT-FALSE check value of "123456789" is 0x29B1', (t) => {
  t.is(crc16(ascii('123456789')), 0x29b1);
  t.is(crc16(new Uint8Array(0)), CRC16_INIT);
});

test('CRC can be computed in pieces and over a sub-range', (t) => {
  const d = ascii('xx123456789yy');
  t.is(crc16(d, 2, 11), 0x29b1);
  const part = crc16(d, 2, 6);
  t.is(crc16(d, 6, 11, part), 0x29b1);
});

function encode(p: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(p.length));
  const n = cobsEncode(p, 0, p.length, out, 0);
  return out.subarray(0, n);
}

function decode(enc: Uint8Array): Uint8Array | null {
  const buf = enc.slice();
  const n = cobsDecodeInPlace(buf, 0, buf.length);
  return n < 0 ? null : buf.slice(1, 1 + n);
}

test('COBS known encodings (Cheshire & Baker examples)', (t) => {
  const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
  t.is(hex(encode(Uint8Array.of())), '01');
  t.is(hex(encode(Uint8Array.of(0))), '0101');
  t.is(hex(encode(Uint8Array.of(0, 0))), '010101');
  t.is(hex(encode(Uint8Array.of(0x11, 0x22, 0x00, 0x33))), '0311220233');
  t.is(hex(encode(Uint8Array.of(0x11, 0x00, 0x00, 0x00))), '0211010101');
  const run254 = new Uint8Array(254).fill(7);
  // No trailing empty block after a final full run (same as firmware-bridge/core).
  t.is(hex(encode(run254)), 'ff' + '07'.repeat(254));
  t.is(hex(encode(Uint8Array.of(...run254, 0))), 'ff' + '07'.repeat(254) + '0101');
  t.is(hex(encode(new Uint8Array(508).fill(7))), 'ff' + '07'.repeat(254) + 'ff' + '07'.repeat(254));
  const run255 = new Uint8Array(255).fill(7);
  t.is(hex(encode(run255)), 'ff' + '07'.repeat(254) + '0207');
});

test('COBS decoder accepts a final 254-byte run with and without the trailing 0x01', (t) => {
  const run254 = new Uint8Array(254).fill(9);
  const withCode = Uint8Array.of(0xff, ...run254, 0x01);
  const without = Uint8Array.of(0xff, ...run254);
  t.deepEqual(decode(withCode), run254);
  t.deepEqual(decode(without), run254);
});

test('COBS decoder rejects a zero code byte and codes past the end', (t) => {
  t.is(decode(Uint8Array.of(0x02, 0x11, 0x00, 0x22)), null);
  t.is(decode(Uint8Array.of(0x00, 0x11)), null);
  t.is(decode(Uint8Array.of(0x05, 0x11, 0x22)), null);
  t.is(decode(Uint8Array.of()), null);
  t.is(cobsDecodeInPlace(Uint8Array.of(0x02, 0x11, 0x03, 0x22), 0, 4), -1);
});

/** Byte arrays rich in zeros and in long non-zero runs around the 254/255 boundary. */
const packets = fc.oneof(
  fc.uint8Array({ maxLength: 1100 }),
  fc
    .array(
      fc.oneof(
        fc.constant(Uint8Array.of(0)),
        fc.integer({ min: 250, max: 512 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n, min: 1, max: 255 })),
        fc.constantFrom(254, 255, 253, 508, 509).map((n) => new Uint8Array(n).fill(0x5a)),
      ),
      { maxLength: 6 },
    )
    .map((parts) => Uint8Array.from(parts.flatMap((p) => Array.from(p)))),
);

test('COBS round trip: no zero in the encoding, size bound holds, decode gives the packet back', (t) => {
  fc.assert(
    fc.property(packets, (p) => {
      const enc = encode(p);
      if (enc.includes(0)) return false;
      if (enc.length > cobsMaxEncodedLength(p.length)) return false;
      const dec = decode(enc);
      return dec !== null && Buffer.from(dec).equals(Buffer.from(p));
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('COBS decodes in place inside a larger buffer without touching bytes outside the frame', (t) => {
  fc.assert(
    fc.property(packets, fc.integer({ min: 0, max: 7 }), (p, pad) => {
      const enc = encode(p);
      const buf = new Uint8Array(pad + enc.length + 3).fill(0xee);
      buf.set(enc, pad);
      const n = cobsDecodeInPlace(buf, pad, pad + enc.length);
      return (
        n === p.length &&
        Buffer.from(buf.subarray(pad + 1, pad + 1 + n)).equals(Buffer.from(p)) &&
        buf.subarray(0, pad).every((b) => b === 0xee) &&
        buf.subarray(pad + enc.length).every((b) => b === 0xee)
      );
    }),
    { numRuns: 300 },
  );
  t.pass();
});

/** Bit-at-a-time reference, straight from the polynomial. */
function crcBitwise(d: Uint8Array): number {
  let c = 0xffff;
  for (const b of d) {
    c ^= b << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}

test('table-driven CRC equals the bitwise definition for any data, length and split', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (d, cut) => {
      const k = d.length === 0 ? 0 : cut % (d.length + 1);
      return crc16(d) === crcBitwise(d) && crc16(d, k, d.length, crc16(d, 0, k)) === crcBitwise(d);
    }),
    { numRuns: 300 },
  );
  t.pass();
});
