/**
 * Block topics (emg.raw, emg.features, tracker) on the wire, schema 3 (docs/telemetry.md
 * section 4). What does not change from block to block (stream id, rate, unit, channel
 * names) travels in a stream descriptor; every block is a packed CBOR array that names its
 * descriptor by id and carries only what is new: sequence numbers, times, validity, samples.
 *
 * Why: EMG leaves the runtime in many small blocks. With the description and map keys in
 * every block, a 64-byte block became a 286-byte message, and zeromq.js sends frames over
 * 128 bytes through a zero-copy path whose release costs a hop back to the main thread;
 * the publisher ran at half the rate of bare ZeroMQ. Packed, the same block is 126 bytes.
 */
import type { BlockBody, BlockSamples, BlockTopic, Topic } from './topics.js';

export const BLOCK_TOPICS: readonly BlockTopic[] = ['emg.raw', 'emg.features', 'tracker'];

export function isBlockTopic(topic: Topic): topic is BlockTopic {
  return topic === 'emg.raw' || topic === 'emg.features' || topic === 'tracker';
}

/** The body of a descriptor message (a map-form message on a block topic). */
export interface StreamDescriptor {
  /** Id the blocks name; a new id whenever the description changes. */
  desc: number;
  stream: string;
  rate: number;
  unit: string;
  channels: readonly string[];
}

/** Element positions of a packed block. Later schema versions may append elements. */
export const PACKED = {
  v: 0,
  seq: 1,
  mono_ms: 2,
  desc: 3,
  samples: 4,
  first_sample: 5,
  block_seq: 6,
  device_time_us: 7,
  host_time_ms: 8,
  host_period_ms: 9,
  valid: 10,
  data: 11,
} as const;
export const PACKED_LENGTH = 12;

/** A decoded packed block before its descriptor is applied. */
export interface PackedBlock extends BlockSamples {
  v: number;
  seq: number;
  mono_ms: number;
  desc: number;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Check a decoded frame-2 array; undefined when it is not a packed block. */
export function asPackedBlock(value: unknown): PackedBlock | undefined {
  if (!Array.isArray(value) || value.length < PACKED_LENGTH) return undefined;
  const a = value as unknown[];
  const [v, seq, mono, desc, samples, first, bseq, dev, host, period, valid, data] = a;
  if (!isCount(v) || !isCount(seq) || !isCount(desc) || !isCount(samples) || !isCount(first) || !isCount(bseq)) return undefined;
  if (typeof mono !== 'number' || typeof dev !== 'number' || typeof host !== 'number' || typeof period !== 'number') return undefined;
  if (typeof valid !== 'boolean' || !(data instanceof Float32Array)) return undefined;
  return {
    v,
    seq,
    mono_ms: mono,
    desc,
    samples,
    first_sample: first,
    block_seq: bseq,
    device_time_us: dev,
    host_time_ms: host,
    host_period_ms: period,
    valid,
    data,
  };
}

/** Check the body of a descriptor message; undefined when it is not one. */
export function asDescriptor(body: unknown): StreamDescriptor | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { desc, stream, rate, unit, channels } = body as Record<string, unknown>;
  if (!isCount(desc) || typeof stream !== 'string' || typeof rate !== 'number' || typeof unit !== 'string') return undefined;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => typeof c === 'string')) return undefined;
  return { desc, stream, rate, unit, channels: channels };
}

/**
 * The block a packed message and its descriptor describe together; undefined when they do
 * not fit (data is not channels x samples values), which a receiver counts as malformed.
 */
export function unpackBlock(p: PackedBlock, d: StreamDescriptor): BlockBody | undefined {
  if (p.data.length !== d.channels.length * p.samples) return undefined;
  return {
    stream: d.stream,
    rate: d.rate,
    unit: d.unit,
    channels: d.channels,
    samples: p.samples,
    first_sample: p.first_sample,
    block_seq: p.block_seq,
    device_time_us: p.device_time_us,
    host_time_ms: p.host_time_ms,
    host_period_ms: p.host_period_ms,
    valid: p.valid,
    data: p.data,
  };
}

/** Whether a descriptor still describes a block's stream (rate compared with Object.is: NaN is a rate here). */
export function describes(d: StreamDescriptor, b: BlockBody): boolean {
  if (d.stream !== b.stream || d.unit !== b.unit || !Object.is(d.rate, b.rate)) return false;
  if (d.channels === b.channels) return true;
  const n = d.channels.length;
  if (b.channels.length !== n) return false;
  for (let i = 0; i < n; i++) if (d.channels[i] !== b.channels[i]) return false;
  return true;
}
