import { createBlock, type SampleBlock } from '../core/block.js';
import { isWindowBlock } from './types.js';
import type { Unit } from './types.js';

/**
 * Offline helpers (they allocate; not for the hot path): cut a block into chunks with
 * consistent times, run a unit over a whole recording, and gather a unit's outputs.
 */

/** Samples `[start, start + count)` of `block` as a new block, times advanced accordingly. */
export function sliceBlock(block: SampleBlock, start: number, count: number): SampleBlock {
  if (start < 0 || count < 0 || start + count > block.samples)
    throw new RangeError(`slice [${start}, ${start + count}) is outside a block of ${block.samples} samples`);
  const data = new Float32Array(block.channels * count);
  for (let c = 0; c < block.channels; c++) data.set(block.data.subarray(c * block.samples + start, c * block.samples + start + count), c * count);
  const out = createBlock({
    stream: block.stream,
    channels: block.channels,
    samples: count,
    rate: block.rate,
    channelNames: block.channelNames,
    unit: block.unit,
    data,
  });
  out.firstSample = block.firstSample + start;
  out.seq = block.seq;
  out.hostTimeMs = block.hostTimeMs + start * block.hostPeriodMs;
  out.hostPeriodMs = block.hostPeriodMs;
  out.deviceTimeUs = block.deviceTimeUs + (start * 1e6) / block.rate;
  out.valid = block.valid;
  return out;
}

/** Cut `block` into consecutive chunks of the given sizes (the last chunk takes the rest). */
export function splitBlock(block: SampleBlock, sizes: readonly number[]): SampleBlock[] {
  const out: SampleBlock[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= block.samples) break;
    const n = Math.min(size, block.samples - at);
    out.push(sliceBlock(block, at, n));
    at += n;
  }
  if (at < block.samples || out.length === 0) out.push(sliceBlock(block, at, block.samples - at));
  return out;
}

/** What a unit produced over a sequence of chunks, gathered per channel (windows flattened in order). */
export interface Collected {
  readonly channels: number;
  readonly rate: number;
  /** One row per channel, all output samples back to back. */
  readonly rows: Float32Array[];
  /** Output blocks' `firstSample`, for blocks with at least one sample. */
  readonly firstSamples: number[];
  /** Windows emitted, for window units (0 otherwise). */
  readonly windows: number;
}

/** Feed `chunks` through `unit` in order and gather copies of its outputs. */
export function runChunks(unit: Unit, chunks: readonly SampleBlock[]): Collected {
  const parts: Float32Array[][] = [];
  const firstSamples: number[] = [];
  let channels = 0;
  let rate = Number.NaN;
  let windows = 0;
  for (const chunk of chunks) {
    const out = unit.process(chunk);
    channels = out.channels;
    rate = out.rate;
    if (isWindowBlock(out)) windows += out.windowCount;
    if (out.samples === 0) continue;
    firstSamples.push(out.firstSample);
    for (let c = 0; c < out.channels; c++) (parts[c] ??= []).push(out.data.slice(c * out.samples, (c + 1) * out.samples));
  }
  const rows = Array.from({ length: channels }, (_, c) => {
    const list = parts[c] ?? [];
    const row = new Float32Array(list.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of list) {
      row.set(p, at);
      at += p.length;
    }
    return row;
  });
  return { channels, rate, rows, firstSamples, windows };
}
