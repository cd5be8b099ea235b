/**
 * A live model switch in the loop worker (ControlLoop.swapModel): the new model is checked and
 * verified off both the main and the loop thread, built in a gap between cycles and swapped in
 * without stopping the loop; the safety state is held; a refused model changes nothing. After
 * the swap the loop computes bit for bit what a loop started on the new model computes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import type { ActuatorDef } from '../src/boards/types.js';
import { ControlLoop, type LoopOutput } from '../src/loop/loop.js';
import { checkSwap } from '../src/loop/swap-check.js';
import type { ReflexModelMeta } from '../src/predict/metadata.js';
import { saveReflexModel } from '../src/train/save.js';

const S = 3;
const C = 2;
const tmp = mkdtempSync(join(tmpdir(), 'reflex-swap-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const meta = (over: Partial<ReflexModelMeta['input']> = {}, outputs = ['a', 'b']): ReflexModelMeta => ({
  format: 'reflex-model',
  version: 1,
  input: { channels: C, samples: S, rateHz: 1000, windowMs: 3, ...over },
  normalization: { mean: Array<number>(over.channels ?? C).fill(1), std: Array<number>(over.channels ?? C).fill(2) },
  outputs: outputs.map((name) => ({ name, unit: 'x', mean: 0.5, std: 3 })),
  features: { pipeline: [{ unit: 'envelope', cutoff: 6 }] },
});

async function denseDir(name: string, seed: number, m = meta()): Promise<string> {
  const dir = join(tmp, name);
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [m.input.samples, m.input.channels] }),
      tf.layers.dense({ units: 4, activation: 'tanh', kernelInitializer: tf.initializers.randomNormal({ seed }) }),
      tf.layers.dense({ units: m.outputs.length, kernelInitializer: tf.initializers.randomNormal({ seed: seed + 1 }) }),
    ],
  });
  await saveReflexModel(model, dir, m);
  model.dispose();
  return dir;
}

const defs: ActuatorDef[] = [{ name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e9, safe: 1500, unit: 'us' }];
const WINDOW = Float32Array.from([3, 2, 5, 6, 7, 10]);

async function start(dir: string, armed: boolean): Promise<ControlLoop> {
  return ControlLoop.start({
    schedule: { rateHz: 500, policy: 'skip' },
    watchdog: { staleMs: 60_000, overrunStreak: 100_000 },
    predictor: { kind: 'model', dir, warmUp: 1 },
    actuators: defs,
    mapping: [{ actuator: 'wrist', output: 'a', scale: 10, offset: 1500 }],
    startArmed: armed,
    predictEveryCycle: true,
  });
}

/** The first output published by a cycle after `cycle`, with the window pushed. */
async function after(loop: ControlLoop, cycle: number): Promise<LoopOutput> {
  const o = loop.createOutput();
  const until = Date.now() + 20_000;
  for (;;) {
    loop.pushWindow(WINDOW, 1);
    if (loop.readLatest(o) && o.cycle > cycle && o.inputsSeen > 0) return o;
    if (Date.now() > until) throw new Error(`the loop published no cycle after ${cycle}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.slice().buffer));

test.serial('swap: refused models change nothing; a good one runs from the next gap, bit-exact with a fresh loop, safety state held', async (t) => {
  t.timeout(120_000);
  const dirA = await denseDir('a', 1);
  const dirB = await denseDir('b', 7);
  const dir3ch = await denseDir('three', 3, meta({ channels: 3 }));
  const rnn = join(tmp, 'rnn');
  const r = tf.sequential({ layers: [tf.layers.simpleRNN({ inputShape: [S, C], units: 3 }), tf.layers.dense({ units: 2 })] });
  await saveReflexModel(r, rnn, meta());
  r.dispose();

  const fresh = await start(dirB, true);
  const wantB = bits((await after(fresh, 5)).outputs);
  await fresh.stop();

  const loop = await start(dirA, true);
  t.teardown(() => loop.stop());
  const before = await after(loop, 5);
  // A loop started on A: what it computes is what A computes after the swap back.
  const wantA = bits(before.outputs);
  t.notDeepEqual(wantA, wantB, 'the two models differ on the window');
  t.false(before.safe);

  const shape = await t.throwsAsync(loop.swapModel(dir3ch));
  t.is((shape as { code?: string }).code, 'E_MODEL_SHAPE');
  t.true(shape.message.includes(join(dir3ch, 'reflex-model.json')), shape.message);
  const compile = await t.throwsAsync(loop.swapModel(rnn));
  t.is((compile as { code?: string }).code, 'E_COMPILE_UNSUPPORTED');
  t.regex(compile.message, /SimpleRNN.*restart with --model/s);
  const still = await after(loop, before.cycle);
  t.deepEqual(bits(still.outputs), wantA, 'the old model still runs');
  t.false(still.safe, 'and the loop is still armed');
  t.is(loop.predictor.model!.dir, dirA);

  // Armed: stays armed across the swap.
  const res = await loop.swapModel(dirB);
  t.is(loop.predictor.model!.dir, dirB);
  t.is(loop.predictor.model!.path, 'compiled');
  t.true(res.cycle > before.cycle);
  const b = await after(loop, res.cycle);
  t.deepEqual(bits(b.outputs), wantB, 'bit-exact with a loop started on the new model');
  t.false(b.safe);
  t.is(b.commands[0], Math.fround(b.outputs[0]!) * 10 + 1500);

  // Latched: stays latched across the swap.
  loop.estop('test');
  const res2 = await loop.swapModel(dirA);
  const a = await after(loop, res2.cycle);
  t.deepEqual(bits(a.outputs), wantA);
  t.true(a.safe);
  t.is(a.reason, 'estop');
  t.is(a.commands[0], 1500);
  await loop.stop();
  t.is(loop.tensorsGrowth, 0, 'the replaced model was disposed in the worker, the new one holds no tensors');
});

test('swap check: window, features, output count and mapping are named with the file', (t) => {
  const req = {
    inputSize: S * C,
    outputCount: 2,
    actuators: defs,
    mapping: [{ actuator: 'wrist', output: 'a' }],
    board: { id: 'sim', channels: C },
    running: { input: meta().input, features: meta().features },
  };
  const f = '/m/reflex-model.json';
  t.notThrows(() => checkSwap(meta(), f, req));
  // Same settings in another key order are the same pipeline.
  t.notThrows(() => checkSwap({ ...meta(), features: { pipeline: [{ cutoff: 6, unit: 'envelope' }] } }, f, req));
  const code = (fn: () => void): string => {
    const e = t.throws<Error & { code: string }>(fn);
    t.true(e.message.startsWith(f), e.message);
    return e.code;
  };
  t.is(
    code(() => checkSwap(meta({ channels: 3 }), f, req)),
    'E_MODEL_SHAPE',
  );
  t.is(
    code(() => checkSwap(meta({ samples: 6, channels: 1 }), f, { ...req, board: undefined })),
    'E_MODEL_FEATURES',
  );
  t.is(
    code(() => checkSwap(meta({ samples: 2 }), f, req)),
    'E_MODEL_SHAPE',
  );
  t.is(
    code(() => checkSwap(meta({ rateHz: 500 }), f, req)),
    'E_MODEL_FEATURES',
  );
  t.is(
    code(() => checkSwap({ ...meta(), features: { pipeline: [{ unit: 'envelope', cutoff: 8 }] } }, f, req)),
    'E_MODEL_FEATURES',
  );
  t.is(
    code(() => checkSwap(meta({}, ['a', 'b', 'c']), f, req)),
    'E_MODEL_SHAPE',
  );
  t.is(
    code(() => checkSwap(meta({}, ['x', 'y']), f, req)),
    'E_MAP_OUTPUT',
  );
});
