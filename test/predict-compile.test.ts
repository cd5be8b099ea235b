import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/predict/backend.js';
import { compileLayersModel, verifyCompiled } from '../src/predict/compile.js';

test.before(async () => {
  await selectBackend();
});

/** Give BatchNormalization non-trivial statistics so the check means something. */
function randomiseAll(m: tf.LayersModel): void {
  for (const l of m.layers) {
    const ws = l.getWeights();
    if (ws.length === 0) continue;
    l.setWeights(
      ws.map((w) => tf.tidy(() => (w.shape.length === 1 ? tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 7) : tf.randomNormal(w.shape, 0, 0.3, 'float32', 7)))),
    );
  }
}

const cases: Array<[string, () => tf.LayersModel]> = [
  [
    'dense chain with every activation',
    () =>
      tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [6, 4] }),
          tf.layers.dense({ units: 16, activation: 'relu' }),
          tf.layers.dense({ units: 12, activation: 'elu' }),
          tf.layers.dense({ units: 10, activation: 'sigmoid' }),
          tf.layers.dense({ units: 8, activation: 'tanh' }),
          tf.layers.dense({ units: 5, activation: 'softmax' }),
          tf.layers.dense({ units: 3, activation: 'linear', useBias: false }),
        ],
      }),
  ],
  [
    'conv1d same/valid, strides, dilation, pooling',
    () =>
      tf.sequential({
        layers: [
          tf.layers.conv1d({ inputShape: [20, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tf.layers.conv1d({ filters: 5, kernelSize: 2, strides: 2, padding: 'valid' }),
          tf.layers.conv1d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' }),
          tf.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }),
          tf.layers.averagePooling1d({ poolSize: 2, padding: 'same' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 2 }),
        ],
      }),
  ],
  [
    'global pooling, batch norm, layer norm, activation, dropout, reshape',
    () =>
      tf.sequential({
        layers: [
          tf.layers.reshape({ inputShape: [24], targetShape: [8, 3] }),
          tf.layers.batchNormalization(),
          tf.layers.conv1d({ filters: 6, kernelSize: 3, padding: 'valid' }),
          tf.layers.layerNormalization(),
          tf.layers.activation({ activation: 'elu' }),
          tf.layers.dropout({ rate: 0.5 }),
          tf.layers.globalAveragePooling1d(),
          tf.layers.dense({ units: 4 }),
        ],
      }),
  ],
  [
    'global max pooling and valid average pooling',
    () =>
      tf.sequential({
        layers: [
          tf.layers.averagePooling1d({ inputShape: [9, 2], poolSize: 3, padding: 'valid' }),
          tf.layers.globalMaxPooling1d(),
          tf.layers.dense({ units: 1, activation: 'sigmoid' }),
        ],
      }),
  ],
];

for (const [name, build] of cases) {
  test(`compiled kernel matches TensorFlow.js: ${name}`, (t) => {
    const m = build();
    randomiseAll(m);
    const r = compileLayersModel(m);
    if (!r.ok) return t.fail(r.reason);
    const v = verifyCompiled(r.kernel, m, { trials: 24 });
    t.true(v.maxAbsDiff <= 1e-5);
    t.true(v.maxAbsDiff >= 0);
    m.dispose();
  });
}

test('a corrupted kernel weight is caught: E_COMPILE_MISMATCH', (t) => {
  const m = cases[0]![1]();
  const r = compileLayersModel(m);
  if (!r.ok) return t.fail(r.reason);
  verifyCompiled(r.kernel, m);
  const kernel = r.kernel.ops[1]!.params.kernelT!;
  kernel[3] = kernel[3]! + 0.01;
  const err = t.throws(() => verifyCompiled(r.kernel, m, { file: '/models/x/model.json' }));
  t.is((err as { code?: string }).code, 'E_COMPILE_MISMATCH');
  t.regex(err.message, /\/models\/x\/model\.json/);
  t.regex(err.message, /max abs difference/);
  m.dispose();
});

test('unsupported layers and options are refused with the reason', (t) => {
  const rnn = tf.sequential({ layers: [tf.layers.simpleRNN({ inputShape: [5, 2], units: 3 }), tf.layers.dense({ units: 1 })] });
  const r1 = compileLayersModel(rnn);
  t.false(r1.ok);
  if (!r1.ok) t.regex(r1.reason, /SimpleRNN is not compiled/);
  const selu = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'selu' })] });
  const r2 = compileLayersModel(selu);
  const causal = tf.sequential({ layers: [tf.layers.conv1d({ inputShape: [8, 2], filters: 2, kernelSize: 3, padding: 'causal' })] });
  const r4 = compileLayersModel(causal);
  t.false(r4.ok);
  if (!r4.ok) t.regex(r4.reason, /padding "causal"/);
  t.false(r2.ok);
  if (!r2.ok) t.regex(r2.reason, /activation "selu"/);
  const inp = tf.input({ shape: [4] });
  const a = tf.layers.dense({ units: 3 }).apply(inp) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 3 }).apply(inp) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
  const branchy = tf.model({ inputs: inp, outputs: sum });
  const r3 = compileLayersModel(branchy);
  t.false(r3.ok);
  if (!r3.ok) t.regex(r3.reason, /plain chains|not compiled/);
});

test('a functional model that is a plain chain compiles', (t) => {
  const inp = tf.input({ shape: [6] });
  const h = tf.layers.dense({ units: 4, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2 }).apply(h) as tf.SymbolicTensor;
  const m = tf.model({ inputs: inp, outputs: out });
  const r = compileLayersModel(m);
  if (!r.ok) return t.fail(r.reason);
  t.true(verifyCompiled(r.kernel, m).maxAbsDiff <= 1e-5);
});
