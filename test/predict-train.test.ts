import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { trainDefaultModel } from '../src/train/default-model.js';
import { readSimRecording } from '../src/train/simfile.js';
import { execFileSync } from 'node:child_process';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-train-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const bin = new URL('../firmware-bridge/build/reflex-bridge-host', import.meta.url).pathname;

test('the offline simulator file is read as channel-major µV plus poses', (t) => {
  const file = join(tmp, 'sim.bin');
  execFileSync(bin, ['--offline', '2', '--out', file, '--rate', '1000', '--channels', '4', '--seed', '3']);
  const r = readSimRecording(file);
  t.is(r.rate, 1000);
  t.is(r.channels, 4);
  t.is(r.samples, 2000);
  t.is(r.emg.length, 4 * 2000);
  t.is(r.dims, 2);
  t.is(r.poses, 200);
  t.true(r.emg.every(Number.isFinite));
  t.true(r.emg.some((v) => v !== 0));
  const bad = join(tmp, 'bad.bin');
  execFileSync('sh', ['-c', `head -c 100 ${file} > ${bad}`]);
  t.is((t.throws(() => readSimRecording(bad)) as { code?: string }).code, 'E_SIMFILE');
});

test('a short training run produces a loadable model that predicts held-out data', async (t) => {
  const out = join(tmp, 'model');
  const r = await trainDefaultModel({ seconds: 40, epochs: 3, seed: 2, out, log: () => {} });
  t.is(r.predictorPath, 'compiled');
  // Held out in time; a short run still explains most of the variance on this simulator.
  t.true(r.validationR2.wrist_angle! > 0.5, JSON.stringify(r.validationR2));
  t.true(r.validationR2.grip! > 0.5, JSON.stringify(r.validationR2));
  const meta = JSON.parse(readFileSync(join(out, 'reflex-model.json'), 'utf8')) as { training: { validationR2: unknown }; features: { pipeline: unknown[] } };
  t.deepEqual(meta.training.validationR2, r.validationR2);
  t.is(meta.features.pipeline.length, 4);
});
