/**
 * A recording's streams read back in the shapes the runtime had them in: each block stream and its
 * "blocks" companion as the exact SampleBlocks the chain saw, the tracker feed as samples, the
 * predictions and actuator commands per tick. Layout: docs/recording.md and src/record/types.ts.
 * Every failure is a ConfigError naming the file and the stream, since a bad file is bad input.
 */
import type { SampleBlock } from '../core/block.js';
import { ConfigError } from '../core/errors.js';
import type { TrackerSampleLike } from '../align/tracker-ring.js';
import { BLOCK_COMPANION_CHANNELS, companionOf, PREDICTION_FIXED, streamsOf } from '../record/layout.js';
import type { RecordedStream, Recording } from '../record/types.js';
import type { BlockTopic } from '../telemetry/topics.js';
import { TrainCodes } from '../train/codes.js';

/** A block stream and the companion that says where each of its blocks starts and what it was stamped. */
export interface BlockStreamRef {
  data: RecordedStream;
  blocks: RecordedStream;
}

/**
 * A block stream's unit as it was published: the file holds one unit per channel, split from
 * a `|`-joined unit ("deg|unit"), and the stream's metadata keeps the original.
 */
function publishedUnit(data: RecordedStream): string {
  return typeof data.meta.unit === 'string' ? data.meta.unit : (data.units[0] ?? '');
}

/** Index of the channel labelled `name`; throws naming the file and stream when absent. */
export function column(rec: Recording, s: RecordedStream, name: string): number {
  const i = s.channels.indexOf(name);
  if (i < 0) {
    throw new ConfigError(
      TrainCodes.blocks,
      `${rec.path}: stream "${s.name}" has no channel "${name}" (channels: ${s.channels.join(', ') || 'none'}); the file was not written by this Reflex`,
    );
  }
  return i;
}

/** The data stream of `topic` (and `stream`, when given), or undefined. */
export function findBlockData(rec: Recording, topic: BlockTopic, stream?: string): RecordedStream | undefined {
  return streamsOf(rec, topic, stream)[0];
}

/** A block stream with its companion; ConfigError naming the file when either is missing. */
export function blockStream(rec: Recording, topic: BlockTopic, stream?: string): BlockStreamRef {
  const data = findBlockData(rec, topic, stream);
  if (!data) {
    const have = rec.streams.map((s) => `${s.meta.topic}${s.meta.stream ? `/${s.meta.stream}` : ''}`).join(', ') || 'none';
    throw new ConfigError(
      topic === 'tracker' ? TrainCodes.noTracker : TrainCodes.noStream,
      `${rec.path}: no ${topic}${stream ? ` "${stream}"` : ''} stream in the recording (it has: ${have}); record a run that has it`,
    );
  }
  const blocks = companionOf(rec, data);
  if (!blocks) throw new ConfigError(TrainCodes.blocks, `${rec.path}: stream "${data.name}" has no "blocks" companion stream, so its blocks cannot be rebuilt`);
  for (const c of BLOCK_COMPANION_CHANNELS) column(rec, blocks, c);
  if (data.format === 'string') throw new ConfigError(TrainCodes.blocks, `${rec.path}: stream "${data.name}" holds strings, not samples`);
  return { data, blocks };
}

/**
 * The blocks exactly as published: channel-major float32 data, the companion's times and counters.
 * A file cut after kill -9 may end inside a block: that block is left out (the file says it was
 * cut); otherwise the two streams must agree sample for sample.
 */
export function sampleBlocks(rec: Recording, ref: BlockStreamRef): SampleBlock[] {
  const { data, blocks } = ref;
  const C = data.channels.length;
  const b = blocks.data;
  const B = blocks.channels.length;
  const [iFirst, iSeq, iN, iDev, iHost, iPer, iValid] = BLOCK_COMPANION_CHANNELS.map((c) => column(rec, blocks, c)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const out: SampleBlock[] = [];
  const names = Object.freeze([...data.channels]);
  const unit = publishedUnit(data);
  const stream = typeof data.meta.stream === 'string' ? data.meta.stream : data.meta.topic;
  let at = 0;
  for (let r = 0; r < blocks.samples; r++) {
    const n = b[r * B + iN]!;
    if (!(Number.isInteger(n) && n >= 0)) throw new ConfigError(TrainCodes.blocks, `${rec.path}: block ${r} of "${data.name}" claims ${n} samples`);
    if (at + n > data.samples) {
      // A run stopped by kill -9 can leave a block's companion row without all of its samples.
      if (rec.truncatedBytes > 0 || r === blocks.samples - 1) break;
      throw new ConfigError(
        TrainCodes.blocks,
        `${rec.path}: the blocks of "${data.name}" count ${at + n} samples by block ${r}, the stream holds ${data.samples}; the file is damaged`,
      );
    }
    const block = new Float32Array(C * n);
    const src = data.data;
    for (let i = 0; i < n; i++) {
      const row = (at + i) * C;
      for (let c = 0; c < C; c++) block[c * n + i] = src[row + c]!;
    }
    at += n;
    out.push({
      stream,
      channels: C,
      samples: n,
      rate: data.rate,
      data: block,
      channelNames: names,
      unit,
      firstSample: b[r * B + iFirst]!,
      seq: b[r * B + iSeq]!,
      deviceTimeUs: b[r * B + iDev]!,
      hostTimeMs: b[r * B + iHost]!,
      hostPeriodMs: b[r * B + iPer]!,
      valid: b[r * B + iValid]! !== 0,
    });
  }
  if (at !== data.samples && rec.truncatedBytes === 0) {
    throw new ConfigError(TrainCodes.blocks, `${rec.path}: "${data.name}" holds ${data.samples} samples, its blocks account for ${at}; the file is damaged`);
  }
  return out;
}

/** One tracker sample as the aligner takes it. */
export interface RecordedTrackerSample extends TrackerSampleLike {
  values: Float32Array;
}

/** The tracker feed, one entry per sample, each at its block's host time plus its index times the block's period. */
export function trackerSamples(rec: Recording, stream = 'tracker'): { names: string[]; unit: string; samples: RecordedTrackerSample[] } {
  const ref = blockStream(rec, 'tracker', findBlockData(rec, 'tracker', stream) ? stream : undefined);
  const out: RecordedTrackerSample[] = [];
  for (const b of sampleBlocks(rec, ref)) {
    for (let i = 0; i < b.samples; i++) {
      const v = new Float32Array(b.channels);
      for (let c = 0; c < b.channels; c++) v[c] = b.data[c * b.samples + i]!;
      out.push({ hostTimeMs: b.hostTimeMs + i * b.hostPeriodMs, values: v, valid: b.valid });
    }
  }
  if (out.length === 0) throw new ConfigError(TrainCodes.noTracker, `${rec.path}: the tracker stream "${ref.data.name}" holds no samples`);
  return { names: [...ref.data.channels], unit: publishedUnit(ref.data), samples: out };
}

function tickStream(rec: Recording, topic: 'prediction' | 'actuators'): RecordedStream {
  const s = rec.streams.find((x) => x.meta.topic === topic);
  if (!s) throw new ConfigError(TrainCodes.noStream, `${rec.path}: no ${topic} stream in the recording; replay needs a run recorded with a model`);
  if (s.format === 'string') throw new ConfigError(TrainCodes.blocks, `${rec.path}: the ${topic} stream holds strings, not numbers`);
  return s;
}

/** What the live loop predicted, per published tick: values as the model gave them (float32). */
export interface RecordedPredictions {
  names: string[];
  model: string;
  count: number;
  ticks: Float64Array;
  windowEndMs: Float64Array;
  /** count x names.length. */
  values: Float32Array;
}

export function recordedPredictions(rec: Recording): RecordedPredictions {
  const s = tickStream(rec, 'prediction');
  const iTick = column(rec, s, 'tick');
  const iEnd = column(rec, s, 'window_end_ms');
  const fixed = new Set<string>(PREDICTION_FIXED);
  const outCols = s.channels.map((c, i) => [c, i] as const).filter(([c]) => !fixed.has(c));
  const outIdx = outCols.map(([, i]) => i);
  const n = s.samples;
  return {
    names: outCols.map(([c]) => c),
    model: typeof s.meta.model === 'string' ? s.meta.model : '',
    count: n,
    ticks: gather(s, [iTick], new Float64Array(n)),
    windowEndMs: gather(s, [iEnd], new Float64Array(n)),
    values: gather(s, outIdx, new Float32Array(n * outIdx.length)),
  };
}

/** What the live loop drove, per published tick: commands as float32, as telemetry carried them. */
export interface RecordedActuators {
  names: string[];
  count: number;
  ticks: Float64Array;
  safe: Uint8Array;
  /** count x names.length each. */
  requested: Float32Array;
  applied: Float32Array;
}

export function recordedActuators(rec: Recording): RecordedActuators {
  const s = tickStream(rec, 'actuators');
  const iTick = column(rec, s, 'tick');
  const iSafe = column(rec, s, 'safe_state');
  const names = s.channels.filter((c) => c.startsWith('applied.')).map((c) => c.slice('applied.'.length));
  const req = names.map((a) => column(rec, s, `requested.${a}`));
  const app = names.map((a) => column(rec, s, `applied.${a}`));
  const n = s.samples;
  return {
    names,
    count: n,
    ticks: gather(s, [iTick], new Float64Array(n)),
    safe: Uint8Array.from(gather(s, [iSafe], new Float64Array(n)), (v) => (v !== 0 ? 1 : 0)),
    requested: gather(s, req, new Float32Array(n * names.length)),
    applied: gather(s, app, new Float32Array(n * names.length)),
  };
}

/** Columns `cols` of a row-major stream, in that order, into `out` (samples x cols.length). */
function gather<T extends Float32Array | Float64Array>(s: RecordedStream, cols: readonly number[], out: T): T {
  const C = s.channels.length;
  const K = cols.length;
  for (let r = 0; r < s.samples; r++) for (let k = 0; k < K; k++) out[r * K + k] = s.data[r * C + cols[k]!]!;
  return out;
}
