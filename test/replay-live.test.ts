/**
 * Record then replay, through the real stack: `reflex run --record` on the simulated board (a
 * real process: firmware on a pseudo-terminal, clock model, loop worker at its default 100 Hz,
 * output ring, telemetry tap, XDF writer), then replay of the file. The runtime publishes every
 * loop cycle (docs/loop.md, "The output ring"), so the file holds every tick and the slew
 * limiter's state replays exactly (docs/replay.md).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRecording } from '../src/offline/open.js';
import { column } from '../src/offline/recording-view.js';
import { replayRecording } from '../src/replay/replay.js';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'reflex-replay-live-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('a live run of the sim board at the default loop rate replays bit for bit: features, every tick, predictions, commands', async (t) => {
  const file = join(tmp, 'live.xdf');
  const child = spawn(
    process.execPath,
    ['--import=tsx', main, 'run', '--quiet', '--duration', '6', '--record', file, '--pub', 'tcp://127.0.0.1:*', '--no-control'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 0, err);
  const rec = openRecording(file);
  const r = await replayRecording(rec);
  t.is(r.first, null, JSON.stringify(r));
  t.true(r.identical);
  t.is(r.predictor, 'compiled');
  t.is(r.actuatorTicks, r.predictions);
  // Several seconds at 100 Hz: hundreds of ticks, not the one in ten a 10 Hz report would keep.
  t.true(r.predictions >= 200, String(r.predictions));
  t.true(r.featureBlocksChecked > 400, String(r.featureBlocksChecked));

  // Every cycle the loop ran is in the file: no cycle lost on the way (output ring, telemetry tap)...
  const health = rec.streams.find((s) => s.meta.topic === 'health');
  t.truthy(health);
  const last = JSON.parse(health!.strings[health!.strings.length - 1]!) as { counters: Record<string, number> };
  t.is(last.counters['loop.output_ring_overruns'], 0);
  const events = rec.streams.find((s) => s.meta.topic === 'event');
  t.false(events?.strings.some((e) => e.includes('loop.output_ring_overrun')) ?? false);
  // ...so the ticks are consecutive, except where the schedule itself dropped a deadline after an
  // overrun (a cycle more than a period late on a loaded machine), which the loop stream counts.
  const loop = rec.streams.find((s) => s.meta.topic === 'loop')!;
  const missedAt = column(rec, loop, 'missed');
  let missed = 0;
  for (let i = 0; i < loop.samples; i++) missed = Math.max(missed, loop.data[i * loop.channels.length + missedAt]!);
  if (missed === 0) t.is(r.tickGaps, 0);
  else t.true(r.tickGaps <= missed, `${r.tickGaps} tick gaps, ${missed} overruns`);
  t.log(`ticks ${r.predictions}, gaps ${r.tickGaps}, loop overruns ${missed}`);
});
