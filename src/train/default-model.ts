/**
 * Train the default model shipped in models/default from simulated-board data:
 *   node --import=tsx src/train/default-model.ts [--seconds 300] [--epochs 12] [--seed 1] [--out models/default]
 *
 * The firmware-bridge host generates EMG and tracker truth from the same hidden muscle
 * activations (`--offline`); the EMG goes through the units pipeline the runtime runs
 * live (band-pass, notch, envelope, decimate to 100 Hz); 200 ms windows of the 8 envelopes
 * train a small MLP for [wrist_angle, grip]. Validation is the last 20 % of the recording
 * (held out in time), scored through the saved model loaded back by the Predictor.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { ReflexError } from '../core/errors.js';
import { selectBackend } from '../predict/backend.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import { Predictor } from '../predict/predictor.js';
import { buildDataset, channelStats, type Dataset, r2 } from './dataset.js';
import { saveReflexModel, writeModelMeta } from './save.js';
import { readSimRecording } from './simfile.js';
import { mulberry32 } from '../core/prng.js';
import { TrainCodes } from './codes.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const DEFAULT_FEATURES = {
  sourceRateHz: 2000,
  channels: 8,
  pipeline: [
    { unit: 'bandpass', low: 20, high: 450, order: 4 },
    { unit: 'notch', mains: 50, harmonics: 3 },
    { unit: 'envelope', method: 'lowpass', cutoff: 6, order: 2 },
    { unit: 'decimate', factor: 20 },
  ],
  /** Window length in feature samples (200 ms at 100 Hz). */
  samples: 20,
};

export interface TrainOptions {
  seconds: number;
  epochs: number;
  seed: number;
  out: string;
  log?: (msg: string) => void;
}

export interface TrainReport {
  out: string;
  backend: string;
  windows: { train: number; validation: number };
  validationR2: Record<string, number>;
  predictorPath: string;
}

function hostBinary(): string {
  const bin = join(root, 'firmware-bridge/build/reflex-bridge-host');
  if (!existsSync(bin)) throw new ReflexError(TrainCodes.noSim, `${bin} not found: build it with "make -C firmware-bridge" (npm run build does)`);
  return bin;
}

/** Seeded permutation (mulberry32), so training is repeatable. */
function permutation(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}

/** Normalised model inputs (time-major, as the dataset holds them) and z-scored targets for windows `order`. */
function tensors(ds: Dataset, order: ArrayLike<number>, mean: number[], std: number[], yMean: number[], yStd: number[]): { x: tf.Tensor3D; y: tf.Tensor2D } {
  const { channels: C, samples: S, dims: D } = ds;
  const n = order.length;
  const x = new Float32Array(n * S * C);
  const y = new Float32Array(n * D);
  for (let k = 0; k < n; k++) {
    const w = order[k]!;
    for (let t = 0, i = 0; t < S; t++) {
      for (let c = 0; c < C; c++, i++) x[k * S * C + i] = (ds.x[w * S * C + i]! - mean[c]!) / std[c]!;
    }
    for (let d = 0; d < D; d++) y[k * D + d] = (ds.y[w * D + d]! - yMean[d]!) / yStd[d]!;
  }
  return { x: tf.tensor3d(x, [n, S, C]), y: tf.tensor2d(y, [n, D]) };
}

export async function trainDefaultModel(o: TrainOptions): Promise<TrainReport> {
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const backend = await selectBackend();
  const tmp = mkdtempSync(join(tmpdir(), 'reflex-train-'));
  try {
    const file = join(tmp, 'sim.bin');
    const F = DEFAULT_FEATURES;
    execFileSync(hostBinary(), [
      '--offline',
      String(o.seconds),
      '--out',
      file,
      '--rate',
      String(F.sourceRateHz),
      '--channels',
      String(F.channels),
      '--seed',
      String(o.seed),
    ]);
    const rec = readSimRecording(file);
    log(`simulated ${o.seconds} s: ${rec.samples} samples x ${rec.channels} ch at ${rec.rate} Hz, ${rec.poses} poses x ${rec.dims} at ${rec.trackerRate} Hz`);
    const ds = buildDataset(rec, { pipeline: F.pipeline, samples: F.samples, hop: 1 });
    const nTrain = Math.floor(ds.n * 0.8);
    // A gap of one window between train and validation so no sample is in both.
    const valFrom = nTrain + F.samples;
    const { mean, std } = channelStats(ds, 0, nTrain);
    const yMean: number[] = [];
    const yStd: number[] = [];
    for (let d = 0; d < ds.dims; d++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < nTrain; i++) {
        const v = ds.y[i * ds.dims + d]!;
        s += v;
        s2 += v * v;
      }
      const m = s / nTrain;
      yMean.push(m);
      yStd.push(Math.sqrt(Math.max(s2 / nTrain - m * m, 1e-12)));
    }
    log(`${ds.n} windows of ${ds.samples} x ${ds.channels} at ${ds.featureRate} Hz: ${nTrain} train, ${ds.n - valFrom} validation (held out in time)`);

    const init = (k: number) => tf.initializers.glorotUniform({ seed: o.seed * 100 + k });
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [ds.samples, ds.channels] }),
        tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(2) }),
        tf.layers.dense({ units: ds.dims, kernelInitializer: init(3) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
    const { x, y } = tensors(ds, permutation(nTrain, o.seed), mean, std, yMean, yStd);
    await model.fit(x, y, {
      epochs: o.epochs,
      batchSize: 128,
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: (e, logs) => log(`epoch ${e + 1}/${o.epochs}: loss ${logs?.loss?.toFixed(4)}`) },
    });
    x.dispose();
    y.dispose();

    const names = ['wrist_angle', 'grip'];
    const units = ['deg', 'unit'];
    const meta: ReflexModelMeta = {
      format: 'reflex-model',
      version: 1,
      input: {
        channels: ds.channels,
        samples: ds.samples,
        rateHz: ds.featureRate,
        windowMs: (ds.samples / ds.featureRate) * 1000,
        unit: 'uV',
        channelNames: Array.from({ length: ds.channels }, (_, i) => `ch${i + 1}`),
      },
      normalization: { mean, std },
      outputs: names.slice(0, ds.dims).map((name, d) => ({ name, unit: units[d]!, mean: yMean[d]!, std: yStd[d]! })),
      features: { sourceRateHz: F.sourceRateHz, channels: F.channels, pipeline: F.pipeline },
      training: {},
    };
    await saveReflexModel(model, o.out, meta);
    model.dispose();

    // Score the saved artefact, through the same path the loop uses.
    const p = await Predictor.load(o.out, { warmUp: 1 });
    const nVal = ds.n - valFrom;
    const pred = new Float32Array(nVal * ds.dims);
    const truth = ds.y.subarray(valFrom * ds.dims);
    const out = new Float32Array(ds.dims);
    for (let i = 0; i < nVal; i++) {
      p.predict(ds.x.subarray((valFrom + i) * ds.samples * ds.channels, (valFrom + i + 1) * ds.samples * ds.channels), out);
      pred.set(out, i * ds.dims);
    }
    const scores = r2(truth, pred, nVal, ds.dims);
    const validationR2 = Object.fromEntries(meta.outputs.map((m, d) => [m.name, Number(scores[d]!.toFixed(4))]));
    meta.training = {
      data: `reflex-bridge-host --offline ${o.seconds} --rate ${F.sourceRateHz} --channels ${F.channels} --seed ${o.seed}`,
      epochs: o.epochs,
      seed: o.seed,
      backend: backend.name,
      windows: { train: nTrain, validation: nVal },
      validationR2,
      note: 'validation = last 20 % of the recording, held out in time',
    };
    writeModelMeta(o.out, meta);
    const path = p.path;
    p.dispose();
    return { out: o.out, backend: backend.name, windows: { train: nTrain, validation: nVal }, validationR2, predictorPath: path };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function cli(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, epochs: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } } });
  const report = await trainDefaultModel({
    seconds: Number(values.seconds ?? 300),
    epochs: Number(values.epochs ?? 12),
    seed: Number(values.seed ?? 1),
    out: resolve(values.out ?? join(root, 'models/default')),
  });
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((err: unknown) => {
    process.stderr.write(`default-model: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
