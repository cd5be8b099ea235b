import { createBlock } from '../core/block.js';
import { buildPipeline } from '../units/registry.js';
import { runChunks, splitBlock } from '../units/offline.js';
import type { SimRecording } from './simfile.js';

/**
 * Windows of features and their targets, for training. A window of `samples` feature
 * samples ending at feature index j is paired with the tracker pose at the same instant.
 */
export interface Dataset {
  /** n x (samples * channels), each window TIME-MAJOR (`[w][t][c]`, oldest first), as the Predictor and the model take it. */
  x: Float32Array;
  /** n x dims. */
  y: Float32Array;
  n: number;
  channels: number;
  samples: number;
  dims: number;
  featureRate: number;
}

export interface FeatureSpec {
  /** The units pipeline as data (buildPipeline JSON), run on the raw EMG. */
  pipeline: unknown[];
  /** Window length in feature samples. */
  samples: number;
  /** Windows start this many feature samples apart. */
  hop: number;
}

/** Run the feature pipeline over the recording the way the live runtime would: block by block. */
export function features(rec: SimRecording, pipeline: unknown[], blockSamples = 20): { rows: Float32Array[]; rate: number } {
  const unit = buildPipeline(pipeline, { input: { rate: rec.rate, channels: rec.channels } });
  const block = createBlock({ stream: 'emg', channels: rec.channels, samples: rec.samples, rate: rec.rate, data: rec.emg });
  const sizes = new Array<number>(Math.ceil(rec.samples / blockSamples)).fill(blockSamples);
  const out = runChunks(unit, splitBlock(block, sizes));
  return { rows: out.rows, rate: out.rate };
}

export function buildDataset(rec: SimRecording, spec: FeatureSpec): Dataset {
  const { rows, rate } = features(rec, spec.pipeline);
  const C = rows.length;
  const L = rows[0]!.length;
  const S = spec.samples;
  const D = rec.dims;
  const idx: number[] = [];
  for (let j = S - 1; j < L; j += spec.hop) {
    // Feature sample j is at time j / rate; the pose closest in time.
    const p = Math.round((j / rate) * rec.trackerRate);
    if (p >= 0 && p < rec.poses) idx.push(j);
  }
  const n = idx.length;
  const x = new Float32Array(n * C * S);
  const y = new Float32Array(n * D);
  idx.forEach((j, w) => {
    const base = w * S * C;
    for (let c = 0; c < C; c++) {
      const row = rows[c]!;
      for (let t = 0; t < S; t++) x[base + t * C + c] = row[j - S + 1 + t]!;
    }
    const p = Math.round((j / rate) * rec.trackerRate);
    for (let d = 0; d < D; d++) y[w * D + d] = rec.tracker[p * D + d]!;
  });
  return { x, y, n, channels: C, samples: S, dims: D, featureRate: rate };
}

/** Per-channel mean and std over all windows of `x` (time-major windows). */
export function channelStats(ds: Dataset, from: number, to: number): { mean: number[]; std: number[] } {
  const { channels: C, samples: S } = ds;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    let s2 = 0;
    let k = 0;
    for (let w = from; w < to; w++) {
      // Last sample of each window only: every sample appears once across overlapping windows.
      const v = ds.x[w * S * C + (S - 1) * C + c]!;
      s += v;
      s2 += v * v;
      k++;
    }
    const m = s / k;
    mean.push(m);
    std.push(Math.sqrt(Math.max(s2 / k - m * m, 1e-12)));
  }
  return { mean, std };
}

/** Coefficient of determination per output. */
export function r2(truth: Float32Array, pred: Float32Array, n: number, dims: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < dims; d++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += truth[i * dims + d]!;
    m /= n;
    let ssRes = 0;
    let ssTot = 0;
    for (let i = 0; i < n; i++) {
      const t = truth[i * dims + d]!;
      ssRes += (t - pred[i * dims + d]!) ** 2;
      ssTot += (t - m) ** 2;
    }
    out.push(1 - ssRes / ssTot);
  }
  return out;
}
