import test from 'ava';
import { createActuators } from '../src/actuate/set.js';
import type { SimActuator } from '../src/actuate/sim.js';
import { ControlLoop } from '../src/loop/loop.js';
import type { PredictorSpec } from '../src/loop/messages.js';
import { emptyStats } from '../src/loop/stats.js';
import type { SafetyEvent } from '../src/loop/watchdog.js';
import { servoDefs, servoLoopOptions } from './loop-fixtures.js';

/**
 * A predictor module for the worker, as a data: URL: output k = mean of the window's
 * channel k, read time-major (x[t * channels + c]); a first value of 1e9 makes it throw
 * (to drive the predictor-error path).
 */
const PREDICTOR = `data:text/javascript,${encodeURIComponent(`
export function createPredictor(o) {
  return {
    inputSize: o.channels * o.samples,
    outputSize: o.channels,
    predict(x, y) {
      if (x[0] === 1e9) throw new Error('boom: predictor failed on purpose');
      for (let c = 0; c < o.channels; c++) {
        let s = 0;
        for (let t = 0; t < o.samples; t++) s += x[t * o.channels + c];
        y[c] = s / o.samples;
      }
    },
  };
}`)}`;

const C = 2;
const S = 5;
const spec: PredictorSpec = { kind: 'module', url: PREDICTOR, inputSize: C * S, outputNames: ['a', 'b'], options: { channels: C, samples: S } };

/** A time-major window: channel 0 holds `a` and channel 1 `b` at every sample. */
function windowOf(a: number, b: number): Float32Array {
  const w = new Float32Array(S * C);
  for (let t = 0; t < S; t++) {
    w[t * C] = a;
    w[t * C + 1] = b;
  }
  return w;
}

/** Resolve when `pred` holds for a fresh read of the loop's latest output, polling on the event loop. */
async function until(
  loop: ControlLoop,
  pred: (o: ReturnType<ControlLoop['createOutput']>) => boolean,
  what: string,
  timeoutMs = 8000,
): Promise<ReturnType<ControlLoop['createOutput']>> {
  const o = loop.createOutput();
  const t0 = Date.now();
  for (;;) {
    if (loop.readLatest(o) && pred(o)) return o;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

async function withLoop(t: { teardown(fn: () => unknown): void }, over: Partial<Parameters<typeof ControlLoop.start>[0]> = {}) {
  const sink = createActuators(servoDefs, {});
  const loop = await ControlLoop.start({ ...servoLoopOptions(spec, { staleMs: 3000, overrunStreak: 50 }), sink, ...over });
  t.teardown(() => loop.stop());
  const events: SafetyEvent[] = [];
  loop.onSafetyEvent((e) => events.push(e));
  return { loop, sink, events, sims: sink.actuators as SimActuator[] };
}

test.serial('the worker runs a few hundred cycles at 1 kHz and reports stats through shared memory', async (t) => {
  const { loop, sims } = await withLoop(t);
  t.is(loop.predictor.kind, 'module');
  const w = windowOf(100, -200);
  loop.pushWindow(w);
  // Keep input fresh while the loop runs; wait for cycle 300 and the commands to reach the actuators.
  const s = emptyStats();
  const out = await until(
    loop,
    (o) => {
      loop.pushWindow(w);
      return loop.readStats(s) && s.cycles >= 300 && !o.safe && sims[0]!.last === 1600 && sims[1]!.last === 1000;
    },
    '300 cycles',
  );
  t.deepEqual(Array.from(out.outputs), [100, -200]);
  t.deepEqual(Array.from(out.commands), [1600, 1000]);
  t.true(loop.readStats(s));
  t.true(s.cycles >= 300);
  t.is(s.periodUs, 1000);
  t.true(s.window > 0 && s.window <= 2048);
  t.true(Number.isFinite(s.latenessP50Us) && s.latenessP50Us <= s.latenessP99Us && s.latenessP99Us <= s.latenessMaxUs);
  t.true(s.computeP50Us >= 0 && s.computeP99Us <= s.computeMaxUs);
  t.true(s.inputsSeen >= 1);
  t.false(s.safe);
  t.true(Number.isNaN(loop.workerGcs), 'reported at stop');
  await loop.stop();
  t.true(sims.every((a) => a.inSafeState));
  // The worker's collections while cycling: a count, reported with the stop.
  t.true(Number.isInteger(loop.workerGcs) && loop.workerGcs >= 0, String(loop.workerGcs));
  // Quiescent now: every grid index before the one it stopped at was either run or counted as skipped.
  const o2 = loop.createOutput();
  t.true(loop.readStats(s) && loop.readLatest(o2));
  t.is(o2.cycle, 1 + s.cycles + s.skipped);
  t.true(o2.safe);
  t.is(o2.reason, 'stopped');
});

test.serial('starting unarmed holds actuators safe until release()', async (t) => {
  const { loop, sims, events } = await withLoop(t, { startArmed: false });
  const w = windowOf(300, 300);
  loop.pushWindow(w);
  const o1 = await until(
    loop,
    (o) => {
      loop.pushWindow(w);
      return o.cycle >= 20;
    },
    '20 cycles',
  );
  t.true(o1.safe);
  t.is(o1.reason, 'startup');
  t.deepEqual(Array.from(o1.commands), [1500, 1000]);
  t.true(sims.every((a) => a.last === a.def.safe));
  const released = new Promise<SafetyEvent>((resolve) => loop.onSafetyEvent((e) => e.reason === 'released' && resolve(e)));
  loop.release();
  await until(
    loop,
    (o) => {
      loop.pushWindow(w);
      return !o.safe && o.commands[0] === 1800;
    },
    'armed commands',
  );
  const e = await released;
  t.false(e.entered);
  t.true(events.includes(e));
});

test.serial('the compiled worker path is resolved by extension', async (t) => {
  const { workerUrl } = await import('../src/loop/loop.js');
  t.true(workerUrl().pathname.endsWith('/src/loop/worker.ts'));
});
