/**
 * Replay: a recorded run's raw EMG pushed through the same feature units, aligner, predictor,
 * output map and safety limiter the live run used, as fast as the machine goes, and the outcome
 * checked against what the live run published, bit for bit (float32 per value).
 *
 * Taken from the recording: the raw blocks (data, times, validity), the ticks that were
 * published, each tick's window end and safe state. Recomputed: features, windows, predictions,
 * mapped targets and limited commands. docs/replay.md says why the split is where it is.
 */
import { OutputMap } from '../actuate/mapping.js';
import { SafetyLimiter } from '../actuate/safety.js';
import { Aligner } from '../align/aligner.js';
import type { SampleBlock } from '../core/block.js';
import { ConfigError } from '../core/errors.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import { Predictor, type PredictorMode } from '../predict/predictor.js';
import type { Recording } from '../record/types.js';
import { TrainCodes } from '../train/codes.js';
import { buildPipeline, type Pipeline } from '../units/index.js';
import { blockStream, findBlockData, recordedActuators, recordedPredictions, sampleBlocks } from '../offline/recording-view.js';
import { runFacts, type RunFactsOverrides } from '../offline/run-facts.js';

export interface ReplayOptions extends RunFactsOverrides {
  /** Predictor path; default: the one the live run recorded, else "auto" (the compiled kernel when the model compiles, as the loop). */
  mode?: PredictorMode;
  /** Called now and then with the raw blocks done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayMismatch {
  what: 'prediction' | 'requested' | 'applied' | 'feature';
  /** Loop tick (feature block index for "feature"). */
  tick: number;
  /** Output or actuator name (channel for "feature"). */
  name: string;
  live: number;
  replay: number;
}

export interface ReplayResult {
  file: string;
  model: string;
  predictor: 'compiled' | 'tfjs';
  /** Recorded span of raw EMG, seconds. */
  recordingS: number;
  /** Whole replay, reading the model included (not the file). */
  elapsedMs: number;
  /** Model load, compile and verification, ms. */
  loadMs: number;
  /** Recorded time over the replay's processing time (model load excluded). */
  xRealtime: number;
  rawBlocks: number;
  featureBlocksChecked: number;
  predictions: number;
  actuatorTicks: number;
  /** Recorded ticks that do not follow their predecessor: skipped deadlines, cycles the output ring lost, a decimated remote recording (docs/replay.md). */
  tickGaps: number;
  /** Ticks at the end of a cut file (kill -9) whose EMG is not in it: not compared. */
  ticksCut: number;
  valuesCompared: number;
  mismatches: number;
  /** The first ticks (feature block indices for features) with a mismatch, at most 20. */
  mismatchTicks: number[];
  /** Mismatches per kind of value. */
  mismatchesBy: Record<ReplayMismatch['what'], number>;
  first: ReplayMismatch | null;
  identical: boolean;
}

/** Float32 equality per value: the same number (NaN equal to NaN, -0 not equal to 0). */
export function sameFloat32(a: number, b: number): boolean {
  return Object.is(Math.fround(a), Math.fround(b));
}

function featureSpecs(meta: ReflexModelMeta): unknown {
  const f = meta.features;
  return typeof f === 'object' && f !== null && !Array.isArray(f) && 'pipeline' in f ? f.pipeline : f;
}

export async function replayRecording(rec: Recording, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const t0 = performance.now();
  const facts = runFacts(rec, opts);
  const raw = blockStream(rec, 'emg.raw');
  const blocks = sampleBlocks(rec, raw);
  const preds = recordedPredictions(rec);
  const acts = recordedActuators(rec);
  const mode = opts.mode ?? facts.predictorPath ?? 'auto';
  const l0 = performance.now();
  const predictor = await Predictor.load(facts.modelDir, { mode, warmUp: 1 });
  const loadMs = performance.now() - l0;
  try {
    const meta = predictor.meta;
    checkShapes(rec, meta, raw.data.channels.length, raw.data.rate, preds.names);
    const specs = featureSpecs(meta);
    const C = raw.data.channels.length;
    const pipeline: Pipeline | null =
      specs === undefined ? null : buildPipeline(specs, { at: `${facts.modelDir} features`, input: { rate: raw.data.rate, channels: C } });
    // As SampleChain.setModel builds it, so windows come from rings of the same size.
    const aligner = new Aligner({ capacitySeconds: Math.max(2, (meta.input.windowMs / 1000) * 4) });
    const stream = blocks[0]?.stream ?? 'emg';
    aligner.addEmg(stream, { channels: meta.input.channels, rate: meta.input.rateHz });
    const recordedFeatures = findBlockData(rec, 'emg.features') ? sampleBlocks(rec, blockStream(rec, 'emg.features')) : null;

    const O = preds.names.length;
    const window = new Float32Array(meta.input.samples * meta.input.channels);
    const out = new Float32Array(O);
    const replayed = new Float32Array(preds.count * O).fill(Number.NaN);
    // Before the first window the loop predicts once from its zeroed input (ControlCore), so a tick with no window end did that.
    window.fill(0);
    predictor.predict(window, out);
    const order: number[] = [];
    for (let i = 0; i < preds.count; i++) {
      if (Number.isNaN(preds.windowEndMs[i]!)) replayed.set(out, i * O);
      else order.push(i);
    }
    order.sort((a, b) => preds.windowEndMs[a]! - preds.windowEndMs[b]! || preds.ticks[a]! - preds.ticks[b]!);
    const r = new Tally();
    let p = 0;
    let featIndex = 0;
    const progressEvery = Math.max(1, Math.floor(blocks.length / 200));
    for (let bi = 0; bi < blocks.length; bi++) {
      if (opts.onProgress && bi % progressEvery === 0) opts.onProgress(bi, blocks.length);
      const block = blocks[bi]!;
      // The chain skips blocks the clock model did not map, before the units see them.
      if (!Number.isFinite(block.hostTimeMs)) continue;
      const feat = pipeline ? pipeline.process(block) : block;
      if (feat.samples === 0) continue;
      if (recordedFeatures) compareFeature(recordedFeatures[featIndex], feat, featIndex, r);
      featIndex++;
      aligner.pushBlock(feat);
      const endMs = feat.hostTimeMs + (feat.samples - 1) * feat.hostPeriodMs;
      while (p < order.length && preds.windowEndMs[order[p]!]! < endMs) {
        const k = order[p]!;
        throw noWindow(rec, preds.ticks[k]!, preds.windowEndMs[k]!);
      }
      if (p >= order.length || preds.windowEndMs[order[p]!] !== endMs) continue;
      if (!aligner.window(endMs, meta.input.windowMs, window)) throw noWindow(rec, preds.ticks[order[p]!]!, endMs);
      predictor.predict(window, out);
      while (p < order.length && preds.windowEndMs[order[p]!] === endMs) replayed.set(out, order[p++]! * O);
    }
    opts.onProgress?.(blocks.length, blocks.length);
    // A file cut by kill -9 can hold ticks whose EMG did not reach the disk: those are not compared.
    const cut = new Set<number>();
    if (rec.truncatedBytes > 0) while (p < order.length) cut.add(preds.ticks[order[p++]!]!);
    if (p < order.length) throw noWindow(rec, preds.ticks[order[p]!]!, preds.windowEndMs[order[p]!]!);

    for (let i = 0; i < preds.count; i++) {
      if (cut.has(preds.ticks[i]!)) continue;
      for (let o = 0; o < O; o++) r.check('prediction', preds.ticks[i]!, preds.names[o]!, preds.values[i * O + o]!, replayed[i * O + o]!);
    }
    const gaps = replaySafety(rec, facts, preds.names, preds.ticks, replayed, acts, r, cut);
    const elapsedMs = performance.now() - t0;
    const recordingS = spanS(blocks);
    const workMs = elapsedMs - loadMs;
    return {
      file: rec.path,
      model: facts.modelDir,
      predictor: predictor.info.path,
      recordingS,
      elapsedMs,
      loadMs,
      xRealtime: (recordingS * 1000) / workMs,
      rawBlocks: blocks.length,
      featureBlocksChecked: recordedFeatures ? featIndex : 0,
      predictions: preds.count,
      actuatorTicks: acts.count,
      tickGaps: gaps,
      ticksCut: cut.size,
      valuesCompared: r.compared,
      mismatches: r.mismatches,
      mismatchesBy: r.by,
      mismatchTicks: r.ticks,
      first: r.first,
      identical: r.mismatches === 0,
    };
  } finally {
    predictor.dispose();
  }
}

class Tally {
  compared = 0;
  mismatches = 0;
  first: ReplayMismatch | null = null;
  readonly by: Record<ReplayMismatch['what'], number> = { feature: 0, prediction: 0, requested: 0, applied: 0 };
  readonly ticks: number[] = [];

  check(what: ReplayMismatch['what'], tick: number, name: string, live: number, replay: number): void {
    this.compared++;
    if (sameFloat32(live, replay)) return;
    this.mismatches++;
    this.by[what]++;
    if (this.ticks.length < 20 && this.ticks[this.ticks.length - 1] !== tick) this.ticks.push(tick);
    this.first ??= { what, tick, name, live: Math.fround(live), replay: Math.fround(replay) };
  }
}

function compareFeature(live: SampleBlock | undefined, feat: SampleBlock, index: number, r: Tally): void {
  if (!live) return;
  if (live.samples !== feat.samples || live.channels !== feat.channels) {
    r.check('feature', index, 'samples', live.samples, feat.samples);
    return;
  }
  r.check('feature', index, 'host_time_ms', live.hostTimeMs, feat.hostTimeMs);
  for (let i = 0; i < feat.data.length; i++) {
    if (!sameFloat32(live.data[i]!, feat.data[i]!)) {
      r.check('feature', index, feat.channelNames[Math.floor(i / feat.samples)] ?? String(i), live.data[i]!, feat.data[i]!);
      return;
    }
  }
  r.compared += feat.data.length;
}

/**
 * The output map and limiter over the published ticks, in tick order, as ControlCore.cycle runs
 * them: in the safe state the safe values (and the slew restarts from them), else the mapped
 * targets limited over the time since the previous cycle. Returns the number of tick gaps.
 */
function replaySafety(
  rec: Recording,
  facts: ReturnType<typeof runFacts>,
  outputNames: string[],
  predTicks: Float64Array,
  outputs: Float32Array,
  acts: ReturnType<typeof recordedActuators>,
  r: Tally,
  cut: ReadonlySet<number>,
): number {
  const byTick = new Map<number, number>();
  predTicks.forEach((t, i) => byTick.set(t, i));
  const defs = acts.names.map((n) => {
    const d = facts.actuators.find((a) => a.name === n);
    if (!d) throw new ConfigError(TrainCodes.output, `${rec.path}: the actuators stream names "${n}", which the run's board does not have`);
    return d;
  });
  const map = new OutputMap(facts.mapping, defs, outputNames);
  const lim = new SafetyLimiter(defs);
  const A = defs.length;
  const targets = new Float64Array(A);
  const commands = Float64Array.from(lim.safeValues);
  const O = outputNames.length;
  let lastK = -1;
  let gaps = 0;
  for (let i = 0; i < acts.count; i++) {
    const k = acts.ticks[i]!;
    const pi = byTick.get(k);
    if (cut.has(k) || (pi === undefined && rec.truncatedBytes > 0 && i === acts.count - 1)) break;
    if (pi === undefined) throw new ConfigError(TrainCodes.replay, `${rec.path}: tick ${k} has actuator commands but no prediction; the file is damaged`);
    if (lastK >= 0 && k !== lastK + 1) gaps++;
    const dtS = lastK < 0 ? facts.periodMs / 1000 : ((k - lastK) * facts.periodMs) / 1000;
    lastK = k;
    const safe = acts.safe[i] === 1;
    if (!safe) {
      map.map(outputs.subarray(pi * O, (pi + 1) * O), targets);
      if (!lim.limit(targets, dtS, commands)) lim.toSafe(commands);
    } else {
      lim.toSafe(commands);
    }
    for (let a = 0; a < A; a++) {
      r.check('requested', k, acts.names[a]!, acts.requested[i * A + a]!, safe ? commands[a]! : targets[a]!);
      r.check('applied', k, acts.names[a]!, acts.applied[i * A + a]!, commands[a]!);
    }
  }
  return gaps;
}

function checkShapes(rec: Recording, meta: ReflexModelMeta, rawChannels: number, rawRate: number, outputs: string[]): void {
  const f = meta.features;
  const want = typeof f === 'object' && f !== null && 'channels' in f ? f.channels : meta.features === undefined ? meta.input.channels : undefined;
  if (typeof want === 'number' && want !== rawChannels) {
    throw new ConfigError(
      TrainCodes.shape,
      `${rec.path}: the recording has ${rawChannels} EMG channels, the model takes ${want}; replay with the model the run used (--model)`,
    );
  }
  const rate = typeof f === 'object' && f !== null && 'sourceRateHz' in f ? f.sourceRateHz : undefined;
  if (typeof rate === 'number' && rate !== rawRate) {
    throw new ConfigError(
      TrainCodes.shape,
      `${rec.path}: the recording's EMG is at ${rawRate} Hz, the model's features expect ${rate} Hz; replay with the model the run used (--model)`,
    );
  }
  const names = meta.outputs.map((o) => o.name);
  if (names.length !== outputs.length || names.some((n, i) => n !== outputs[i])) {
    throw new ConfigError(
      TrainCodes.output,
      `${rec.path}: the recorded predictions are ${outputs.join(', ')}, the model gives ${names.join(', ')}; replay with the model the run used (--model)`,
    );
  }
}

function noWindow(rec: Recording, tick: number, endMs: number): ConfigError {
  return new ConfigError(
    TrainCodes.replay,
    `${rec.path}: tick ${tick} predicted from a window ending at ${endMs} ms, ` +
      "which no recorded EMG block ends at; the run's EMG was not recorded whole from its start",
  );
}

function spanS(blocks: readonly SampleBlock[]): number {
  const mapped = blocks.filter((b) => Number.isFinite(b.hostTimeMs));
  if (mapped.length === 0) return 0;
  const a = mapped[0]!;
  const b = mapped[mapped.length - 1]!;
  return (b.hostTimeMs + b.samples * b.hostPeriodMs - a.hostTimeMs) / 1000;
}
