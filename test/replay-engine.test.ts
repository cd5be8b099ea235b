/**
 * Replay against the runtime's own chain and loop core (test/_sim-run.ts drives SampleChain and
 * ControlCore on a scripted clock and writes what the runtime publishes to XDF).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { openRecording } from '../src/offline/open.js';
import { replayRecording, sameFloat32 } from '../src/replay/replay.js';
import { simRun } from './_sim-run.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-replay-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('every tick recorded, an e-stop and a release among them: features, predictions, requested and applied commands identical', async (t) => {
  const file = await simRun({ dir: tmp, seconds: 4, publishEvery: 1, estopAt: 150, releaseAt: 220 });
  const r = await replayRecording(openRecording(file));
  t.is(r.first, null);
  t.true(r.identical);
  t.is(r.tickGaps, 0);
  t.is(r.predictor, 'compiled');
  t.true(r.predictions > 350, String(r.predictions));
  t.is(r.actuatorTicks, r.predictions);
  t.true(r.featureBlocksChecked > 350);
  // 8 features x 1 sample + time per block, 2 outputs and 2 x 3 commands per tick.
  t.true(r.valuesCompared >= r.featureBlocksChecked * 9 + r.predictions * 8);
});

test('one tick in ten recorded: predictions stay exact; commands differ only where the slew acted inside a gap', async (t) => {
  // The release falls inside a gap: live ramps 6 steps from the safe value by tick 230, replay 10.
  const file = await simRun({ dir: tmp, seconds: 4, publishEvery: 10, estopAt: 150, releaseAt: 225 });
  const r = await replayRecording(openRecording(file));
  t.true(r.tickGaps >= 39);
  t.is(r.mismatchesBy.prediction, 0);
  t.is(r.mismatchesBy.feature, 0);
  t.is(r.mismatchesBy.requested, 0);
  t.deepEqual(r.mismatchTicks, [230]);
  t.is(r.first?.what, 'applied');
  // Away from the release, the slew never bound inside a gap on this run: identical.
  const calm = await simRun({ dir: tmp, seconds: 8, publishEvery: 10, seed: 3 });
  const c = await replayRecording(openRecording(calm));
  t.true(c.tickGaps > 70);
  t.true(c.identical, JSON.stringify(c.first));
});

test('float32 equality: the same number, NaN equal to NaN, -0 not 0', (t) => {
  t.true(sameFloat32(0.1, Math.fround(0.1)));
  t.true(sameFloat32(Number.NaN, Number.NaN));
  t.false(sameFloat32(-0, 0));
  t.false(sameFloat32(1, 1 + 2 ** -20));
});
