/**
 * (EMG feature window, tracker target) pairs from recordings, built the way the loop sees them:
 * the recorded raw blocks through the feature units block by block (as SampleChain runs them),
 * then the aligner's dataset builder (align/dataset.ts) over the feature blocks and the tracker
 * feed. Each recording is split in time: its last `valFraction` is held out for validation, with
 * one window's length between the two parts so no sample is in both.
 */
import type { SampleBlock } from '../core/block.js';
import { ConfigError } from '../core/errors.js';
import { buildTrainingSet, type TrainingSet } from '../align/dataset.js';
import { channelUnit } from '../record/layout.js';
import type { Recording } from '../record/types.js';
import { blockStream, sampleBlocks, trackerSamples } from '../offline/recording-view.js';
import { buildPipeline } from '../units/index.js';
import { TrainCodes } from './codes.js';

export interface PairOptions {
  pipeline: readonly unknown[];
  windowMs: number;
  hopMs: number;
  valFraction: number;
  /** Tracker channels to predict, in order; default: all of the first recording's. */
  outputs?: readonly string[];
}

export interface RecordingPairs {
  file: string;
  set: TrainingSet;
  /** Targets for `outputs` only: count x outputs.length. */
  y: Float32Array;
  /** Valid pair indices used for training and for validation (validation later in time). */
  train: Uint32Array;
  val: Uint32Array;
  featureRateHz: number;
}

export interface Pairs {
  recordings: RecordingPairs[];
  outputs: string[];
  units: string[];
  channels: number;
  channelNames: string[];
  rawRateHz: number;
  featureRateHz: number;
  windowSamples: number;
  emgUnit: string;
}

/** Feature blocks of a recording's raw EMG, each its own copy (the pipeline reuses its output). */
function featureBlocks(rec: Recording, raw: SampleBlock[], pipeline: readonly unknown[]): SampleBlock[] {
  const first = raw[0]!;
  const p = buildPipeline(pipeline, { at: 'features', input: { rate: first.rate, channels: first.channels } });
  const out: SampleBlock[] = [];
  for (const b of raw) {
    // As SampleChain: unmapped blocks never reach the units.
    if (!Number.isFinite(b.hostTimeMs)) continue;
    const f = p.process(b);
    if (f.samples === 0) continue;
    out.push({ ...f, data: Float32Array.from(f.data), channelNames: [...f.channelNames] });
  }
  if (out.length === 0) throw new ConfigError(TrainCodes.noStream, `${rec.path}: no clock-mapped EMG block gave features`);
  return out;
}

export function buildPairs(recs: readonly Recording[], o: PairOptions): Pairs {
  if (!(o.valFraction > 0 && o.valFraction < 1)) throw new ConfigError(TrainCodes.options, `--val-fraction must be in (0, 1), got ${o.valFraction}`);
  let shape: { channels: number; rate: number; file: string; names: string[]; unit: string } | null = null;
  let outputs: string[] | null = o.outputs ? [...o.outputs] : null;
  let units: string[] = [];
  const recordings: RecordingPairs[] = [];
  let featureRateHz = 0;
  for (const rec of recs) {
    const raw = sampleBlocks(rec, blockStream(rec, 'emg.raw'));
    if (raw.length === 0) throw new ConfigError(TrainCodes.noStream, `${rec.path}: the raw EMG stream holds no blocks`);
    const tr = trackerSamples(rec);
    const b0 = raw[0]!;
    if (shape === null) shape = { channels: b0.channels, rate: b0.rate, file: rec.path, names: [...b0.channelNames], unit: b0.unit };
    else if (shape.channels !== b0.channels || shape.rate !== b0.rate) {
      throw new ConfigError(
        TrainCodes.shape,
        `${rec.path}: ${b0.channels} EMG channels at ${b0.rate} Hz, ` +
          `but ${shape.file} has ${shape.channels} at ${shape.rate} Hz; train on recordings of one board setup`,
      );
    }
    outputs ??= tr.names;
    const idx = outputs.map((n) => tr.names.indexOf(n));
    const bad = idx.indexOf(-1);
    if (bad >= 0) {
      throw new ConfigError(TrainCodes.output, `${rec.path}: the tracker has no channel "${outputs[bad]}"; it has ${tr.names.join(', ')}`);
    }
    units = idx.map((i) => channelUnit(tr.unit, i, tr.names.length));
    const feats = featureBlocks(rec, raw, o.pipeline);
    featureRateHz = feats[0]!.rate;
    const set = buildTrainingSet(feats, tr.samples, { windowMs: o.windowMs, hopMs: o.hopMs });
    const D = outputs.length;
    const y = new Float32Array(set.count * D);
    for (let i = 0; i < set.count; i++) for (let k = 0; k < D; k++) y[i * D + k] = set.Y[i * set.dims + idx[k]!]!;
    const valid: number[] = [];
    for (let i = 0; i < set.count; i++) if (set.valid[i]) valid.push(i);
    if (valid.length < 20) {
      throw new ConfigError(
        TrainCodes.options,
        `${rec.path}: only ${valid.length} valid (window, target) pairs; record longer or check the tracker covers the EMG`,
      );
    }
    // Split by time: pairs ending after the cut are validation, those a window before it training.
    const t0 = set.timesMs[valid[0]!]!;
    const t1 = set.timesMs[valid[valid.length - 1]!]!;
    const cut = t1 - (t1 - t0) * o.valFraction;
    const train = Uint32Array.from(valid.filter((i) => set.timesMs[i]! <= cut - o.windowMs));
    const val = Uint32Array.from(valid.filter((i) => set.timesMs[i]! > cut));
    if (train.length === 0 || val.length === 0) throw new ConfigError(TrainCodes.options, `${rec.path}: too short to hold out ${o.valFraction} of it in time`);
    recordings.push({ file: rec.path, set, y, train, val, featureRateHz });
  }
  if (recordings.length === 0 || !shape || !outputs) throw new ConfigError(TrainCodes.options, 'give at least one recording');
  const s0 = recordings[0]!.set;
  return {
    recordings,
    outputs,
    units,
    channels: s0.channels,
    channelNames: shape.names,
    rawRateHz: shape.rate,
    featureRateHz,
    windowSamples: s0.windowSamples,
    emgUnit: shape.unit,
  };
}
