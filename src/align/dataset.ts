/**
 * Offline training set from a recording: EMG windows X, tracker targets Y and a validity mask,
 * built by pushing the recording through the same Aligner the live loop uses, so training sees
 * exactly what the loop would have seen (gaps invalid, never filled).
 */
import type { SampleBlock } from '../core/block.js';
import { ConfigError } from '../core/errors.js';
import { Aligner } from './aligner.js';
import type { TrackerSampleLike } from './tracker-ring.js';
import { AlignCodes } from './codes.js';

export interface TrainingSetOptions {
  /** EMG window length, ms. */
  windowMs: number;
  /** Step between consecutive window ends, ms. */
  hopMs: number;
  /** Target instant relative to the window end, ms (positive: predict ahead). Default 0. */
  targetOffsetMs?: number;
  /** Tracker interpolation never spans a wider gap, ms. Default 100. */
  maxGapMs?: number;
  /** Refuse to build more than this many bytes of X. Default 1 GiB. */
  maxBytes?: number;
}

export interface TrainingSet {
  /** count x windowSamples x channels, time-major within each window (as `Aligner.window`). */
  X: Float32Array;
  /** count x dims. */
  Y: Float32Array;
  /** 1 where both the window and the target are complete and valid. */
  valid: Uint8Array;
  /** Window end instants, host ms. */
  timesMs: Float64Array;
  count: number;
  windowSamples: number;
  channels: number;
  dims: number;
}

/**
 * `blocks`: one EMG stream's clock-mapped blocks in recording (arrival) order, each its own
 * object. `tracker`: the feed's samples in any order.
 */
export function buildTrainingSet(blocks: readonly SampleBlock[], tracker: readonly TrackerSampleLike[], opts: TrainingSetOptions): TrainingSet {
  if (!(opts.windowMs > 0) || !(opts.hopMs > 0)) throw new ConfigError(AlignCodes.dataset, 'windowMs and hopMs must be > 0');
  const first = blocks.find((b) => Number.isFinite(b.hostTimeMs));
  if (!first) throw new ConfigError(AlignCodes.dataset, 'no clock-mapped EMG block in the recording: map blocks with a ClockModel first');
  if (tracker.length === 0) throw new ConfigError(AlignCodes.dataset, 'no tracker samples in the recording');
  const dims = tracker[0]!.values.length;
  const offset = opts.targetOffsetMs ?? 0;
  const maxGapMs = opts.maxGapMs ?? 100;

  const order = tracker.map((_, i) => i).filter((i) => Number.isFinite(tracker[i]!.hostTimeMs));
  order.sort((a, b) => tracker[a]!.hostTimeMs - tracker[b]!.hostTimeMs);
  const times = order.map((i) => tracker[i]!.hostTimeMs);
  // Densest second of the feed sizes the tracker ring.
  let densest = 1;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! > 1000) lo++;
    densest = Math.max(densest, hi - lo + 1);
  }
  const lookMs = Math.max(0, offset) + maxGapMs;
  const capacitySeconds = (opts.windowMs + opts.hopMs + Math.abs(offset) + maxGapMs) / 1000 + 1;
  const aligner = new Aligner({ capacitySeconds });
  const emg = aligner.addEmg(first.stream, { channels: first.channels, rate: first.rate });
  aligner.addTracker('tracker', { dims, maxRateHz: densest * 2, maxGapMs });

  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const b of blocks) {
    if (Number.isFinite(b.hostTimeMs)) lastEnd = Math.max(lastEnd, b.hostTimeMs + (b.samples - 1) * b.hostPeriodMs);
  }
  const start = first.hostTimeMs + (emg.windowSamples(opts.windowMs) - 1) * first.hostPeriodMs;
  const count = lastEnd >= start ? Math.floor((lastEnd - start) / opts.hopMs + 1e-9) + 1 : 0;
  const n = emg.windowSamples(opts.windowMs);
  const c = first.channels;
  const bytes = count * n * c * 4;
  if (bytes > (opts.maxBytes ?? 2 ** 30)) {
    throw new ConfigError(
      AlignCodes.dataset,
      `training set would need ${(bytes / 2 ** 20).toFixed(0)} MiB of windows: raise hopMs, shorten the recording or raise maxBytes`,
    );
  }
  const X = new Float32Array(count * n * c);
  const Y = new Float32Array(count * dims);
  const valid = new Uint8Array(count);
  const timesMs = new Float64Array(count);

  let bi = 0;
  let ti = 0;
  for (let k = 0; k < count; k++) {
    const t = start + k * opts.hopMs;
    // Unmapped blocks (NaN time) go in where they occur: the ring marks them invalid.
    while (bi < blocks.length && !(blocks[bi]!.hostTimeMs > t)) {
      const b = blocks[bi++]!;
      if (b.stream === first.stream) emg.push(b);
    }
    while (ti < order.length && times[ti]! <= t + offset + lookMs) aligner.pushTracker('tracker', tracker[order[ti++]!]!);
    const okX = emg.window(t, opts.windowMs, X.subarray(k * n * c, (k + 1) * n * c));
    const okY = aligner.target(t + offset, Y.subarray(k * dims, (k + 1) * dims));
    valid[k] = okX && okY ? 1 : 0;
    timesMs[k] = t;
  }
  return { X, Y, valid, timesMs, count, windowSamples: n, channels: c, dims };
}
