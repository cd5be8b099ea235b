/**
 * EMG ring: the last `capacitySeconds` of one sample stream, preallocated once.
 *
 * Storage is TIME-MAJOR (`data[slot * channels + c]`) so a window copies out in the layout the
 * model consumes. Each slot remembers the absolute sample index it holds and a validity flag, so a
 * window can tell a gap, a sample not yet arrived, or an overwritten one from real data: missing
 * samples are reported, never filled.
 *
 * Sample times come from the clock-mapped blocks: the newest block's (hostTimeMs, hostPeriodMs)
 * maps an instant to a sample index.
 */
import type { SampleBlock } from '../core/block.js';

export interface EmgRingOptions {
  channels: number;
  /** Nominal sample rate, Hz. */
  rate: number;
  /** History kept, seconds. */
  capacitySeconds: number;
}

export interface EmgRingCounters {
  /** Samples never received (a forward jump in `firstSample`). */
  missingSamples: number;
  /** Blocks older than the ring (dropped). */
  tooOld: number;
  /** Blocks that arrived after newer ones and were filled into their slots. */
  lateFilled: number;
  /** Index restarts (device reset or START): the ring was cleared. */
  restarts: number;
  /** Blocks without a host time (clock not mapped): stored but marked invalid. */
  unmapped: number;
}

export class EmgRing {
  readonly channels: number;
  readonly rate: number;
  /** Capacity in samples. */
  readonly capacity: number;
  readonly counters: EmgRingCounters = { missingSamples: 0, tooOld: 0, lateFilled: 0, restarts: 0, unmapped: 0 };
  readonly #data: Float32Array;
  readonly #index: Float64Array;
  readonly #valid: Uint8Array;
  #newest = -1;
  #refIdx = Number.NaN;
  #refMs = Number.NaN;
  #periodMs = Number.NaN;

  constructor(opts: EmgRingOptions) {
    if (!Number.isInteger(opts.channels) || opts.channels < 1) throw new RangeError('"channels" must be an integer >= 1');
    if (!(opts.rate > 0)) throw new RangeError('"rate" must be > 0');
    if (!(opts.capacitySeconds > 0)) throw new RangeError('"capacitySeconds" must be > 0');
    this.channels = opts.channels;
    this.rate = opts.rate;
    this.capacity = Math.ceil(opts.capacitySeconds * opts.rate);
    this.#data = new Float32Array(this.capacity * this.channels);
    this.#index = new Float64Array(this.capacity).fill(-1);
    this.#valid = new Uint8Array(this.capacity);
  }

  /** Bytes held; constant for the ring's life. */
  get memoryBytes(): number {
    return this.#data.byteLength + this.#index.byteLength + this.#valid.byteLength;
  }

  /** Index of the newest sample received, -1 if none. */
  get newestIndex(): number {
    return this.#newest;
  }

  /** Host time of the newest sample, NaN if none mapped. */
  get newestTimeMs(): number {
    return this.#refMs + (this.#newest - this.#refIdx) * this.#periodMs;
  }

  /** Samples in a window of `windowMs` (rounded to whole samples). */
  windowSamples(windowMs: number): number {
    return Math.max(1, Math.round((windowMs * this.rate) / 1000));
  }

  clear(): void {
    this.#index.fill(-1);
    this.#valid.fill(0);
    this.#newest = -1;
    this.#refIdx = this.#refMs = this.#periodMs = Number.NaN;
  }

  /** Copy a block in (channel-major source). The block may be reused by its producer afterwards. */
  push(block: SampleBlock): void {
    if (block.channels !== this.channels) {
      throw new RangeError(
        `block on "${block.stream}" has ${block.channels} channels, the ring ${this.channels}: re-create the aligner stream when the source changes`,
      );
    }
    const n = block.samples;
    const first = block.firstSample;
    const mapped = Number.isFinite(block.hostTimeMs) && Number.isFinite(block.hostPeriodMs);
    if (!mapped) this.counters.unmapped++;
    if (this.#newest >= 0 && first <= this.#newest) {
      const newestMs = this.newestTimeMs;
      if (mapped && !(block.hostTimeMs < newestMs - this.#periodMs / 2)) {
        // Index went back while time moved on: the source restarted counting.
        this.counters.restarts++;
        this.clear();
      } else if (first + n - 1 <= this.#newest - this.capacity) {
        this.counters.tooOld++;
        return;
      } else {
        this.counters.lateFilled++;
      }
    } else if (this.#newest >= 0 && first > this.#newest + 1) {
      this.#markMissing(this.#newest + 1, first - 1);
    }
    const cap = this.capacity;
    const c = this.channels;
    const oldest = this.#newest - cap + 1;
    const ok = block.valid && mapped ? 1 : 0;
    for (let i = 0; i < n; i++) {
      const idx = first + i;
      if (idx < oldest) continue;
      const slot = idx % cap;
      this.#index[slot] = idx;
      this.#valid[slot] = ok;
      const base = slot * c;
      for (let ch = 0; ch < c; ch++) this.#data[base + ch] = block.data[ch * n + i]!;
    }
    const last = first + n - 1;
    if (last > this.#newest) {
      this.#newest = last;
      if (mapped) {
        this.#refIdx = first;
        this.#refMs = block.hostTimeMs;
        this.#periodMs = block.hostPeriodMs;
      }
    }
  }

  /**
   * Fill `out` with the `windowSamples(windowMs)` samples ending at the last sample at or before
   * `atMs`, time-major: `out[k * channels + c]` is channel c of the k-th sample, oldest first.
   * Returns false (and zeroes the missing rows) if any sample is missing, invalid, not yet
   * arrived or already overwritten.
   */
  window(atMs: number, windowMs: number, out: Float32Array): boolean {
    const n = this.windowSamples(windowMs);
    const c = this.channels;
    if (out.length < n * c) throw new RangeError(`window needs ${n * c} floats (${n} samples x ${c} channels), got ${out.length}`);
    if (this.#newest < 0 || !Number.isFinite(this.#refMs) || !Number.isFinite(atMs)) {
      out.fill(0, 0, n * c);
      return false;
    }
    // Tolerance: a sample exactly at atMs counts despite rounding in the mapping.
    const end = Math.floor(this.#refIdx + (atMs - this.#refMs) / this.#periodMs + 1e-6);
    const start = end - n + 1;
    const cap = this.capacity;
    const oldest = Math.max(0, this.#newest - cap + 1);
    let ok = end <= this.#newest;
    for (let k = 0; k < n; k++) {
      const idx = start + k;
      const o = k * c;
      const slot = idx >= 0 ? idx % cap : 0;
      if (idx < oldest || idx > this.#newest || this.#index[slot] !== idx) {
        for (let ch = 0; ch < c; ch++) out[o + ch] = 0;
        ok = false;
        continue;
      }
      if (this.#valid[slot] === 0) ok = false;
      const base = slot * c;
      for (let ch = 0; ch < c; ch++) out[o + ch] = this.#data[base + ch]!;
    }
    return ok;
  }

  #markMissing(from: number, to: number): void {
    this.counters.missingSamples += to - from + 1;
    const cap = this.capacity;
    const lo = Math.max(from, to - cap + 1);
    for (let idx = lo; idx <= to; idx++) {
      const slot = idx % cap;
      this.#index[slot] = idx;
      this.#valid[slot] = 0;
    }
  }
}
