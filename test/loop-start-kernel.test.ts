/**
 * A loop started on a model verified off the loop thread (verifyModelAtStart, predictor kind
 * "kernel"): the loop worker runs the compiled kernel without loading TensorFlow.js and computes
 * bit for bit what a loop started on the model directory computes; a model whose kernel does not
 * compile is left to the TensorFlow.js path; a bad model is refused with the same error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import type { ActuatorDef } from '../src/boards/types.js';
import { ControlLoop, type LoopOutput } from '../src/loop/loop.js';
import type { PredictorSpec } from '../src/loop/messages.js';
import { verifyModelAtStart } from '../src/loop/model-verify.js';
import type { ReflexModelMeta } from '../src/predict/metadata.js';
import { scalingOf } from '../src/predict/scaling.js';
import { saveReflexModel } from '../src/train/save.js';

const S = 8;
const C = 2;
const tmp = mkdtempSync(join(tmpdir(), 'reflex-start-kernel-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const meta: ReflexModelMeta = {
  format: 'reflex-model',
  version: 1,
  input: { channels: C, samples: S, rateHz: 1000, windowMs: 8 },
  normalization: { mean: [1, -2], std: [2, 0.5] },
  outputs: [
    { name: 'a', unit: 'x', mean: 0.5, std: 3 },
    { name: 'b', unit: 'x', mean: -1, std: 0.25 },
  ],
  features: { pipeline: [{ unit: 'envelope', cutoff: 6 }] },
};

async function save(name: string, layers: tf.layers.Layer[]): Promise<string> {
  const dir = join(tmp, name);
  const model = tf.sequential({ layers });
  await saveReflexModel(model, dir, meta);
  model.dispose();
  return dir;
}

const init = (seed: number) => tf.initializers.randomNormal({ seed });
const defs: ActuatorDef[] = [{ name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e9, safe: 1500, unit: 'us' }];

async function start(predictor: PredictorSpec): Promise<ControlLoop> {
  return ControlLoop.start({
    schedule: { rateHz: 500, policy: 'skip' },
    watchdog: { staleMs: 60_000, overrunStreak: 100_000 },
    predictor,
    actuators: defs,
    mapping: [{ actuator: 'wrist', output: 'a', scale: 10, offset: 1500 }],
    startArmed: true,
    predictEveryCycle: true,
  });
}

/**
 * The first output of a cycle that ran on `window`. The window goes in with its own host time
 * `tag`, echoed back as `inputHostTimeMs`: counting cycles instead could take a cycle that had
 * started on the previous window while this thread was held up between reading and pushing.
 */
async function after(loop: ControlLoop, window: Float32Array, tag: number): Promise<LoopOutput> {
  const o = loop.createOutput();
  const until = Date.now() + 20_000;
  for (;;) {
    loop.pushWindow(window, tag);
    if (loop.readLatest(o) && o.inputHostTimeMs === tag && o.inputsSeen > 0) return o;
    if (Date.now() > until) throw new Error(`the loop published no cycle on the window tagged ${tag}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.slice().buffer));

/** Outputs of a loop for each window in turn (each read from a cycle that ran on it). */
async function outputsOf(predictor: PredictorSpec, windows: Float32Array[]): Promise<number[][]> {
  const loop = await start(predictor);
  try {
    const out: number[][] = [];
    for (const [k, w] of windows.entries()) out.push(bits((await after(loop, w, 1000 + k)).outputs));
    return out;
  } finally {
    await loop.stop();
  }
}

const windows = [0, 1, 2].map((k) => Float32Array.from({ length: S * C }, (_, i) => Math.sin(i * 0.7 + k) * 40 + k));

test.serial('a loop started from the verified kernel gives the same bits as one started on the model directory', async (t) => {
  t.timeout(120_000);
  const dir = await save('conv', [
    tf.layers.conv1d({ inputShape: [S, C], filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 2, activation: 'tanh', kernelInitializer: init(2) }),
  ]);
  const v = await verifyModelAtStart(dir);
  if (!v) return t.fail('the conv1d + dense model should compile');
  t.is(v.info.path, 'compiled');
  t.is(v.dir, dir);
  const spec: PredictorSpec = { kind: 'kernel', dir: v.dir, spec: v.spec, scaling: scalingOf(v.meta), info: v.info, warmUp: 2 };

  const loop = await start(spec);
  const report = loop.predictor;
  await loop.stop();
  t.is(report.kind, 'model');
  t.is(report.model!.path, 'compiled');
  t.is(report.model!.backend.name, v.info.backend.name, 'the backend the verification used');
  t.is(report.tensors, undefined, 'no TensorFlow.js tensors: the worker never loaded it');

  const fromKernel = await outputsOf(spec, windows);
  const fromDir = await outputsOf({ kind: 'model', dir, warmUp: 2 }, windows);
  t.deepEqual(fromKernel, fromDir);
  t.notDeepEqual(fromKernel[0], fromKernel[1], 'the windows give different outputs');
});

test.serial('a model whose kernel does not compile is left to TensorFlow.js; a bad one gives the error the loop worker gives', async (t) => {
  t.timeout(120_000);
  const rnn = await save('rnn', [tf.layers.simpleRNN({ inputShape: [S, C], units: 3 }), tf.layers.dense({ units: 2 })]);
  t.is(await verifyModelAtStart(rnn), null);

  const bad = join(tmp, 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'reflex-model.json'), JSON.stringify(meta));
  writeFileSync(join(bad, 'model.json'), '{"modelTopology": 3}');
  const viaVerify = await t.throwsAsync(verifyModelAtStart(bad));
  const viaWorker = await t.throwsAsync(start({ kind: 'model', dir: bad }));
  t.is((viaVerify as { code?: string }).code, (viaWorker as { code?: string }).code);
  t.is(viaVerify.message, viaWorker.message);
  t.is(viaVerify.constructor.name, viaWorker.constructor.name);
});
