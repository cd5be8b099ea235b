import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { readSimRecording } from '../src/train/simfile.js';
import { execFileSync } from 'node:child_process';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-simfile-test-'));
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
