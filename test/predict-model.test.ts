import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/predict/backend.js';
import { Predictor } from '../src/predict/predictor.js';
import type { ReflexModelMeta } from '../src/predict/metadata.js';
import { saveReflexModel } from '../src/train/save.js';

const C = 3;
const S = 4;
const tmp = mkdtempSync(join(tmpdir(), 'reflex-predict-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

function meta(over: Partial<ReflexModelMeta> = {}): ReflexModelMeta {
  return {
    format: 'reflex-model',
    version: 1,
    input: { channels: C, samples: S, rateHz: 100, windowMs: 40 },
    normalization: { mean: [1, 2, 3], std: [2, 2, 4] },
    outputs: [
      { name: 'a', unit: 'deg', mean: 10, std: 5 },
      { name: 'b', unit: 'unit' },
    ],
    ...over,
  };
}

async function tinyModelDir(name: string, build: () => tf.LayersModel, m = meta()): Promise<string> {
  const dir = join(tmp, name);
  const model = build();
  await saveReflexModel(model, dir, m);
  model.dispose();
  return dir;
}

const mlp = (): tf.LayersModel =>
  tf.sequential({ layers: [tf.layers.flatten({ inputShape: [S, C] }), tf.layers.dense({ units: 5, activation: 'tanh' }), tf.layers.dense({ units: 2 })] });

test('backend chain: tfjs-node is absent here, so it falls through to wasm and says why', async (t) => {
  const choice = await selectBackend();
  t.is(choice.attempts[0]!.name, 'tensorflow');
  t.false(choice.attempts[0]!.ok);
  t.is(choice.attempts[0]!.reason, 'not installed');
  t.is(choice.name, 'wasm');
  t.is(tf.getBackend(), 'wasm');
});

test('a tiny model round-trips through disk; compiled and tfjs paths agree and are both reported', async (t) => {
  const dir = await tinyModelDir('mlp', mlp);
  const p = await Predictor.load(dir, { warmUp: 2 });
  t.is(p.info.path, 'compiled');
  t.true(p.info.compiled.ok);
  t.true(p.info.compiled.maxAbsDiff! <= 1e-5);
  t.is(p.info.backend.name, 'wasm');
  t.deepEqual(p.info.inputShape, [S, C]);
  t.deepEqual(p.info.outputNames, ['a', 'b']);
  const x = Float32Array.from({ length: C * S }, (_, i) => Math.sin(i) * 3);
  const a = new Float32Array(2);
  const b = new Float32Array(2);
  p.predictWith('compiled', x, a);
  p.predictWith('tfjs', x, b);
  t.true(Math.abs(a[0]! - b[0]!) < 1e-4 && Math.abs(a[1]! - b[1]!) < 1e-4);
  p.dispose();
});

test('normalisation and layout: time-major raw input is z-scored per channel and fed to the model as laid out, outputs de-normalised', async (t) => {
  // A linear model whose kernel picks input element k of the time-major layout.
  const k = 1 * C + 2; // sample 1, channel 2
  const dir = await tinyModelDir('pick', () => {
    const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [S, C] }), tf.layers.dense({ units: 2, useBias: false })] });
    const w = new Float32Array(S * C * 2);
    w[k * 2 + 0] = 1;
    w[k * 2 + 1] = -1;
    m.layers[1]!.setWeights([tf.tensor(w, [S * C, 2])]);
    return m;
  });
  const p = await Predictor.load(dir, { warmUp: 1 });
  const x = new Float32Array(C * S);
  x[1 * C + 2] = 11; // sample 1, channel 2 (time-major)
  const y = new Float32Array(2);
  p.predict(x, y);
  const z = (11 - 3) / 4;
  t.true(Math.abs(y[0]! - (z * 5 + 10)) < 1e-5);
  t.true(Math.abs(y[1]! - -z) < 1e-5);
  p.dispose();
});

test('missing model file: E_MODEL_MISSING naming the path', async (t) => {
  const err = await t.throwsAsync(Predictor.load(join(tmp, 'nope')));
  t.is((err as { code?: string }).code, 'E_MODEL_MISSING');
  t.true(err.message.includes(join(tmp, 'nope')));
  const dir = await tinyModelDir('noweights', mlp);
  unlinkSync(join(dir, 'weights.bin'));
  const e2 = await t.throwsAsync(Predictor.load(dir));
  t.is((e2 as { code?: string }).code, 'E_MODEL_MISSING');
  t.true(e2.message.includes(join(dir, 'weights.bin')));
});

test('input shape not matching the configured window: E_MODEL_SHAPE with file, expected and actual', async (t) => {
  const dir = await tinyModelDir('shape', mlp, meta({ input: { channels: C, samples: S + 1, rateHz: 100, windowMs: 50 } }));
  const err = await t.throwsAsync(Predictor.load(dir));
  t.is((err as { code?: string }).code, 'E_MODEL_SHAPE');
  t.regex(err.message, /model\.json/);
  t.regex(err.message, /\[batch, 4, 3\]/);
  t.regex(err.message, /expected \[batch, 5, 3\]/);
});

test('bad metadata names the key', async (t) => {
  const dir = await tinyModelDir('meta', mlp);
  writeFileSync(join(dir, 'reflex-model.json'), JSON.stringify({ ...meta(), normalization: { mean: [0], std: [1] } }));
  const err = await t.throwsAsync(Predictor.load(dir));
  t.is((err as { code?: string }).code, 'E_MODEL_META');
  t.regex(err.message, /normalization\.mean/);
});

test('no tensor leaks over 100,000 predict calls on the tfjs path', async (t) => {
  const dir = await tinyModelDir('leak', mlp);
  const p = await Predictor.load(dir, { mode: 'tfjs', warmUp: 1 });
  t.is(p.path, 'tfjs');
  const x = new Float32Array(C * S).fill(0.5);
  const y = new Float32Array(2);
  p.predict(x, y);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 100_000; i++) p.predict(x, y);
  t.is(tf.memory().numTensors, before);
  p.dispose();
});

test('a model with an unsupported layer runs through TensorFlow.js, with the reason reported; forcing compiled refuses', async (t) => {
  const dir = await tinyModelDir('rnn', () =>
    tf.sequential({ layers: [tf.layers.simpleRNN({ inputShape: [S, C], units: 4 }), tf.layers.dense({ units: 2 })] }),
  );
  const p = await Predictor.load(dir, { warmUp: 1 });
  t.is(p.path, 'tfjs');
  t.false(p.info.compiled.ok);
  t.regex(p.info.compiled.reason!, /SimpleRNN is not compiled/);
  const y = new Float32Array(2);
  p.predict(new Float32Array(C * S).fill(1), y);
  t.true(y.every(Number.isFinite));
  t.is((t.throws(() => p.usePath('compiled')) as { code?: string }).code, 'E_COMPILE_UNSUPPORTED');
  p.dispose();
  const err = await t.throwsAsync(Predictor.load(dir, { mode: 'compiled' }));
  t.is((err as { code?: string }).code, 'E_COMPILE_UNSUPPORTED');
});

test('the shipped default model loads, compiles and predicts finite values', async (t) => {
  const dir = new URL('../models/default', import.meta.url).pathname;
  const p = await Predictor.load(dir, { warmUp: 1 });
  t.is(p.path, 'compiled');
  t.deepEqual(p.info.outputNames, ['wrist_angle', 'grip']);
  t.is(p.inputSize, 8 * 20);
  const y = new Float32Array(2);
  // Time-major: every channel ramps 30..49 over the 20 samples.
  p.predict(
    Float32Array.from({ length: 160 }, (_, i) => 30 + Math.floor(i / 8)),
    y,
  );
  t.true(y.every(Number.isFinite));
  p.dispose();
});
