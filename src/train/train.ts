/**
 * `reflex train`: recordings to a model directory `reflex run --model` loads. Pairs come from the
 * aligner's dataset builder (pairs.ts); each epoch mixes the recordings' training pairs with a
 * seeded StochasticMux (every pair once, recordings interleaved by their share); an MLP or a small
 * 1-D CNN (models.ts) trains on TensorFlow.js's cpu backend, so a seed gives the same weights; the
 * saved model is then scored through the Predictor (the compiled path the loop runs) on the pairs
 * held out at the end of each recording, and the scores go into its reflex-model.json (`training`),
 * so the directory keeps the three files every model directory has.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { openRecording } from '../offline/open.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import { Predictor } from '../predict/predictor.js';
import type { Recording } from '../record/types.js';
import { batchSync, Rng, StochasticMux, Streamer } from '../streams/index.js';
import { TrainCodes } from './codes.js';
import { DEFAULT_PIPELINE } from './features.js';
import { scores, type OutputScore } from './metrics.js';
import { type Arch, ARCHS, buildModel } from './models.js';
import { buildPairs, type Pairs } from './pairs.js';
import { saveReflexModel, writeModelMeta } from './save.js';

export interface TrainOptions {
  /** Recordings: paths, or already opened. */
  files: readonly (string | Recording)[];
  out: string;
  arch?: Arch;
  seed?: number;
  epochs?: number;
  windowMs?: number;
  hopMs?: number;
  valFraction?: number;
  batchSize?: number;
  learningRate?: number;
  outputs?: readonly string[];
  pipeline?: readonly unknown[];
  /** Replace `out` if it exists (default: refuse). */
  force?: boolean;
  /** Batches done of the total, with a note (epoch, loss). */
  onProgress?: (done: number, total: number, note: string) => void;
}

export interface TrainReport {
  out: string;
  arch: Arch;
  seed: number;
  epochs: number;
  backend: string;
  /** Recordings trained on, by file name. */
  files: string[];
  pairs: { train: number; validation: number };
  windowMs: number;
  hopMs: number;
  valFraction: number;
  /** Training loss (z-scored targets, MSE) after each epoch. */
  loss: number[];
  validation: Record<string, OutputScore>;
  /** Mean R^2 over the outputs. */
  r2: number;
  predictorPath: string;
  seconds: number;
}

interface Item {
  x: Float32Array;
  y: Float32Array;
  [k: string]: Float32Array;
}

function checkOptions(
  o: TrainOptions,
): Required<Pick<TrainOptions, 'arch' | 'seed' | 'epochs' | 'windowMs' | 'hopMs' | 'valFraction' | 'batchSize' | 'learningRate'>> {
  const v = {
    arch: o.arch ?? 'mlp',
    seed: o.seed ?? 1,
    epochs: o.epochs ?? 10,
    windowMs: o.windowMs ?? 200,
    hopMs: o.hopMs ?? 10,
    valFraction: o.valFraction ?? 0.2,
    batchSize: o.batchSize ?? 64,
    learningRate: o.learningRate ?? 1e-3,
  };
  const bad = (what: string): never => {
    throw new ConfigError(TrainCodes.options, what);
  };
  if (!ARCHS.includes(v.arch)) bad(`--arch must be one of ${ARCHS.join(', ')}, got "${String(v.arch)}"`);
  if (!Number.isInteger(v.seed) || v.seed < 0) bad(`--seed must be an integer >= 0, got ${v.seed}`);
  if (!Number.isInteger(v.epochs) || v.epochs < 1) bad(`--epochs must be an integer >= 1, got ${v.epochs}`);
  if (!(v.windowMs > 0)) bad(`--window-ms must be > 0, got ${v.windowMs}`);
  if (!(v.hopMs > 0)) bad(`--hop-ms must be > 0, got ${v.hopMs}`);
  if (!(v.valFraction > 0 && v.valFraction < 1)) bad(`--val-fraction must be in (0, 1), got ${v.valFraction}`);
  if (!Number.isInteger(v.batchSize) || v.batchSize < 1) bad(`batch size must be an integer >= 1, got ${v.batchSize}`);
  return v;
}

/** Per-channel mean and std over the newest sample of every training window (each sample once, near enough). */
function channelStats(p: Pairs): { mean: number[]; std: number[] } {
  const C = p.channels;
  const S = p.windowSamples;
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  let n = 0;
  for (const r of p.recordings) {
    for (const i of r.train) {
      const base = i * S * C + (S - 1) * C;
      for (let c = 0; c < C; c++) {
        const v = r.set.X[base + c]!;
        s1[c] = s1[c]! + v;
        s2[c] = s2[c]! + v * v;
      }
      n++;
    }
  }
  const mean = Array.from(s1, (s) => s / n);
  return { mean, std: mean.map((m, c) => Math.sqrt(Math.max(s2[c]! / n - m * m, 1e-12))) };
}

function targetStats(p: Pairs): { mean: number[]; std: number[] } {
  const D = p.outputs.length;
  const s1 = new Float64Array(D);
  const s2 = new Float64Array(D);
  let n = 0;
  for (const r of p.recordings) {
    for (const i of r.train) {
      for (let d = 0; d < D; d++) {
        const v = r.y[i * D + d]!;
        s1[d] = s1[d]! + v;
        s2[d] = s2[d]! + v * v;
      }
      n++;
    }
  }
  const mean = Array.from(s1, (s) => s / n);
  return { mean, std: mean.map((m, d) => Math.sqrt(Math.max(s2[d]! / n - m * m, 1e-12))) };
}

/** One recording's training pairs, normalised once, yielded as views in a seeded order per pass. */
function* recordingItems(x: Float32Array, y: Float32Array, count: number, xs: number, ys: number, seed: number): Generator<Item> {
  const order = new Rng(seed).shuffle(Uint32Array.from({ length: count }, (_, i) => i));
  for (const i of order) yield { x: x.subarray(i * xs, (i + 1) * xs), y: y.subarray(i * ys, (i + 1) * ys) };
}

export async function trainModel(o: TrainOptions): Promise<TrainReport> {
  const t0 = performance.now();
  const opt = checkOptions(o);
  const out = resolve(o.out);
  if (existsSync(out) && !o.force) throw new ConfigError(TrainCodes.outExists, `${out} exists; pass --force to replace it (nothing was written)`);
  const recs = o.files.map((f) => (typeof f === 'string' ? openRecording(f) : f));
  const pipeline = o.pipeline ?? DEFAULT_PIPELINE;
  const pairs = buildPairs(recs, {
    pipeline,
    windowMs: opt.windowMs,
    hopMs: opt.hopMs,
    valFraction: opt.valFraction,
    ...(o.outputs && { outputs: o.outputs }),
  });
  const { channels: C, windowSamples: S } = pairs;
  const D = pairs.outputs.length;
  const norm = channelStats(pairs);
  const ynorm = targetStats(pairs);

  // Normalised training pairs, one array per recording, as the model sees them (Predictor applies the same scaling live).
  const pool = pairs.recordings.map((r, ri) => {
    const n = r.train.length;
    const x = new Float32Array(n * S * C);
    const y = new Float32Array(n * D);
    r.train.forEach((w, k) => {
      for (let t = 0, i = 0; t < S; t++) for (let c = 0; c < C; c++, i++) x[k * S * C + i] = (r.set.X[w * S * C + i]! - norm.mean[c]!) / norm.std[c]!;
      for (let d = 0; d < D; d++) y[k * D + d] = (r.y[w * D + d]! - ynorm.mean[d]!) / ynorm.std[d]!;
    });
    return { x, y, n, ri };
  });
  const nTrain = pool.reduce((a, p) => a + p.n, 0);
  const nVal = pairs.recordings.reduce((a, r) => a + r.val.length, 0);

  // One backend, so a seed fixes the result: cpu is the one every machine has.
  // tf.getBackend() is undefined (typed string) until a backend was ever set.
  const previousBackend = tf.getBackend() as string | undefined;
  await tf.setBackend('cpu');
  await tf.ready();
  const model = buildModel(opt.arch, S, C, D, opt.seed);
  model.compile({ optimizer: tf.train.adam(opt.learningRate), loss: 'meanSquaredError' });
  const totalBatches = Math.ceil(nTrain / opt.batchSize) * opt.epochs;
  const loss: number[] = [];
  let done = 0;
  for (let e = 0; e < opt.epochs; e++) {
    const epochSeed = opt.seed * 7919 + e;
    const streams = pool.map((p) => new Streamer(recordingItems, p.x, p.y, p.n, S * C, D, epochSeed * 31 + p.ri));
    // Exhaustive, each run to its end: every pair once per epoch, recordings interleaved by their size.
    const mux = new StochasticMux<Item>(streams, { k: streams.length, lam: null, mode: 'exhaustive', weights: pool.map((p) => p.n), seed: epochSeed });
    let sum = 0;
    let count = 0;
    for (const b of batchSync(mux.iterateSync(), opt.batchSize, { partial: 'keep' })) {
      const n = b.x.length / (S * C);
      const xs = tf.tensor3d(b.x, [n, S, C]);
      const ys = tf.tensor2d(b.y, [n, D]);
      const l = await model.trainOnBatch(xs, ys);
      xs.dispose();
      ys.dispose();
      sum += (Array.isArray(l) ? l[0]! : l) * n;
      count += n;
      done++;
      o.onProgress?.(done, totalBatches, `epoch ${e + 1}/${opt.epochs} loss ${(sum / count).toFixed(4)}`);
    }
    loss.push(sum / count);
  }

  const meta: ReflexModelMeta = {
    format: 'reflex-model',
    version: 1,
    input: {
      channels: C,
      samples: S,
      rateHz: pairs.featureRateHz,
      windowMs: (S * 1000) / pairs.featureRateHz,
      unit: pairs.emgUnit,
      channelNames: pairs.channelNames,
    },
    normalization: norm,
    outputs: pairs.outputs.map((name, d) => ({ name, unit: pairs.units[d] ?? '', mean: ynorm.mean[d]!, std: ynorm.std[d]! })),
    features: { sourceRateHz: pairs.rawRateHz, channels: C, pipeline: [...pipeline] },
    training: {},
  };
  // Written beside the target and moved into place only when complete: a failure overwrites nothing.
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await saveReflexModel(model, tmp, meta);
    model.dispose();
    if (previousBackend !== undefined && previousBackend !== 'cpu') await tf.setBackend(previousBackend);
    const { validation, path } = await validate(tmp, pairs);
    const r2 = Object.values(validation).reduce((a, s) => a + s.r2, 0) / D;
    const files = pairs.recordings.map((r) => basename(r.file));
    meta.training = {
      command: 'reflex train',
      files,
      arch: opt.arch,
      seed: opt.seed,
      epochs: opt.epochs,
      backend: 'cpu',
      windowMs: opt.windowMs,
      hopMs: opt.hopMs,
      valFraction: opt.valFraction,
      pairs: { train: nTrain, validation: nVal },
      loss,
      validation,
      note: 'validation: the last valFraction of each recording, held out in time, scored through the saved model',
    };
    writeModelMeta(tmp, meta);
    const report: TrainReport = {
      // As given: the directory may be shipped and moved, so no absolute paths of this machine.
      out: o.out,
      arch: opt.arch,
      seed: opt.seed,
      epochs: opt.epochs,
      backend: 'cpu',
      files,
      pairs: { train: nTrain, validation: nVal },
      windowMs: opt.windowMs,
      hopMs: opt.hopMs,
      valFraction: opt.valFraction,
      loss,
      validation,
      r2,
      predictorPath: path,
      seconds: (performance.now() - t0) / 1000,
    };
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
    return report;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Scores on the held-out pairs, through the saved model loaded as the loop loads it. */
async function validate(dir: string, pairs: Pairs): Promise<{ validation: Record<string, OutputScore>; path: string }> {
  const p = await Predictor.load(dir, { warmUp: 1 });
  try {
    const D = pairs.outputs.length;
    const n = pairs.recordings.reduce((a, r) => a + r.val.length, 0);
    const truth = new Float32Array(n * D);
    const pred = new Float32Array(n * D);
    const out = new Float32Array(D);
    let k = 0;
    for (const r of pairs.recordings) {
      const w = r.set.windowSamples * r.set.channels;
      for (const i of r.val) {
        p.predict(r.set.X.subarray(i * w, (i + 1) * w), out);
        pred.set(out, k * D);
        truth.set(r.y.subarray(i * D, (i + 1) * D), k * D);
        k++;
      }
    }
    const s = scores(truth, pred, n, D);
    const round = (x: number): number => Number(x.toFixed(4));
    return {
      validation: Object.fromEntries(pairs.outputs.map((name, d) => [name, { r2: round(s[d]!.r2), rmse: Number(s[d]!.rmse.toPrecision(5)), n: s[d]!.n }])),
      path: p.info.path,
    };
  } finally {
    p.dispose();
  }
}
