/**
 * One browser's display state on the server: a min/max decimator per block stream sized to
 * that browser's time window and plot width, and the bounded batch of the small topics it
 * has not been sent yet. The hub fills it from telemetry and asks it for one frame per tick.
 */
import { MinMaxDecimator } from './decimator.js';
import { encodeFrame, SCOPE_STREAMS, type FrameSection, type ScopeStream } from './frame.js';

/** What a page asks for: its time window and the plot width it draws it in. */
export interface ViewSettings {
  windowMs: number;
  /** Plot width in device pixels: one bucket per pixel. */
  width: number;
}

export const VIEW_LIMITS = {
  windowMs: [500, 120_000],
  width: [50, 4000],
} as const;

export const DEFAULT_VIEW: ViewSettings = { windowMs: 10_000, width: 1000 };

/** Display frames per second the hub sends. */
export const FRAME_RATE = 30;

/** Bucket width for a view: the window over its pixels, never finer than 0.05 ms. */
export function bucketMsFor(v: ViewSettings): number {
  return Math.max(0.05, v.windowMs / v.width);
}

/** Closed buckets a decimator holds between ticks: two seconds of them, at least 64. */
function capacityFor(bucketMs: number): number {
  return Math.max(64, Math.min(200_000, Math.ceil(2000 / bucketMs)));
}

interface StreamState {
  dec: MinMaxDecimator;
  /** Scratch for take(), reused every tick. */
  times: Float64Array;
  min: Float32Array;
  max: Float32Array;
}

/** Capped lists of the small topics' entries, sent as one JSON text message per tick. */
export interface BatchLimits {
  prediction: number;
  loop: number;
  clock: number;
  event: number;
}
const BATCH_LIMITS: BatchLimits = { prediction: 600, loop: 300, clock: 300, event: 200 };

export type BatchTopic = keyof BatchLimits;

export class ScopeView {
  #settings: ViewSettings;
  #bucketMs: number;
  readonly #streams = new Map<ScopeStream, StreamState>();
  readonly #batch: Record<BatchTopic, unknown[]> = { prediction: [], loop: [], clock: [], event: [] };
  #health: unknown = undefined;
  /** Entries dropped from a full batch list (a browser that has not read for a long time). */
  batchOverflow = 0;
  /** Newest publish time (server clock) whose samples are all in closed buckets. */
  #completePubMs = Number.NaN;
  /** Publish time of the newest block pushed, complete once a later bucket opens. */
  #lastPubMs = Number.NaN;

  constructor(settings: ViewSettings = DEFAULT_VIEW) {
    this.#settings = { ...settings };
    this.#bucketMs = bucketMsFor(settings);
  }

  get settings(): ViewSettings {
    return { ...this.#settings };
  }

  get bucketMs(): number {
    return this.#bucketMs;
  }

  /** New window or width: decimators start over at the new bucket width. */
  configure(settings: ViewSettings): void {
    this.#settings = { ...settings };
    this.#bucketMs = bucketMsFor(settings);
    for (const [stream, s] of this.#streams) this.#streams.set(stream, this.#state(s.dec.channels));
    this.#completePubMs = Number.NaN;
  }

  /** A stream's channel count changed (or it appeared): start its decimator over. */
  describe(stream: ScopeStream, channels: number): void {
    this.#streams.set(stream, this.#state(channels));
  }

  #state(channels: number): StreamState {
    const cap = capacityFor(this.#bucketMs);
    return {
      dec: new MinMaxDecimator(channels, this.#bucketMs, cap),
      times: new Float64Array(cap),
      min: new Float32Array(cap * channels),
      max: new Float32Array(cap * channels),
    };
  }

  pushBlock(stream: ScopeStream, data: Float32Array, samples: number, t0: number, periodMs: number, pubMs: number): void {
    const s = this.#streams.get(stream);
    if (!s || data.length !== s.dec.channels * samples) return;
    const before = s.dec.pending;
    s.dec.push(data, samples, t0, periodMs);
    // A bucket closed while this block was folded in: every earlier raw block is complete.
    if (stream === 'emg.raw') {
      if (s.dec.pending !== before) this.#completePubMs = this.#lastPubMs;
      this.#lastPubMs = pubMs;
    }
  }

  pushBatch(topic: BatchTopic, entry: unknown): void {
    const list = this.#batch[topic];
    if (list.length >= BATCH_LIMITS[topic]) {
      list.shift();
      this.batchOverflow++;
    }
    list.push(entry);
  }

  setHealth(entry: unknown): void {
    this.#health = entry;
  }

  /** The frame for this tick, or undefined when no stream has a closed bucket. */
  takeFrame(seq: number, serverMs: number): Buffer | undefined {
    const sections: FrameSection[] = [];
    for (const stream of SCOPE_STREAMS) {
      const s = this.#streams.get(stream);
      if (!s || s.dec.pending === 0) continue;
      const n = s.dec.take(s.times, s.min, s.max);
      sections.push({ stream, channels: s.dec.channels, buckets: n, bucketMs: this.#bucketMs, times: s.times, min: s.min, max: s.max });
    }
    if (sections.length === 0) return undefined;
    return encodeFrame({ seq, serverMs, pubMs: this.#completePubMs }, sections);
  }

  /** Drop this tick's display data (the browser is behind); returns the buckets discarded. */
  discardFrame(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.dec.discard();
    return n;
  }

  /** The JSON batch for this tick (then emptied), or undefined when there is nothing new. */
  takeBatch(): Record<string, unknown> | undefined {
    const b = this.#batch;
    if (this.#health === undefined && b.prediction.length + b.loop.length + b.clock.length + b.event.length === 0) return undefined;
    const out: Record<string, unknown> = { type: 'batch', prediction: b.prediction, loop: b.loop, clock: b.clock, event: b.event };
    if (this.#health !== undefined) out.health = this.#health;
    this.#batch.prediction = [];
    this.#batch.loop = [];
    this.#batch.clock = [];
    this.#batch.event = [];
    this.#health = undefined;
    return out;
  }

  decimatorStats(): Record<string, { buckets: number; overflow: number; late: number }> {
    const out: Record<string, { buckets: number; overflow: number; late: number }> = {};
    for (const [k, s] of this.#streams) out[k] = s.dec.stats();
    return out;
  }
}
