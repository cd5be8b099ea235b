import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as exportCmd from '../src/cli/commands/export.js';
import type { ErrorCode } from '../src/core/codes.js';
import { RecordCodes } from '../src/record/codes.js';
import { exportBase } from '../src/record/export.js';
import { streamsOf } from '../src/record/layout.js';
import { Recorder } from '../src/record/recorder.js';
import type { RecordedStream } from '../src/record/types.js';
import { readRecording } from '../src/record/xdf-reader.js';
import { createEncoder } from '../src/telemetry/codec.js';
import { TOPICS, type BlockTopic } from '../src/telemetry/topics.js';
import { runCommand } from './record-helpers.js';
import { sampleBodies } from './telemetry-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'reflex-export-'));
const PY = '/usr/bin/python3';

function makeRecording(path: string, n = 5): void {
  const rec = new Recorder({ path, clock: 'local', source: { runtime: 'rig-a', board: 'sim' } });
  for (let k = 1; k <= n; k++) {
    const b = sampleBodies(k);
    for (const topic of TOPICS) rec.message(topic, b[topic], 1000 + k);
  }
  rec.close();
}

/** numpy's view of each .npy: dtype, shape, and the exact bytes. */
function numpyLoad(files: string[]): { dtype: string; shape: number[]; hex: string }[] {
  const code = [
    'import json, sys, numpy as np',
    'out = []',
    'for f in sys.argv[1:]:',
    '    a = np.load(f, allow_pickle=False)',
    "    out.append({'dtype': a.dtype.str, 'shape': list(a.shape), 'hex': a.astype(a.dtype.newbyteorder('<')).tobytes().hex()})",
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync(PY, ['-c', code, ...files], { encoding: 'utf8' })) as { dtype: string; shape: number[]; hex: string }[];
}

/** Python's csv module parsing each file: rows of cells. */
function pythonCsv(file: string): string[][] {
  const code = 'import csv, json, sys\nprint(json.dumps(list(csv.reader(open(sys.argv[1], newline="")))))';
  return JSON.parse(execFileSync(PY, ['-c', code, file], { encoding: 'utf8' })) as string[][];
}

const hex = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
const sameNumber = (cell: string, v: number): boolean => (Number.isNaN(v) ? cell === 'NaN' : Number(cell) === v);

test('export round trip: numpy reads every .npy bit-exactly, csv parses back to the same values, sidecars hold the metadata', async (t) => {
  const file = join(dir, 'rt.xdf');
  makeRecording(file);
  const out = join(dir, 'rt-out');
  const r = await runCommand(exportCmd, [file, '--out', out]);
  t.is(r.code, 0, r.err);
  const rec = readRecording(file);
  t.regex(r.out, new RegExp(`exported ${rec.streams.length} streams`));
  const numeric = rec.streams.filter((s) => s.format !== 'string');
  const loaded = numpyLoad(numeric.flatMap((s) => [join(out, `${exportBase(s)}.npy`), join(out, `${exportBase(s)}.timestamps.npy`)]));
  numeric.forEach((s, i) => {
    const data = loaded[2 * i]!;
    const ts = loaded[2 * i + 1]!;
    t.deepEqual([data.dtype, data.shape], [{ float32: '<f4', double64: '<f8', int32: '<i4' }[s.format as 'float32'], [s.samples, s.channels.length]], s.name);
    t.is(data.hex, hex(s.data), `${s.name} data bytes`);
    t.deepEqual([ts.dtype, ts.shape, ts.hex], ['<f8', [s.samples], hex(s.timestamps)], `${s.name} stamps`);
  });
  for (const s of rec.streams) {
    const rows = pythonCsv(join(out, `${exportBase(s)}.csv`));
    t.deepEqual(rows[0], ['timestamp', ...s.channels.map((c, i) => (s.units[i] ? `${c} [${s.units[i]}]` : c))], s.name);
    t.is(rows.length - 1, s.samples);
    const ch = s.channels.length;
    rows.slice(1).forEach((row, i) => {
      t.true(sameNumber(row[0]!, s.timestamps[i]!), `${s.name} stamp ${i}`);
      for (let c = 0; c < ch; c++) {
        if (s.format === 'string') t.is(row[1 + c], s.strings[i * ch + c]);
        else if (!sameNumber(row[1 + c]!, s.data[i * ch + c]!)) t.fail(`${s.name} [${i}, ${c}]: ${row[1 + c]} vs ${s.data[i * ch + c]}`);
      }
    });
    const side = JSON.parse(readFileSync(join(out, `${exportBase(s)}.json`), 'utf8')) as Record<string, unknown>;
    t.like(side, { name: s.name, type: s.type, rate: s.rate, format: s.format, samples: s.samples, channels: s.channels, units: s.units, meta: s.meta });
  }
  // String streams have no .npy; JSON text with commas and quotes survives the CSV quoting.
  const ev = streamsOf(rec, 'event')[0]!;
  t.false(existsSync(join(out, `${exportBase(ev)}.npy`)));
  t.deepEqual(JSON.parse(pythonCsv(join(out, `${exportBase(ev)}.csv`))[1]![1]!), sampleBodies(1).event);
});

test('export refuses foreign, empty and truncated files and unwritable or occupied outputs: exit 2, file named, nothing written', async (t) => {
  const good = join(dir, 'good.xdf');
  makeRecording(good);
  const refuse = async (argv: string[], code: ErrorCode, names: string, what: RegExp): Promise<void> => {
    const r = await runCommand(exportCmd, argv);
    t.is(r.code, 2, argv.join(' '));
    t.is(r.error?.code, code);
    t.true(r.err.includes(names), r.err);
    t.regex(r.err, what);
  };
  const foreign = join(dir, 'data.csv');
  writeFileSync(foreign, 'a,b\n1,2\n');
  await refuse([foreign, '--out', join(dir, 'o1')], RecordCodes.xdfForeign, foreign, /not an XDF recording/);
  const empty = join(dir, 'empty.xdf');
  writeFileSync(empty, '');
  await refuse([empty, '--out', join(dir, 'o2')], RecordCodes.xdfEmpty, empty, /empty/);
  const cut = join(dir, 'cut.xdf');
  const bytes = readFileSync(good);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
  await refuse([cut, '--out', join(dir, 'o3')], RecordCodes.xdfCorrupt, cut, /--allow-truncated/);
  t.false(existsSync(join(dir, 'o1')) || existsSync(join(dir, 'o2')) || existsSync(join(dir, 'o3')), 'no output for refused input');
  t.is((await runCommand(exportCmd, [cut, '--out', join(dir, 'o3'), '--allow-truncated'])).code, 0);
  const blocker = join(dir, 'plain-file');
  writeFileSync(blocker, 'x');
  await refuse([good, '--out', join(blocker, 'sub')], RecordCodes.output, join(blocker, 'sub'), /cannot write|not a directory/);
  await refuse([good, '--format', 'csv,xlsx'], 'E_USAGE', 'xlsx', /formats are csv, npy/);

  // Existing outputs: refused before anything is written, then replaced with --force.
  const out = join(dir, 'o4');
  t.is((await runCommand(exportCmd, [good, '--out', out, '--format', 'csv'])).code, 0);
  const files = readdirSync(out).sort();
  const victim = join(out, files[0]!);
  writeFileSync(victim, 'keep me');
  const removed = join(out, files[1]!);
  unlinkSync(removed);
  const mtimes = files.slice(2).map((f) => statSync(join(out, f)).mtimeMs);
  await refuse([good, '--out', out, '--format', 'csv'], RecordCodes.exists, out, /--force/);
  t.is(readFileSync(victim, 'utf8'), 'keep me');
  t.false(existsSync(removed), 'nothing written, not even the missing file');
  t.deepEqual(
    files.slice(2).map((f) => statSync(join(out, f)).mtimeMs),
    mtimes,
  );
  t.is((await runCommand(exportCmd, [good, '--out', out, '--format', 'csv', '--force'])).code, 0);
  t.not(readFileSync(victim, 'utf8'), 'keep me');
});

test('export --from-cbor converts an old subscribe --record file to XDF with the same samples', async (t) => {
  // The old format: 4-byte big-endian length + CBOR; a header record, then {endpoint, recv_wall_ms, msg}.
  const enc = createEncoder();
  const parts: Buffer[] = [];
  const put = (v: unknown): void => {
    const body = enc.encode(v);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    parts.push(head, body);
  };
  put({ format: 'reflex-telemetry-record', v: 1 });
  const bodies = [1, 2, 3].map((k) => sampleBodies(k));
  bodies.forEach((b, i) => {
    for (const topic of TOPICS) {
      put({
        endpoint: 'tcp://rig:5556',
        recv_wall_ms: 1_700_000_000_000 + i * 10 + 2,
        msg: { v: 3, topic, runtime: 'rig-c', board: 'sim', seq: i, mono_ms: 5000 + i * 10, wall_ms: 1_700_000_000_000 + i * 10, body: b[topic] },
      });
    }
  });
  const old = join(dir, 'old.cbor');
  writeFileSync(old, Buffer.concat(parts));
  const r = await runCommand(exportCmd, ['--from-cbor', old]);
  t.is(r.code, 0, r.err);
  const rec = readRecording(join(dir, 'old.xdf'));
  t.deepEqual(rec.header.reflex, { recorder: 'workstation', converted_from: old });
  for (const topic of ['emg.raw', 'emg.features', 'tracker'] as BlockTopic[]) {
    const s: RecordedStream = streamsOf(rec, topic)[0]!;
    t.is(s.samples, bodies.length * bodies[0]![topic].samples, topic);
    t.is(s.meta.runtime, 'rig-c');
  }
  t.is(streamsOf(rec, 'prediction')[0]!.samples, 3);
  // The offsets are the transit time the wall clocks show: 2 ms.
  t.true(rec.streams.every((s) => s.clockOffsets.every((o) => Math.abs(o.value - 0.002) < 1e-9)));
  t.is((await runCommand(exportCmd, ['--from-cbor', old])).code, 2, 'the XDF exists now: refused without --force');
  t.is((await runCommand(exportCmd, ['--from-cbor', good(dir)])).error?.code, RecordCodes.xdfForeign);
});

function good(d: string): string {
  const f = join(d, 'not-cbor.xdf');
  if (!existsSync(f)) makeRecording(f, 1);
  return f;
}
