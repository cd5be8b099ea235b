/**
 * examples/python/read_xdf.py (numpy only, written from docs/recording.md and the XDF 1.0
 * specification) on a real `reflex run --record` of the simulated board: the same streams,
 * labels, sample counts, first and last stamps and raw EMG bytes as Reflex's own reader.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecording } from '../src/record/xdf-reader.js';

const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../examples/python/read_xdf.py', import.meta.url));
const REFLEX_NODE = fileURLToPath(new URL('../bin/reflex-node', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

async function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

interface PyStream {
  id: number;
  name: string;
  type: string;
  rate: number;
  format: string;
  labels: string[];
  samples: number;
  first: number | string;
  last: number | string;
}

interface PyEmg {
  samples: number;
  channels: number;
  unit: string;
  labels: string[];
  blocks: number;
  block_samples: number;
  sha256: string;
}

test('the Python XDF reader agrees with Reflex on a 3 s recording of the simulated board', async (t) => {
  t.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'reflex-record-py-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'run.xdf');
  const rec = await run(REFLEX_NODE, [
    '--import',
    'tsx',
    MAIN,
    'run',
    '--board',
    'sim',
    '--duration',
    '3',
    '--record',
    file,
    '--pub',
    'tcp://127.0.0.1:*',
    '--control',
    'tcp://127.0.0.1:*',
    '--quiet',
  ]);
  t.is(rec.code, 0, rec.err);

  const py = await run(PY, [SCRIPT, file, '--json']);
  t.is(py.code, 0, py.err);
  const lines = py.out.split('\n');
  const streams = lines.filter((l) => l.startsWith('STREAM ')).map((l) => JSON.parse(l.slice(7)) as PyStream);
  const emgLine = lines.find((l) => l.startsWith('EMG '));
  if (!emgLine) return t.fail(`no EMG line:\n${py.out}\n${py.err}`);
  const emg = JSON.parse(emgLine.slice(4)) as PyEmg;

  const ref = readRecording(file);
  t.is(ref.truncatedBytes, 0);
  t.deepEqual(
    streams.map((s) => s.name),
    ref.streams.map((s) => s.name),
    'the same streams in the same order',
  );
  for (const r of ref.streams) {
    const p = streams.find((s) => s.id === r.id);
    if (!p) {
      t.fail(`stream ${r.id} ${r.name} missing`);
      continue;
    }
    t.like(p, { name: r.name, type: r.type, rate: r.rate, format: r.format, labels: r.channels, samples: r.samples }, r.name);
    t.true(r.samples > 0, `${r.name} has samples`);
    t.is(p.first, r.timestamps[0]!, `${r.name} first stamp`);
    t.is(p.last, r.timestamps[r.samples - 1]!, `${r.name} last stamp`);
  }

  const raw = ref.streams.find((s) => s.name === 'reflex emg.raw emg');
  if (!raw) return t.fail('no raw EMG stream');
  t.true(raw.samples > 2000, `seconds of EMG, got ${raw.samples} samples`);
  t.like(emg, { samples: raw.samples, channels: raw.channels.length, unit: raw.units[0], labels: raw.channels });
  t.is(emg.block_samples, raw.samples, 'the companion blocks add up to the samples');
  const bytes = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  t.is(emg.sha256, createHash('sha256').update(bytes).digest('hex'), 'the raw EMG bit for bit');

  // Cut short as by a crash in the middle of its last chunk, with zero bytes after it: both readers keep the same whole part.
  const whole = readFileSync(file);
  const cut = join(dir, 'cut.xdf');
  writeFileSync(cut, Buffer.concat([whole.subarray(0, whole.length - 1000), Buffer.alloc(64)]));
  const refCut = readRecording(cut);
  t.true(refCut.truncatedBytes > 0);
  const pyCut = await run(PY, [SCRIPT, cut, '--json']);
  t.is(pyCut.code, 0, pyCut.err);
  t.regex(pyCut.err, new RegExp(`ignored ${refCut.truncatedBytes} bytes`));
  const cutStreams = pyCut.out
    .split('\n')
    .filter((l) => l.startsWith('STREAM '))
    .map((l) => JSON.parse(l.slice(7)) as PyStream);
  t.deepEqual(
    cutStreams.map((s) => [s.name, s.samples, s.last]),
    refCut.streams.map((s) => [s.name, s.samples, s.samples ? s.timestamps[s.samples - 1]! : 'NaN']),
  );
});
