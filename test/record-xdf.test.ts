import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorCode } from '../src/core/codes.js';
import { ConfigError } from '../src/core/errors.js';
import { RecordCodes } from '../src/record/codes.js';
import { parseXdf, readRecording } from '../src/record/xdf-reader.js';
import { XdfWriter, type XdfStreamSpec } from '../src/record/xdf-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'reflex-xdf-'));
let n = 0;
const file = (): string => join(dir, `f${n++}.xdf`);

const meta = (topic: string) => ({ topic, runtime: 'rig-a', board: 'sim' });
const emgSpec: XdfStreamSpec = {
  name: 'reflex emg.raw emg',
  type: 'EMG',
  format: 'float32',
  nominalSrate: 2000,
  sourceId: 'rig-a/sim/emg',
  channels: ['a&b', 'c<d'].map((label) => ({ label, unit: 'uV', type: 'EMG' })),
  meta: { ...meta('emg.raw'), stream: 'emg', note: 'quotes " and <tags>' },
};
const rowSpec: XdfStreamSpec = {
  name: 'reflex loop',
  type: 'ReflexLoop',
  format: 'double64',
  nominalSrate: 0,
  sourceId: 'rig-a/sim/loop',
  channels: ['x', 'y', 'z'].map((label) => ({ label, unit: 'ms', type: 'Misc' })),
  meta: meta('loop'),
};
const intSpec: XdfStreamSpec = { ...rowSpec, name: 'ints', format: 'int32', channels: [{ label: 'k', unit: '', type: 'Misc' }] };
const strSpec: XdfStreamSpec = {
  ...rowSpec,
  name: 'reflex event',
  type: 'Markers',
  format: 'string',
  channels: [{ label: 'event', unit: '', type: 'Markers' }],
  meta: meta('event'),
};

/** A small file with every chunk type; returns what was written. */
function sample(path: string): { emg: Float32Array; rows: Float64Array[] } {
  const w = new XdfWriter(path, { header: { run: 'test' } });
  const e = w.addStream(emgSpec);
  const r = w.addStream(rowSpec);
  const k = w.addStream(intSpec);
  const s = w.addStream(strSpec);
  // Channel-major, 2 channels x 3 samples, with values float32 keeps exactly or not at all.
  const emg = new Float32Array([1.5, -0, Number.NaN, 3.25, Infinity, 1e-30]);
  w.clockOffset(e, 10, 0);
  w.writeBlock(e, emg, 3, true, 1000.25, 0.5);
  w.writeBlock(e, emg, 3, true, Number.NaN, 0.5);
  const rows = [new Float64Array([1, 2.000000001, -3]), new Float64Array([Number.NaN, 1e300, 0.1])];
  w.writeSample(r, rows[0]!, 1.001);
  w.boundary();
  w.writeSample(r, rows[1]!, 1.002);
  w.writeBlock(k, new Int32Array([-7, 2147483647]), 2, false, 500, 10);
  w.writeString(s, 'héllo, "world"\n', 1.5);
  w.writeString(s, '', 1.6);
  w.clockOffset(e, 15, 0.001);
  w.close();
  return { emg, rows };
}

test('writer and reader round-trip every stream kind, stamps, offsets and metadata exactly', (t) => {
  const path = file();
  const { emg, rows } = sample(path);
  const rec = readRecording(path);
  t.is(rec.truncatedBytes, 0);
  t.is(rec.path, path);
  t.deepEqual(rec.header.reflex, { run: 'test' });
  t.is(rec.header.version, '1.0');
  t.deepEqual(
    rec.streams.map((s) => [s.id, s.name, s.type, s.rate, s.format, s.samples]),
    [
      [1, 'reflex emg.raw emg', 'EMG', 2000, 'float32', 6],
      [2, 'reflex loop', 'ReflexLoop', 0, 'double64', 2],
      [3, 'ints', 'ReflexLoop', 0, 'int32', 2],
      [4, 'reflex event', 'Markers', 0, 'string', 2],
    ],
  );
  const [e, r, k, s] = rec.streams as [NonNullable<(typeof rec.streams)[0]>, ...typeof rec.streams];
  t.deepEqual(e.channels, ['a&b', 'c<d']);
  t.deepEqual(e.units, ['uV', 'uV']);
  t.deepEqual(e.meta, emgSpec.meta);
  // Sample-major in the file: sample i = [ch0[i], ch1[i]], twice (two blocks).
  const expected = [emg[0], emg[3], emg[1], emg[4], emg[2], emg[5]];
  t.deepEqual(Array.from(e.data), [...expected, ...expected]);
  t.true(Object.is(e.data[2], -0));
  t.deepEqual(Array.from(e.timestamps.subarray(0, 3)), [1000.25 / 1000, (1000.25 + 0.5) / 1000, (1000.25 + 1) / 1000]);
  // The second block had no host time: deduced from the previous stamp and the nominal rate.
  t.is(e.timestamps[3], e.timestamps[2]! + 1 / 2000);
  t.deepEqual(e.clockOffsets, [
    { time: 10, value: 0 },
    { time: 15, value: 0.001 },
  ]);
  t.deepEqual(Array.from(r!.data), [...rows[0]!, ...rows[1]!]);
  t.deepEqual(Array.from(r!.timestamps), [1.001, 1.002]);
  t.deepEqual(Array.from(k!.data), [-7, 2147483647]);
  t.deepEqual(Array.from(k!.timestamps), [0.5, 0.51]);
  t.deepEqual(s!.strings, ['héllo, "world"\n', '']);
  t.deepEqual(Array.from(s!.timestamps), [1.5, 1.6]);
});

test('a file cut anywhere after its header reads as the complete chunks before the cut', (t) => {
  const path = file();
  sample(path);
  const whole = readFileSync(path);
  const full = parseXdf(whole, path);
  const headerEnd = 4 + 5 + whole.readUInt32LE(5);
  fc.assert(
    fc.property(fc.integer({ min: headerEnd, max: whole.length }), (cut) => {
      const rec = parseXdf(whole.subarray(0, cut), 'cut.xdf');
      // Every stream read is a prefix of the full file's stream.
      for (const s of rec.streams) {
        const f = full.streams.find((x) => x.id === s.id)!;
        if (s.format === 'string') return s.strings.every((x, i) => x === f.strings[i]);
        for (let i = 0; i < s.data.length; i++) if (!Object.is(s.data[i], f.data[i])) return false;
      }
      return cut === whole.length ? rec.truncatedBytes === 0 : rec.truncatedBytes >= 0 && rec.truncatedBytes < cut;
    }),
    { numRuns: 200 },
  );
  t.is(parseXdf(whole.subarray(0, whole.length - 3), 'cut.xdf').truncatedBytes > 0, true);
  // Zeros a power cut can leave after the last chunk are ignored the same way.
  const zeros = Buffer.concat([whole, Buffer.alloc(100)]);
  t.is(parseXdf(zeros, 'z.xdf').truncatedBytes, 100);
});

const bad = (t: import('ava').ExecutionContext, bytes: Uint8Array | string, code: ErrorCode, text: RegExp): void => {
  const path = file();
  writeFileSync(path, bytes);
  const err = t.throws(() => readRecording(path), { instanceOf: ConfigError });
  t.is(err?.code, code);
  t.true(err.message.includes(path), err.message);
  t.regex(err.message, text);
};

test('empty, foreign, header-less and damaged files are refused with a code and the file name', (t) => {
  bad(t, '', RecordCodes.xdfEmpty, /empty/);
  bad(t, 'time,ch1\n0,1\n', RecordCodes.xdfForeign, /does not start with "XDF:"/);
  bad(t, 'XD', RecordCodes.xdfCorrupt, /before its file header/);
  bad(t, 'XDF:', RecordCodes.xdfCorrupt, /inside its file header/);
  const path = file();
  sample(path);
  const whole = readFileSync(path);
  // A length byte count that XDF does not allow, in the middle of the file.
  const mid = Buffer.from(whole);
  const second = 4 + 5 + whole.readUInt32LE(5);
  mid[second] = 3;
  bad(t, mid, RecordCodes.xdfCorrupt, new RegExp(`at byte ${second}.*1, 4 or 8`));
  // An unknown tag.
  const tag = Buffer.from(whole);
  tag.writeUInt16LE(77, second + 5);
  bad(t, tag, RecordCodes.xdfCorrupt, /unknown chunk tag 77/);
  // Samples for a stream that was never declared.
  const w = new XdfWriter(file());
  const id = w.addStream(rowSpec);
  w.writeSample(id, [1, 2, 3], 1);
  w.close();
  const orphan = readFileSync(w.path);
  const at = 4 + 5 + orphan.readUInt32LE(5);
  const headerLen = orphan.readUInt32LE(at + 1);
  bad(t, Buffer.concat([orphan.subarray(0, at), orphan.subarray(at + 5 + headerLen)]), RecordCodes.xdfCorrupt, /before its StreamHeader/);
  // A channel format Reflex does not read.
  const i16 = new XdfWriter(file());
  i16.addStream({ ...rowSpec, format: 'int32' });
  i16.close();
  bad(t, Buffer.from(readFileSync(i16.path).toString('latin1').replace('>int32<', '>int16<'), 'latin1'), RecordCodes.xdfFormat, /int16/);
});

test('the writer refuses to replace a file unless asked, and reports an unwritable place', (t) => {
  const path = file();
  sample(path);
  const before = readFileSync(path);
  const err = t.throws(() => new XdfWriter(path), { instanceOf: ConfigError });
  t.is(err?.code, RecordCodes.exists);
  t.true(err.message.includes(path) && err.message.includes('--force'));
  t.deepEqual(readFileSync(path), before);
  new XdfWriter(path, { overwrite: true }).close();
  t.true(statSync(path).size < before.length);
  const nowhere = join(dir, 'missing-dir', 'x.xdf');
  t.is(t.throws(() => new XdfWriter(nowhere), { instanceOf: ConfigError })?.code, RecordCodes.output);
  const w = new XdfWriter(file());
  w.close();
  t.is(t.throws(() => w.addStream(rowSpec))?.message.includes('closed'), true);
});

test('an open file is readable after every flush: whole chunks, no footers needed', (t) => {
  const path = file();
  const w = new XdfWriter(path, { flushEveryMs: 60_000 });
  const id = w.addStream(rowSpec);
  w.writeSample(id, [1, 2, 3], 1);
  t.is(readRecording(path).streams.length, 0, 'composed chunks wait for the flush');
  w.flush();
  const rec = readRecording(path);
  t.is(rec.truncatedBytes, 0);
  t.deepEqual(Array.from(rec.streams[0]!.data), [1, 2, 3]);
  w.close();
  t.is(readRecording(path).streams[0]!.samples, 1);
});
