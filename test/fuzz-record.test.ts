/**
 * Hostile XDF input: whatever follows "XDF:", parseXdf either decodes it or refuses it with a
 * ConfigError naming the file; never a RangeError/TypeError, a hang, or an allocation sized by
 * a length field instead of by the bytes present.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../src/core/errors.js';
import { RecordCodes } from '../src/record/codes.js';
import { exportRecording } from '../src/record/export.js';
import { parseXdf, readRecording } from '../src/record/xdf-reader.js';
import { XdfWriter } from '../src/record/xdf-writer.js';

const PATH = '/data/hostile.xdf';
const dir = mkdtempSync(join(tmpdir(), 'reflex-fuzz-xdf-'));

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
/** One chunk with a 4-byte length field. */
function chunk(tag: number, content: Buffer): Buffer {
  const t = Buffer.alloc(2);
  t.writeUInt16LE(tag);
  return Buffer.concat([Buffer.of(4), u32(content.length + 2), t, content]);
}
const fileHeader = chunk(1, Buffer.from('<?xml version="1.0"?><info><version>1.0</version></info>'));
function streamHeader(id: number, inner: string): Buffer {
  return chunk(2, Buffer.concat([u32(id), Buffer.from(`<?xml version="1.0"?><info>${inner}</info>`)]));
}
const info = (count: string, format = 'float32'): string =>
  `<name>s</name><type>EMG</type><channel_count>${count}</channel_count><nominal_srate>100</nominal_srate><channel_format>${format}</channel_format>`;
const xdf = (...chunks: Buffer[]): Buffer => Buffer.concat([Buffer.from('XDF:'), ...chunks]);

/** parseXdf must return, or throw a ConfigError naming the file with a record code. */
function settles(buf: Uint8Array): string {
  try {
    parseXdf(buf, PATH);
    return 'ok';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(err)}`, { cause: err });
    if (!err.message.includes(PATH)) throw new Error(`error does not name the file: ${err.message}`, { cause: err });
    if (!Object.values(RecordCodes).includes(err.code as never)) throw new Error(`unexpected code ${err.code}`, { cause: err });
    return err.code;
  }
}

let validBytes: Buffer | undefined;
function valid(): Buffer {
  if (validBytes) return validBytes;
  const path = join(dir, 'valid.xdf');
  const w = new XdfWriter(path, { header: { run: 'fuzz' } });
  const e = w.addStream({
    name: 'emg',
    type: 'EMG',
    format: 'float32',
    nominalSrate: 100,
    sourceId: 'r/s/emg',
    channels: [
      { label: 'a', unit: 'uV', type: 'EMG' },
      { label: 'b', unit: 'uV', type: 'EMG' },
    ],
    meta: { topic: 'emg.raw', runtime: 'r', board: 's' },
  });
  const m = w.addStream({
    name: 'ev',
    type: 'Markers',
    format: 'string',
    nominalSrate: 0,
    sourceId: 'r/s/ev',
    channels: [{ label: 'event', unit: '', type: 'Markers' }],
    meta: { topic: 'event', runtime: 'r', board: 's' },
  });
  w.writeBlock(e, new Float32Array([1, 2, 3, 4, 5, 6]), 3, true, 10, 0.01);
  w.writeString(m, 'hello', 10.5);
  w.clockOffset(e, 11, 0.001);
  w.close();
  readRecording(path);
  validBytes = readFileSync(path);
  return validBytes;
}

test('random bytes after the magic never escape as anything but a ConfigError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
      settles(xdf(Buffer.from(tail)));
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('random chunk sequences with plausible framing never crash', (t) => {
  const anyChunk = fc.record({
    tag: fc.integer({ min: 0, max: 8 }),
    body: fc.uint8Array({ maxLength: 64 }),
  });
  fc.assert(
    fc.property(fc.array(anyChunk, { maxLength: 8 }), (cs) => {
      settles(xdf(fileHeader, ...cs.map((c) => chunk(c.tag, Buffer.from(c.body)))));
    }),
    { numRuns: 1500 },
  );
  t.pass();
});

test('byte flips and cuts in a valid file never crash', (t) => {
  const base = valid();
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.nat({ max: base.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      fc.nat({ max: base.length }),
      (flips, cut) => {
        const b = Buffer.from(base.subarray(0, Math.max(4, cut)));
        for (const f of flips) if (f.at >= 4 && f.at < b.length) b[f.at] = f.byte;
        settles(b);
      },
    ),
    { numRuns: 2000 },
  );
  t.pass();
});

test('a chunk claiming 2^40 bytes is a cut last chunk, not an allocation', (t) => {
  const huge = Buffer.concat([Buffer.of(8), u64(1n << 40n), Buffer.of(3, 0), u32(1)]);
  const rec = parseXdf(xdf(fileHeader, huge), PATH);
  t.is(rec.truncatedBytes, huge.length);
  const max = Buffer.concat([Buffer.of(8), u64(0xffffffffffffffffn), Buffer.of(3, 0)]);
  t.is(parseXdf(xdf(fileHeader, max), PATH).truncatedBytes, max.length);
});

test('a sample count of 2^31 in a small Samples chunk is refused before allocating', (t) => {
  for (const count of [Buffer.concat([Buffer.of(4), u32(2 ** 31)]), Buffer.concat([Buffer.of(8), u64(1n << 60n)])]) {
    const samples = chunk(3, Buffer.concat([u32(0), count, Buffer.of(0), Buffer.alloc(4)]));
    const err = t.throws(() => parseXdf(xdf(fileHeader, streamHeader(0, info('1')), samples), PATH), { instanceOf: ConfigError });
    t.is(err?.code, RecordCodes.xdfCorrupt);
    t.regex(err?.message ?? '', /hostile\.xdf.*sample count/);
  }
});

test('many Samples chunks whose counts sum past the bytes present are refused', (t) => {
  const one = chunk(3, Buffer.concat([u32(0), Buffer.of(4), u32(3), Buffer.of(0), Buffer.alloc(4)]));
  const err = t.throws(() => parseXdf(xdf(fileHeader, streamHeader(0, info('1')), one, one), PATH), { instanceOf: ConfigError });
  t.is(err?.code, RecordCodes.xdfCorrupt);
});

test('channel_count 1e9 in a stream header is refused, not built', (t) => {
  for (const count of ['1000000000', '1e9', '4294967297']) {
    const err = t.throws(() => parseXdf(xdf(fileHeader, streamHeader(0, info(count))), PATH), { instanceOf: ConfigError });
    t.is(err?.code, RecordCodes.xdfCorrupt);
    t.regex(err?.message ?? '', /channel_count/);
  }
});

test('numeric character references outside Unicode are a malformed-XML ConfigError', (t) => {
  for (const ent of ['&#99999999;', '&#x110000;', '&#xFFFFFFFFFFFF;', `&#${'9'.repeat(400)};`]) {
    const err = t.throws(() => parseXdf(xdf(fileHeader, streamHeader(0, `<name>${ent}</name>` + info('1'))), PATH), {
      instanceOf: ConfigError,
    });
    t.is(err?.code, RecordCodes.xdfCorrupt);
  }
});

test('<reflex> metadata that is JSON but not an object is refused', (t) => {
  for (const j of ['null', '3', '"x"', '[1]', 'true']) {
    const err = t.throws(() => parseXdf(xdf(fileHeader, streamHeader(0, info('1') + `<desc><reflex>${j}</reflex></desc>`)), PATH), {
      instanceOf: ConfigError,
    });
    t.is(err?.code, RecordCodes.xdfCorrupt);
  }
});

test('a Samples chunk for an undeclared stream id is refused', (t) => {
  const samples = chunk(3, Buffer.concat([u32(7), Buffer.of(1, 1, 0), Buffer.alloc(4)]));
  const err = t.throws(() => parseXdf(xdf(fileHeader, streamHeader(0, info('1')), samples), PATH), { instanceOf: ConfigError });
  t.is(err?.code, RecordCodes.xdfCorrupt);
  t.regex(err?.message ?? '', /stream 7/);
});

test('a string whose length runs past its chunk is refused', (t) => {
  for (const len of [Buffer.concat([Buffer.of(4), u32(0xffffffff)]), Buffer.concat([Buffer.of(8), u64(1n << 62n)])]) {
    const samples = chunk(3, Buffer.concat([u32(0), Buffer.of(1, 1, 0), len, Buffer.from('abc')]));
    const trailer = chunk(6, Buffer.concat([u32(0), Buffer.from('<info/>')]));
    const err = t.throws(() => parseXdf(xdf(fileHeader, streamHeader(0, info('1', 'string')), samples, trailer), PATH), {
      instanceOf: ConfigError,
    });
    t.is(err?.code, RecordCodes.xdfCorrupt);
  }
});

test('deeply nested and huge header XML settles', (t) => {
  const deep = '<a>'.repeat(100_000) + '</a>'.repeat(100_000);
  t.is(settles(xdf(fileHeader, streamHeader(0, info('1') + deep))), 'ok');
  t.is(settles(xdf(fileHeader, streamHeader(0, info('1') + '<a>'.repeat(200_000)))), RecordCodes.xdfCorrupt);
  const deepJson = '['.repeat(100_000) + ']'.repeat(100_000);
  t.is(settles(xdf(fileHeader, streamHeader(0, info('1') + `<desc><reflex>${deepJson}</reflex></desc>`))), RecordCodes.xdfCorrupt);
});

test('readRecording on a hostile file on disk throws a ConfigError naming it', (t) => {
  const path = join(dir, 'hostile.xdf');
  writeFileSync(path, xdf(fileHeader, streamHeader(0, info('1e9'))));
  const err = t.throws(() => readRecording(path), { instanceOf: ConfigError });
  t.true(err?.message.includes(path));
});

test('whatever a damaged file decodes to exports, or is refused with a ConfigError', (t) => {
  const base = valid();
  const out = join(dir, 'export');
  let exported = 0;
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.nat({ max: base.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 3 }),
      (flips) => {
        const b = Buffer.from(base);
        for (const f of flips) if (f.at >= 4) b[f.at] = f.byte;
        let rec;
        try {
          rec = parseXdf(b, PATH);
        } catch (err) {
          if (err instanceof ConfigError) return;
          throw err;
        }
        try {
          exportRecording(rec, out, { formats: ['csv', 'npy'], force: true });
          exported++;
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
        }
      },
    ),
    { numRuns: 300 },
  );
  t.true(exported > 0, 'some damage (inside sample values) still decodes and exports');
});
