/**
 * A block stream read back as the runtime had it: a tracker feed whose dimensions have their
 * own units ("deg|unit") is written with one unit per XDF channel, and rebuilt (blocks, and the
 * tracker samples training reads) with the unit it was published with.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlock } from '../src/core/block.js';
import { blockStream, sampleBlocks, trackerSamples } from '../src/offline/recording-view.js';
import { Recorder } from '../src/record/recorder.js';
import { readRecording } from '../src/record/xdf-reader.js';

test('per-dimension units: one per XDF channel in the file, the joined unit back on the rebuilt blocks', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-view-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'r.xdf');
  const rec = new Recorder({ path, clock: 'local', source: { runtime: 'rig-a', board: 'sim' } });
  const block = createBlock({ stream: 'tracker', channels: 2, samples: 3, rate: 100, channelNames: ['wrist_angle', 'grip'], unit: 'deg|unit' });
  for (let k = 0; k < 4; k++) {
    block.data.set([k, k + 0.25, k + 0.5, -k, -k - 0.25, -k - 0.5]);
    block.firstSample = k * 3;
    block.seq = k;
    block.hostTimeMs = 1000 + k * 30;
    block.hostPeriodMs = 10;
    rec.block('tracker', block, 1000 + k * 30);
  }
  rec.close();

  const file = readRecording(path);
  const ref = blockStream(file, 'tracker');
  t.deepEqual(ref.data.units, ['deg', 'unit']);
  const blocks = sampleBlocks(file, ref);
  t.is(blocks.length, 4);
  for (const b of blocks) t.is(b.unit, 'deg|unit');
  t.deepEqual(Array.from(blocks[2]!.data), [2, 2.25, 2.5, -2, -2.25, -2.5]);
  // What training reads for its targets' units: the published one, so grip stays "unit".
  const tr = trackerSamples(file);
  t.is(tr.unit, 'deg|unit');
  t.is(tr.samples.length, 12);
});
