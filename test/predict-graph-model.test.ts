/**
 * A TensorFlow.js GraphModel directory (what tensorflowjs_converter writes for a SavedModel),
 * written by hand here from the format: Placeholder -> Reshape -> MatMul -> BiasAdd -> Identity.
 * The predictor loads it, reports the TensorFlow.js path (graph models are not compiled), and
 * applies the same normalisation and time-major layout as for a LayersModel.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { Logger } from '../src/core/log.js';
import { META_FILE, type ReflexModelMeta } from '../src/predict/metadata.js';
import { Predictor } from '../src/predict/predictor.js';

const C = 3;
const S = 4;
const N = S * C;
const tmp = mkdtempSync(join(tmpdir(), 'reflex-graph-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const meta: ReflexModelMeta = {
  format: 'reflex-model',
  version: 1,
  input: { channels: C, samples: S, rateHz: 100, windowMs: 40 },
  normalization: { mean: [1, 2, 3], std: [2, 2, 4] },
  outputs: [
    { name: 'a', unit: 'deg', mean: 10, std: 5 },
    { name: 'b', unit: 'unit' },
  ],
};

const dims = (...d: number[]): { dim: Array<{ size: string }> } => ({ dim: d.map((n) => ({ size: String(n) })) });
const constNode = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', shape: number[]): unknown => ({
  name,
  op: 'Const',
  attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: dims(...shape) } } },
});

/** Write a graph-model directory computing y = reshape(x, [-1, N]) @ w + b. */
function graphModelDir(name: string, w: Float32Array, b: Float32Array, inputShape = [-1, S, C], m: ReflexModelMeta = meta): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const node = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(...inputShape) } } },
    constNode('flat_shape', 'DT_INT32', [2]),
    constNode('w', 'DT_FLOAT', [N, 2]),
    constNode('b', 'DT_FLOAT', [2]),
    { name: 'flat', op: 'Reshape', input: ['x', 'flat_shape'], attr: { T: { type: 'DT_FLOAT' }, Tshape: { type: 'DT_INT32' } } },
    { name: 'mm', op: 'MatMul', input: ['flat', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
    { name: 'add', op: 'BiasAdd', input: ['mm', 'b'], attr: { T: { type: 'DT_FLOAT' }, data_format: { s: Buffer.from('NHWC').toString('base64') } } },
    { name: 'y', op: 'Identity', input: ['add'], attr: { T: { type: 'DT_FLOAT' } } },
  ];
  const shape = Int32Array.of(-1, N);
  const bin = Buffer.concat([Buffer.from(shape.buffer), Buffer.from(w.buffer, w.byteOffset, w.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)]);
  writeFileSync(join(dir, 'weights.bin'), bin);
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      format: 'graph-model',
      generatedBy: 'hand',
      convertedBy: 'test/predict-graph-model.test.ts',
      signature: {
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: dims(...inputShape) } },
        outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: dims(-1, 2) } },
      },
      modelTopology: { node, library: {}, versions: { producer: 1 } },
      weightsManifest: [
        {
          paths: ['weights.bin'],
          weights: [
            { name: 'flat_shape', shape: [2], dtype: 'int32' },
            { name: 'w', shape: [N, 2], dtype: 'float32' },
            { name: 'b', shape: [2], dtype: 'float32' },
          ],
        },
      ],
    }),
  );
  writeFileSync(join(dir, META_FILE), JSON.stringify(m));
  return dir;
}

test('a GraphModel loads, runs on the TensorFlow.js path with the reason reported, and computes what its graph says', async (t) => {
  // Weights that pick time-major element k (sample 1, channel 2), plus a bias.
  const k = 1 * C + 2;
  const w = new Float32Array(N * 2);
  w[k * 2 + 0] = 1;
  w[k * 2 + 1] = -2;
  const b = Float32Array.of(0.5, 0.25);
  const dir = graphModelDir('pick', w, b);
  const warnings: string[] = [];
  const log = new Logger({ sink: (level, msg) => level === 'warn' && warnings.push(msg), level: 'info' });
  const p = await Predictor.load(dir, { warmUp: 2, log });
  t.is(p.info.format, 'graph-model');
  t.is(p.info.path, 'tfjs');
  t.false(p.info.compiled.ok);
  t.regex(p.info.compiled.reason ?? '', /graph models are not compiled/);
  t.deepEqual(p.info.inputShape, [S, C]);
  t.deepEqual(p.info.outputNames, ['a', 'b']);
  t.true(warnings.some((m) => m.includes('through TensorFlow.js')));

  const x = new Float32Array(N);
  x[k] = 11;
  const y = new Float32Array(2);
  p.predict(x, y);
  const z = (11 - 3) / 4; // channel 2's mean and std
  t.true(Math.abs(y[0]! - ((z + 0.5) * 5 + 10)) < 1e-5, `a = ${y[0]}`);
  t.true(Math.abs(y[1]! - (-2 * z + 0.25)) < 1e-5, `b = ${y[1]}`);

  // No tensor leaks on this path either.
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2000; i++) p.predict(x, y);
  t.is(tf.memory().numTensors, before);
  p.dispose();
});

test('a GraphModel whose input does not match the configured window: E_MODEL_SHAPE naming the file', async (t) => {
  const dir = graphModelDir('wrong', new Float32Array(N * 2), new Float32Array(2), [-1, S + 1, C]);
  const err = await t.throwsAsync(Predictor.load(dir, { warmUp: 0 }));
  t.is((err as { code?: string }).code, 'E_MODEL_SHAPE');
  t.true(err.message.includes(join(dir, 'model.json')));
});

test('asking for the compiled path on a GraphModel is refused with E_COMPILE_UNSUPPORTED', async (t) => {
  const dir = graphModelDir('forced', new Float32Array(N * 2), new Float32Array(2));
  const err = await t.throwsAsync(Predictor.load(dir, { mode: 'compiled', warmUp: 0 }));
  t.is((err as { code?: string }).code, 'E_COMPILE_UNSUPPORTED');
});

const fewerOutputs =
  'a GraphModel with fewer outputs than reflex-model.json lists: E_MODEL_SHAPE, found by running it once (its graph declares no output shape)';
test(fewerOutputs, async (t) => {
  const three: ReflexModelMeta = { ...meta, outputs: [...meta.outputs, { name: 'c', unit: 'unit' }] };
  const dir = graphModelDir('outputs', new Float32Array(N * 2), new Float32Array(2), [-1, S, C], three);
  const err = await t.throwsAsync(Predictor.load(dir, { warmUp: 0 }));
  t.is((err as { code?: string }).code, 'E_MODEL_SHAPE');
  t.regex(err.message, /output shape is \[batch, 2\] but reflex-model.json lists 3 outputs/);
});
