/**
 * A compiled kernel as data (kernel-spec.ts): what a live model switch carries from the
 * verifying worker to the loop worker. Rebuilt from its spec, after a structured clone with its
 * weights transferred as postMessage does it, the kernel gives bit-identical outputs.
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../src/core/prng.js';
import { selectBackend } from '../src/predict/backend.js';
import { type CompiledKernel, compileLayersModel } from '../src/predict/compile.js';
import { type KernelSpec, kernelFromSpec, kernelSpec, kernelTransferList } from '../src/predict/kernel-spec.js';
import { Predictor } from '../src/predict/predictor.js';
import { KernelPredictor } from '../src/predict/scaling.js';

test.before(async () => {
  await selectBackend();
});

/** The spec as the other thread receives it: cloned, its weight buffers moved (not copied). */
function acrossThreads(spec: KernelSpec): KernelSpec {
  return structuredClone(spec, { transfer: kernelTransferList(spec) });
}

function sameBits(t: import('ava').ExecutionContext, a: CompiledKernel, b: CompiledKernel, trials = 32): void {
  const rand = mulberry32(99);
  const x = new Float32Array(a.inputSize);
  const ya = new Float32Array(a.outputSize);
  const yb = new Float32Array(b.outputSize);
  t.is(b.inputSize, a.inputSize);
  t.is(b.outputSize, a.outputSize);
  for (let k = 0; k < trials; k++) {
    for (let i = 0; i < x.length; i++) x[i] = (rand() - 0.5) * 6;
    a.run(x, ya);
    b.run(x, yb);
    t.deepEqual(new Uint32Array(yb.buffer), new Uint32Array(ya.buffer), `trial ${k}`);
  }
}

test('the default model: spec round trip gives bit-identical outputs, and the original keeps its weights', async (t) => {
  const p = await Predictor.load('models/default', { mode: 'compiled', warmUp: 1 });
  const k = p.kernel!;
  const spec = kernelSpec(k);
  const moved = acrossThreads(spec);
  // The transfer detached the spec's buffers, not the running kernel's.
  t.is((spec.ops[0] as { kernelT: Float32Array }).kernelT.length, 0);
  const rebuilt = kernelFromSpec(moved);
  t.deepEqual(
    rebuilt.ops.map((o) => o.kind),
    k.ops.map((o) => o.kind),
  );
  sameBits(t, k, rebuilt);
  // With the model's scaling, the rebuilt kernel predicts exactly what the Predictor's compiled path does.
  const kp = new KernelPredictor(p.scaling, rebuilt);
  const x = Float32Array.from({ length: p.inputSize }, (_, i) => 40 + 30 * Math.sin(i));
  const a = new Float32Array(p.outputSize);
  const b = new Float32Array(p.outputSize);
  p.predictWith('compiled', x, a);
  kp.predict(x, b);
  t.deepEqual(new Uint32Array(b.buffer), new Uint32Array(a.buffer));
  p.dispose();
});

test('a conv model with pooling, batch and layer norm: spec round trip gives bit-identical outputs', (t) => {
  const m = tf.sequential({
    layers: [
      tf.layers.conv1d({ inputShape: [20, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.batchNormalization({ movingMeanInitializer: 'randomNormal', movingVarianceInitializer: 'ones' }),
      tf.layers.conv1d({ filters: 5, kernelSize: 2, strides: 2, dilationRate: 1, padding: 'valid', useBias: false }),
      tf.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }),
      tf.layers.layerNormalization(),
      tf.layers.activation({ activation: 'tanh' }),
      tf.layers.averagePooling1d({ poolSize: 2, padding: 'valid' }),
      tf.layers.globalMaxPooling1d(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  const r = compileLayersModel(m);
  if (!r.ok) return t.fail(r.reason);
  sameBits(t, r.kernel, kernelFromSpec(acrossThreads(kernelSpec(r.kernel))));
  m.dispose();
});

test('a spec that does not hold together is refused before anything runs on it', (t) => {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 }), tf.layers.dense({ units: 2 })] });
  const r = compileLayersModel(m);
  if (!r.ok) return t.fail(r.reason);
  const good = kernelSpec(r.kernel);
  const short = structuredClone(good);
  (short.ops[1] as { kernelT: Float32Array }).kernelT = new Float32Array(5);
  t.throws(() => kernelFromSpec(short), { code: 'E_MODEL_FORMAT', message: /weight kernelT must be 6 float32 values/ });
  const chain = structuredClone(good);
  chain.ops[1]!.inShape = [4];
  t.throws(() => kernelFromSpec(chain), { code: 'E_MODEL_FORMAT', message: /does not take the previous 3 values/ });
  const op = structuredClone(good) as unknown as { ops: Array<{ op: string }> };
  op.ops[0]!.op = 'lstm';
  t.throws(() => kernelFromSpec(op as unknown as KernelSpec), { code: 'E_MODEL_FORMAT', message: /unknown op "lstm"/ });
  const end = structuredClone(good);
  end.outputShape = [3];
  t.throws(() => kernelFromSpec(end), { code: 'E_MODEL_FORMAT' });
  m.dispose();
});
