/**
 * The reader thread's end of the ring: the device's blocks and gaps go in, in order. When the
 * main thread has not drained the ring for its whole length, the ring is full: records are
 * dropped, never silently. The dropped samples are counted (`lost`, `ring_overflows`) and, once
 * there is room again, one gap covering them (and any device gap dropped meanwhile) goes in
 * before the next block, so the main thread sees a contiguous stream with an explicit hole.
 */
import type { SampleBlock } from '../../core/block.js';
import type { Ads1299CounterKey, Ads1299Gap } from './device.js';
import type { RingWriter } from './ring.js';

export class Ads1299RingSink {
  readonly #ring: RingWriter;
  readonly #count: (key: Ads1299CounterKey, n: number) => void;
  readonly #periodMs: number;
  readonly #wake: () => void;
  /** Last sample written to the ring, and its stamp (estimated from its block's first stamp). */
  #lastSample = -1;
  #lastStampMs = Number.NaN;
  /** Dropping: records are being dropped; the gap to write before the next block. */
  #dropping = false;
  #dropFrom = -1;
  #dropReset = false;
  #dropOutage = false;

  constructor(opts: { ring: RingWriter; periodMs: number; count: (key: Ads1299CounterKey, n: number) => void; wake: () => void }) {
    this.#ring = opts.ring;
    this.#count = opts.count;
    this.#periodMs = opts.periodMs;
    this.#wake = opts.wake;
  }

  block(b: SampleBlock, arrivalMs: number): void {
    const ring = this.#ring;
    if (this.#dropping) {
      if (ring.free() < 2) return this.#drop(b.samples);
      this.#writeDropGap(b.firstSample, arrivalMs);
    }
    if (!ring.writeBlock(b.firstSample, b.samples, b.channels, arrivalMs, b.data)) {
      this.#startDropping(this.#lastSample);
      return this.#drop(b.samples);
    }
    this.#lastSample = b.firstSample + b.samples - 1;
    this.#lastStampMs = arrivalMs + (b.samples - 1) * this.#periodMs;
    this.#notify();
  }

  gap(g: Ads1299Gap): void {
    if (!this.#dropping) {
      const ok = this.#ring.writeGap({
        outage: g.cause === 'outage',
        missingSamples: g.missingSamples,
        hostSpanMs: g.hostSpanMs,
        fromSample: g.fromSample,
        toSample: g.toSample,
        deviceReset: g.deviceReset,
      });
      if (ok) {
        // After a reset the counter starts over: the next block's numbers do not follow the last's.
        if (g.deviceReset) {
          this.#lastSample = -1;
          this.#lastStampMs = Number.NaN;
        }
        return this.#notify();
      }
      this.#startDropping(g.fromSample);
    }
    // Merged into the gap written when there is room again: the device counted it, but it is not a gap of its own.
    this.#count('gaps', -1);
    if (g.deviceReset) this.#dropReset = true;
    if (g.cause === 'outage') this.#dropOutage = true;
  }

  #startDropping(from: number): void {
    this.#dropping = true;
    this.#dropFrom = from;
    this.#dropReset = false;
    this.#dropOutage = false;
  }

  #drop(samples: number): void {
    this.#count('lost', samples);
    this.#count('ring_overflows', samples);
  }

  #writeDropGap(nextSample: number, nextStampMs: number): void {
    const reset = this.#dropReset;
    this.#ring.writeGap({
      outage: this.#dropOutage,
      // Across a reset the counters do not line up, so the number is unknown.
      missingSamples: reset ? Number.NaN : nextSample - this.#dropFrom - 1,
      hostSpanMs: reset || this.#lastStampMs !== this.#lastStampMs ? Number.NaN : nextStampMs - this.#lastStampMs,
      fromSample: this.#dropFrom,
      toSample: nextSample,
      deviceReset: reset,
    });
    this.#count('gaps', 1);
    this.#dropping = false;
  }

  #notify(): void {
    if (this.#ring.takeWake()) this.#wake();
  }
}
