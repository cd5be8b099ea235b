import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { companionOf, streamsOf } from '../src/record/layout.js';
import { readRecording } from '../src/record/xdf-reader.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { loadWithLibxdf } from './record-helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'reflex-crash-'));

test('kill -9 during `reflex run --record`: the file opens (ours and libxdf) and holds everything up to the last second', async (t) => {
  t.timeout(60_000);
  const file = join(dir, 'crash.xdf');
  const pub = `ipc://${join(dir, 'pub.sock')}`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'run', '--board', 'sim', '--record', file, '--pub', pub, '--no-control', '--quiet'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  // Watch the run from outside over telemetry: every emg.raw block it published, with its publish time.
  const client = new TelemetryClient({ endpoints: [pub], topics: ['emg.raw', 'prediction'] });
  const seen: { first: number; mono: number }[] = [];
  let killMono = 0;
  let predictions = 0;
  const guard = setTimeout(() => void client.close(), 45_000);
  try {
    for await (const m of client) {
      // The loop predicts only once the model is verified, later on a loaded machine: wait for it.
      if (m.topic === 'prediction') predictions++;
      if (m.topic !== 'emg.raw') continue;
      seen.push({ first: m.body.first_sample, mono: m.mono_ms });
      // Three seconds of blocks, and the loop a second into predicting: kill it mid-stream.
      if (m.mono_ms - seen[0]!.mono >= 3000 && predictions >= 100) {
        killMono = monotonicMs();
        child.kill('SIGKILL');
        break;
      }
    }
  } finally {
    clearTimeout(guard);
    await client.close();
  }
  const [code, signal] = (await exited) as [number | null, string | null];
  t.is(signal, 'SIGKILL', `the run ended by itself (code ${code}): ${stderr}`);
  t.true(killMono > 0, 'never saw 3 s of blocks');

  const rec = readRecording(file);
  t.log(`file ${readFileSync(file).length} bytes, cut ${rec.truncatedBytes} bytes, ${rec.streams.length} streams`);
  const raw = streamsOf(rec, 'emg.raw')[0]!;
  const comp = companionOf(rec, raw)!;
  const inFile = new Set<number>();
  for (let i = 0; i < comp.samples; i++) inFile.add(comp.data[i * 7]!);
  const due = seen.filter((b) => b.mono <= killMono - 1000);
  t.true(due.length > 100, `${due.length} blocks older than 1 s at the kill`);
  const missing = due.filter((b) => !inFile.has(b.first));
  t.deepEqual(missing, [], 'every block published more than a second before the kill is in the file');
  // Blocks are whole and in order: samples = 16 per block row, data count matches the companion's.
  let samples = 0;
  for (let i = 0; i < comp.samples; i++) samples += comp.data[i * 7 + 2]!;
  t.is(raw.samples, samples);
  for (const topic of ['emg.features', 'tracker', 'prediction', 'actuators', 'clock', 'event'] as const)
    t.true(streamsOf(rec, topic).length > 0, `${topic} recorded`);

  // libxdf reads garbage from a cut last chunk, so it gets the complete part: what a crash guarantees.
  const whole = readFileSync(file);
  const complete = join(dir, 'complete.xdf');
  writeFileSync(complete, whole.subarray(0, whole.length - rec.truncatedBytes));
  const lib = loadWithLibxdf(complete);
  t.deepEqual(
    lib.streams.map((s) => [s.name, s.channel_count, s.nominal_srate, s.labels]),
    rec.streams.map((s) => [s.name, s.channels.length, s.rate, s.channels]),
  );
  // No footers after a crash: libxdf's counts come from the samples themselves.
  t.deepEqual(
    lib.streams.map((s) => (s.channel_format === 'string' ? s.events.length : s.time_stamps)),
    rec.streams.map((s) => s.samples),
  );
});
