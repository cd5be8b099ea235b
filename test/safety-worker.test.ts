import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { watchEstopInput } from '../src/actuate/estop.js';
import { createActuators } from '../src/actuate/set.js';
import type { SimActuator } from '../src/actuate/sim.js';
import type { ActuatorDef } from '../src/boards/types.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';
import { ControlLoop, type ControlLoopOptions } from '../src/loop/loop.js';
import { emptyStats } from '../src/loop/stats.js';
import { monotonicMs } from '../src/time/monotonic.js';
import type { SafetyEvent, SafetyReason } from '../src/loop/watchdog.js';
import { saveReflexModel } from '../src/train/save.js';

/** Windows of 2 samples x 2 channels, time-major: output k = channel k of the oldest sample; a first value of 1e9 throws. */
const PREDICTOR = `data:text/javascript,${encodeURIComponent(`
export function createPredictor() {
  return { inputSize: 4, outputSize: 2, predict(x, y) { if (x[0] === 1e9) throw new Error('boom on purpose'); y[0] = x[0]; y[1] = x[1]; } };
}`)}`;
const defs: ActuatorDef[] = [
  { name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e6, safe: 1500, unit: 'us' },
  { name: 'grip', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e6, safe: 1000, unit: 'us' },
];
const mapping = [
  { actuator: 'wrist', output: 'a', offset: 1500 },
  { actuator: 'grip', output: 'b', offset: 1000 },
];

async function start(t: { teardown(fn: () => unknown): void }, over: Partial<ControlLoopOptions> = {}) {
  const sink = createActuators(defs, {});
  const loop = await ControlLoop.start({
    schedule: { rateHz: 1000, policy: 'skip' },
    watchdog: { staleMs: 3000, overrunStreak: 50 },
    predictor: { kind: 'module', url: PREDICTOR, inputSize: 4, outputNames: ['a', 'b'] },
    actuators: defs,
    mapping,
    sink,
    startArmed: true,
    ...over,
  });
  t.teardown(() => loop.stop());
  const next = (reason: SafetyReason): Promise<SafetyEvent> => new Promise((resolve) => loop.onSafetyEvent((e) => e.reason === reason && resolve(e)));
  return { loop, sims: sink.actuators as SimActuator[], next };
}

/** Drive the loop with a fresh window until its commands reach the actuators. */
async function armedAndMoving(loop: ControlLoop, sims: SimActuator[], w: Float32Array): Promise<number> {
  const o = loop.createOutput();
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    loop.pushWindow(w);
    if (loop.readLatest(o) && !o.safe && sims[0]!.last === 1500 + w[0]! && !sims[0]!.inSafeState) return o.cycle;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('loop never drove the actuators');
}

test.serial('worker: a throwing predictor puts every actuator safe and reports why', async (t) => {
  const { loop, sims, next } = await start(t);
  await armedAndMoving(loop, sims, Float32Array.of(100, 50, 0, 0));
  const ev = next('predictor_error');
  loop.pushWindow(Float32Array.of(1e9, 0, 0, 0));
  const e = await ev;
  t.is(e.detail, 'boom on purpose');
  t.true(e.entered);
  const o = loop.createOutput();
  t.true(loop.readLatest(o) && o.safe);
  t.deepEqual(Array.from(o.commands), [1500, 1000]);
  // The dispatcher applies what the worker published; wait for it on the event loop.
  while (!sims.every((a) => a.inSafeState)) await new Promise((r) => setImmediate(r));
  t.deepEqual(
    sims.map((a) => a.last),
    [1500, 1000],
  );
});

test.serial('worker: e-stop from a fake GPIO button is safe on this thread at once and in the loop within two periods', async (t) => {
  const { loop, sims, next } = await start(t);
  const gpio = new FakeGpio();
  const ref = { chip: 'reflex-sim', line: 3, activeLow: true };
  gpio.drive(ref, 0); // released (electrically high: active-low button)
  watchEstopInput(gpio.input(ref, 'rising'), loop);
  const w = Float32Array.of(200, 300, 0, 0);
  await armedAndMoving(loop, sims, w);
  const stats = emptyStats();
  const readAt = monotonicMs();
  t.true(loop.readStats(stats));
  const before = stats.cycles;
  const ev = next('estop');
  // The loop runs at 1 kHz: if this thread is preempted between reading the count and the
  // press (a loaded CI machine), the worker rightly runs the cycles due meanwhile.
  const pressAt = monotonicMs();
  gpio.drive(ref, 1);
  // Synchronously, before any await: this thread latched and commanded safe.
  t.true(loop.safe);
  t.true(sims.every((a) => a.inSafeState));
  const e = await ev;
  t.is(e.detail, 'gpio:reflex-sim/3');
  // At most the cycle in progress finishes before the worker takes the request.
  const due = Math.ceil(pressAt - readAt);
  t.true(e.cyclesRun - before <= 2 + due, `loop went safe after ${e.cyclesRun} cycles; ${before} had run ${(pressAt - readAt).toFixed(2)} ms before the press`);
  // Nothing moves again until release, even with fresh input.
  for (let i = 0; i < 50; i++) {
    loop.pushWindow(w);
    await new Promise((r) => setImmediate(r));
  }
  t.true(sims.every((a) => a.inSafeState));
  loop.release();
  await armedAndMoving(loop, sims, w);
  t.pass();
});

test.serial('worker: input going stale trips the watchdog', async (t) => {
  const { loop, sims, next } = await start(t, { watchdog: { staleMs: 200, overrunStreak: 50 } });
  const stale = next('stale_input');
  loop.pushWindow(Float32Array.of(10, 10, 0, 0));
  // ...and nothing more.
  const e = await stale;
  t.true(e.entered);
  t.regex(e.detail, /no fresh input window for more than 200 ms/);
  while (!sims.every((a) => a.inSafeState)) await new Promise((r) => setImmediate(r));
  t.pass();
});

test.serial('worker: a real model directory runs in the worker; a wrong window shape refuses to start and leaves actuators safe', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'reflex-loop-model-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2] }), tf.layers.dense({ units: 2, activation: 'tanh' })] });
  const meta = {
    format: 'reflex-model' as const,
    version: 1 as const,
    input: { channels: 2, samples: 2, rateHz: 100, windowMs: 20 },
    normalization: { mean: [0, 0], std: [1, 1] },
    outputs: [
      { name: 'a', unit: 'x', std: 100 },
      { name: 'b', unit: 'x', std: 100 },
    ],
  };
  await saveReflexModel(model, join(tmp, 'ok'), meta);
  await saveReflexModel(model, join(tmp, 'bad'), { ...meta, input: { ...meta.input, samples: 3 } });
  const { loop, sims } = await start(t, { predictor: { kind: 'model', dir: join(tmp, 'ok'), warmUp: 2 }, startArmed: true });
  t.is(loop.predictor.model!.path, 'compiled');
  t.true(loop.predictor.model!.compiled.ok);
  t.truthy(loop.predictor.model!.backend.name);
  const o = loop.createOutput();
  for (;;) {
    loop.pushWindow(Float32Array.of(1, 2, 3, 4));
    if (loop.readLatest(o) && o.inputsSeen > 0 && sims[0]!.count > 1) break;
    await new Promise((r) => setImmediate(r));
  }
  t.true(o.outputs.every((v) => Math.abs(v) <= 100));
  const sink = createActuators(defs, {});
  const err = await t.throwsAsync(
    ControlLoop.start({
      schedule: { rateHz: 100, policy: 'skip' },
      watchdog: { staleMs: 100, overrunStreak: 3 },
      predictor: { kind: 'model', dir: join(tmp, 'bad') },
      actuators: defs,
      mapping,
      sink,
    }),
  );
  t.is((err as { code?: string }).code, 'E_MODEL_SHAPE');
  t.true((sink.actuators as SimActuator[]).every((a) => a.inSafeState));
  const missing = await t.throwsAsync(
    ControlLoop.start({
      schedule: { rateHz: 100, policy: 'skip' },
      watchdog: { staleMs: 100, overrunStreak: 3 },
      predictor: { kind: 'model', dir: join(tmp, 'none') },
      actuators: defs,
      mapping,
      sink,
    }),
  );
  t.is((missing as { code?: string }).code, 'E_MODEL_MISSING');
});
