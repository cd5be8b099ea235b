/**
 * Predictor latency per call: the compiled Float32Array kernel against TensorFlow.js,
 * on each backend available here (wasm, cpu; tensorflow when @tensorflow/tfjs-node is
 * installed), for the default model (models/default) or, with --mlp or when the default
 * model is missing, a 400-in/64-hidden/6-out MLP built in place.
 *   npm run bench -- predict [--duration SECONDS] [--mlp]
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type BackendName, resetBackendChoice, selectBackend } from '../src/predict/backend.js';
import { Predictor, type PredictorPath } from '../src/predict/predictor.js';
import type { ReflexModelMeta } from '../src/predict/metadata.js';
import { saveReflexModel } from '../src/train/save.js';
import { benchArgs, log, machine, percentile, sortedCopy } from './_util.js';

async function mlpDir(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'reflex-bench-predict-')), 'mlp');
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [50, 8] }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 6 })],
  });
  const meta: ReflexModelMeta = {
    format: 'reflex-model',
    version: 1,
    input: { channels: 8, samples: 50, rateHz: 250, windowMs: 200 },
    normalization: { mean: new Array<number>(8).fill(0), std: new Array<number>(8).fill(1) },
    outputs: Array.from({ length: 6 }, (_, i) => ({ name: `y${i}`, unit: '' })),
  };
  await saveReflexModel(model, dir, meta);
  model.dispose();
  return dir;
}

function measure(p: Predictor, path: PredictorPath, seconds: number): { p50: number; p99: number; calls: number } {
  const x = new Float32Array(p.inputSize);
  const y = new Float32Array(p.outputSize);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i) * 50 + 50;
  for (let i = 0; i < 200; i++) p.predictWith(path, x, y);
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    x[0] = times.length % 7;
    const t0 = performance.now();
    p.predictWith(path, x, y);
    times.push((performance.now() - t0) * 1000);
  }
  const s = sortedCopy(times);
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), calls: times.length };
}

const round = (v: number): number => Math.round(v * 100) / 100;

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 8 });
  const defaultDir = new URL('../models/default', import.meta.url).pathname;
  const useMlp = values.mlp === true || !existsSync(join(defaultDir, 'model.json'));
  const dir = useMlp ? await mlpDir() : defaultDir;
  const candidates: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
  const per: Record<string, Record<string, number | string>> = {};
  const slice = duration / (2 * 2);
  for (const b of candidates) {
    resetBackendChoice();
    try {
      await selectBackend({ order: [b] });
    } catch (err) {
      log(`predict: backend ${b} unavailable: ${(err as Error).message}`);
      per[b] = { unavailable: (err as Error).message.slice(0, 120) };
      continue;
    }
    const p = await Predictor.load(dir, { warmUp: 100 });
    log(
      `predict: ${b}: ${p.info.path}, ` +
        `compiled ${p.info.compiled.ok ? `ok (max abs diff ${p.info.compiled.maxAbsDiff?.toExponential(2)})` : p.info.compiled.reason}`,
    );
    const c = measure(p, 'compiled', slice);
    const t = measure(p, 'tfjs', slice);
    per[b] = {
      compiled_p50_us: c.p50,
      compiled_p99_us: c.p99,
      tfjs_p50_us: t.p50,
      tfjs_p99_us: t.p99,
      tfjs_over_compiled_p50: round(t.p50 / c.p50),
      calls: c.calls + t.calls,
    };
    p.dispose();
  }
  const first = per.wasm ?? per.cpu ?? {};
  return {
    model: useMlp ? 'mlp 400-64-6 (built in place)' : 'models/default (MLP 160-64-32-2)',
    compiled_p50_us: first.compiled_p50_us,
    compiled_p99_us: first.compiled_p99_us,
    tfjs_p50_us: first.tfjs_p50_us,
    tfjs_p99_us: first.tfjs_p99_us,
    backends: per,
    duration_s: duration,
    machine: machine(),
  };
}
