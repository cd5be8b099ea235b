import type { SampleBlock } from '../core/block.js';
import type { MutableBlock } from './types.js';

/** Distinct output lengths kept before the cache is dropped; bounds memory under ragged chunking. */
const MAX_CACHED_LENGTHS = 32;

/**
 * The output blocks a unit owns. One backing Float32Array per unit; one block object per
 * distinct output length, whose `data` is a view on the backing array. With steady chunk sizes
 * the same block object comes back every call, so the hot path allocates nothing.
 * Growing the backing array (a longer chunk than ever seen) drops the cached views.
 */
export class BlockBuffer {
  #backing = new Float32Array(0);
  #blocks = new Map<number, MutableBlock>();
  #last: MutableBlock | undefined;
  #channels = -1;

  /**
   * A block with `samples` samples and the input's labels, stream and times copied over;
   * callers then fix the fields they transform (rate, firstSample, times).
   */
  take(input: SampleBlock, channels: number, samples: number, rate: number): MutableBlock {
    if (channels !== this.#channels) {
      this.#channels = channels;
      this.#drop();
    }
    let block = this.#last !== undefined && this.#last.samples === samples ? this.#last : this.#blocks.get(samples);
    if (block === undefined) {
      const need = channels * samples;
      if (need > this.#backing.length) {
        this.#backing = new Float32Array(Math.max(need, this.#backing.length * 2));
        this.#drop();
      }
      if (this.#blocks.size >= MAX_CACHED_LENGTHS) this.#drop();
      block = {
        stream: input.stream,
        channels,
        samples,
        rate,
        data: this.#backing.subarray(0, need),
        channelNames: input.channelNames,
        unit: input.unit,
        firstSample: 0,
        seq: 0,
        deviceTimeUs: Number.NaN,
        hostTimeMs: Number.NaN,
        hostPeriodMs: 1000 / rate,
        valid: true,
      };
      this.#blocks.set(samples, block);
    }
    this.#last = block;
    block.stream = input.stream;
    block.channelNames = input.channelNames;
    block.unit = input.unit;
    block.rate = rate;
    block.firstSample = input.firstSample;
    block.seq = input.seq;
    block.deviceTimeUs = input.deviceTimeUs;
    block.hostTimeMs = input.hostTimeMs;
    block.hostPeriodMs = input.hostPeriodMs;
    block.valid = input.valid;
    return block;
  }

  /** Same shape and times as the input: the common case for filters and point-wise units. */
  like(input: SampleBlock): MutableBlock {
    return this.take(input, input.channels, input.samples, input.rate);
  }

  #drop(): void {
    this.#blocks.clear();
    this.#last = undefined;
  }
}

/**
 * Tracks the input shape (channels, rate) and says when it changed, so a unit reallocates
 * its state only then.
 */
export class ShapeGuard {
  channels = -1;
  rate = Number.NaN;

  /** True when `input` has a different shape than the last accepted one (or is the first). */
  differs(input: SampleBlock): boolean {
    return input.channels !== this.channels || input.rate !== this.rate;
  }

  /** Record `input`'s shape once the unit has (re)allocated for it. */
  accept(input: SampleBlock): void {
    this.channels = input.channels;
    this.rate = input.rate;
  }
}
