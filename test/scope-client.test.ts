/**
 * examples/scope_client.mjs (plain Node + ws, written from docs/scope.md alone) against a live
 * simulated board and a `reflex scope` process: its decoding of the binary display frame equals
 * Reflex's own decoder's on the same bytes, its values are finite, its channel count is the
 * board's, and it reports the latest prediction.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../src/runtime/runtime.js';
import { decodeFrame } from '../src/scope/frame.js';
import { startScopeRuntime } from './scope-runtime.js';

const CLIENT = fileURLToPath(new URL('../examples/scope_client.mjs', import.meta.url));
const REFLEX_NODE = fileURLToPath(new URL('../bin/reflex-node', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SIM = JSON.parse(readFileSync(fileURLToPath(new URL('../boards/sim.json', import.meta.url)), 'utf8')) as { source: { channels: number } };

let rt: Runtime;

test.before(async () => {
  rt = await startScopeRuntime('scope-client-rt');
});

test.after.always(async () => {
  await rt?.stop();
});

interface ClientSection {
  frame_seq: number;
  channels: number;
  buckets: number;
  bucket_ms: number;
  unit: string | null;
  labels: string[];
  range: Array<[number | string, number | string]>;
}

interface ClientOut {
  frames: number;
  bad_frames: number;
  streams: Record<string, { channels: string[]; unit: string; rate: number }>;
  sections: Record<string, ClientSection>;
  prediction: { seq: number; tick: number; model: string; names: string[]; values: number[] } | null;
  raw_frame: string;
}

test('the scope client decodes frames and JSON from a live `reflex scope` exactly as the document says', async (t) => {
  t.timeout(60_000);
  const scope = spawn(REFLEX_NODE, ['--import', 'tsx', MAIN, 'scope', rt.telemetryEndpoints[0]!, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let scopeOut = '';
  const url = new Promise<string>((resolve, reject) => {
    const look = (d: Buffer): void => {
      scopeOut += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(scopeOut);
      if (m) resolve(m[0]);
    };
    scope.stdout.on('data', look);
    scope.stderr.on('data', look);
    void once(scope, 'exit').then(([code]) => reject(new Error(`reflex scope exited (${String(code)}) before printing its URL:\n${scopeOut}`)));
  });
  try {
    const client = spawn(process.execPath, [CLIENT, await url, '--frames', '20', '--duration', '30', '--json', '--raw'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    client.stdout.on('data', (d: Buffer) => (out += d.toString()));
    client.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(client, 'exit')) as [number | null];
    t.is(code, 0, err + out);
    const line = out.split('\n').find((l) => l.startsWith('SCOPE '));
    if (!line) return t.fail(`no SCOPE line:\n${out}\n${err}`);
    const r = JSON.parse(line.slice(6)) as ClientOut;
    t.is(r.bad_frames, 0);
    t.true(r.frames >= 20);

    const raw = r.sections['emg.raw'];
    if (!raw) return t.fail(`no emg.raw section: ${line.slice(0, 500)}`);
    t.is(raw.channels, SIM.source.channels, 'one lane per channel of the board');
    t.deepEqual(raw.labels, r.streams['emg.raw']!.channels);
    t.is(raw.labels.length, SIM.source.channels);
    t.is(raw.unit, 'uV');
    t.true(raw.buckets > 0);
    for (const [lo, hi] of raw.range) {
      t.true(typeof lo === 'number' && typeof hi === 'number' && Number.isFinite(lo) && Number.isFinite(hi), `finite range ${String(lo)}..${String(hi)}`);
      t.true((lo as number) <= (hi as number));
    }

    // The last frame's bytes, decoded by Reflex's own decoder: the same per-channel ranges.
    const ref = decodeFrame(Buffer.from(r.raw_frame, 'base64'));
    const last = Object.values(r.sections).filter((s) => s.frame_seq === ref.seq);
    t.true(last.length > 0, 'the raw bytes are of the frame the client reported last');
    for (const sec of ref.sections) {
      const mine = r.sections[sec.stream];
      if (!mine || mine.frame_seq !== ref.seq || sec.buckets === 0) continue;
      t.is(mine.channels, sec.channels);
      t.is(mine.buckets, sec.buckets);
      t.is(mine.bucket_ms, sec.bucketMs);
      for (let c = 0; c < sec.channels; c++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let k = 0; k < sec.buckets; k++) {
          lo = Math.min(lo, sec.min[c * sec.buckets + k]!);
          hi = Math.max(hi, sec.max[c * sec.buckets + k]!);
        }
        t.deepEqual(mine.range[c], [lo, hi], `${sec.stream} channel ${c}`);
      }
    }

    const p = r.prediction;
    if (!p) return t.fail('no prediction');
    t.deepEqual(p.names, ['wrist_angle', 'grip']);
    t.is(p.values.length, 2);
    t.true(p.values.every((v) => typeof v === 'number' && Number.isFinite(v)));
  } finally {
    scope.kill('SIGINT');
    await once(scope, 'exit').catch(() => undefined);
  }
});
