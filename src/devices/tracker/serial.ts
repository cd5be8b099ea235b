/**
 * Line-based serial tracker (docs/tracker.md, "Serial lines"): an instrument or microcontroller
 * printing `t_us v1 .. vD` lines. Opened through a `SerialOpener`, so tests use the fake bus and
 * hardware uses serialport. When the port goes away the feed reopens it with backoff until closed;
 * the sender's clock model is re-seeded on every reopen (the sender may have reset).
 */
import { Listeners } from '../../core/listeners.js';
import { monotonicMs } from '../../time/monotonic.js';
import type { SerialOpener, SerialPortLike } from '../../hal/serial.js';
import { TrackerClock, type TrackerClockOptions } from './clock.js';
import { TrackerLineParser } from './line.js';
import type { TrackerFeed, TrackerLinkEvent, TrackerLinkListener, TrackerListener, TrackerSample, TrackerTimeBase } from './types.js';
import type { ClockStatus } from '../../time/clock-model.js';

export interface SerialTrackerOptions {
  name?: string;
  opener: SerialOpener;
  path: string;
  /** Default 115200. */
  baudRate?: number;
  dims: number;
  /**
   * How to read `t_us`: 'sender' (the instrument's own clock, mapped; default), or 'host' (already
   * this machine's CLOCK_MONOTONIC in µs). Lines with `-` use arrival (or `rateHz`).
   */
  timeBase?: 'sender' | 'host';
  rateHz?: TrackerClockOptions['rateHz'];
  latencyMs?: TrackerClockOptions['latencyMs'];
  clock?: TrackerClockOptions['clock'];
  /** Reopen delays, ms: starts at the first, doubles up to the second. Default [200, 5000]. */
  reconnectMs?: [number, number];
  /** Host clock for arrival stamps. Default `monotonicMs`. */
  now?: () => number;
}

export class SerialTracker implements TrackerFeed {
  readonly name: string;
  readonly dims: number;
  readonly #opts: SerialTrackerOptions;
  readonly #parser: TrackerLineParser;
  readonly #clock: TrackerClock;
  readonly #now: () => number;
  readonly #listeners = new Listeners<TrackerSample>();
  readonly #linkListeners = new Listeners<TrackerLinkEvent>();
  readonly #sample: TrackerSample;
  readonly #counts = { samples: 0, badTime: 0, opens: 0, disconnects: 0, openErrors: 0 };
  #port: SerialPortLike | null = null;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #backoff: number;
  #arrivalMs = 0;
  #seq = 0;
  #opened: { promise: Promise<void>; resolve: () => void };
  readonly #onLine = (timeUs: number, values: Float32Array, valid: boolean): void => this.#line(timeUs, values, valid);

  private constructor(opts: SerialTrackerOptions) {
    this.name = opts.name ?? `serial:${opts.path}`;
    this.dims = opts.dims;
    this.#opts = opts;
    this.#parser = new TrackerLineParser({ dims: opts.dims });
    this.#clock = new TrackerClock({
      name: this.name,
      rateHz: opts.rateHz,
      latencyMs: opts.latencyMs,
      clock: opts.now ? { ...opts.clock, now: opts.now } : opts.clock,
    });
    this.#now = opts.now ?? monotonicMs;
    this.#sample = { hostTimeMs: Number.NaN, values: new Float32Array(opts.dims), valid: false, seq: 0 };
    this.#backoff = (opts.reconnectMs ?? [200, 5000])[0];
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#opened = { promise, resolve };
  }

  /** Open the port; rejects if the first open fails (later failures are retried). */
  static async open(opts: SerialTrackerOptions): Promise<SerialTracker> {
    const feed = new SerialTracker(opts);
    await feed.#open();
    return feed;
  }

  onSample(listener: TrackerListener): () => void {
    return this.#listeners.add(listener);
  }

  onLink(listener: TrackerLinkListener): () => void {
    return this.#linkListeners.add(listener);
  }

  counters(): Record<string, number> {
    return { ...this.#parser.counters, ...this.#counts };
  }

  clockStatus(): ClockStatus | null {
    return this.#clock.status();
  }

  timeBase(): TrackerTimeBase | null {
    return this.#clock.timeBase;
  }

  #link(kind: TrackerLinkEvent['kind']): void {
    const e: TrackerLinkEvent = { kind, address: this.#opts.path };
    this.#linkListeners.emit(e);
  }

  /** Resolves when the port is open again after a disconnect (tests wait on it). */
  whenOpen(): Promise<void> {
    return this.#opened.promise;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const p = this.#port;
    this.#port = null;
    await p?.close();
  }

  async #open(): Promise<void> {
    const port = await this.#opts.opener({ path: this.#opts.path, baudRate: this.#opts.baudRate ?? 115200 });
    if (this.#closed) {
      await port.close();
      return;
    }
    this.#port = port;
    this.#counts.opens++;
    this.#parser.reset();
    if (this.#counts.opens > 1) this.#clock.reseed();
    this.#backoff = (this.#opts.reconnectMs ?? [200, 5000])[0];
    port.onData((chunk) => {
      this.#arrivalMs = this.#now();
      this.#parser.push(chunk, this.#onLine);
    });
    port.onClose((err) => {
      if (this.#port !== port) return;
      this.#port = null;
      if (this.#closed) return;
      if (err) this.#counts.disconnects++;
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#opened = { promise, resolve };
      this.#link('disconnected');
      this.#scheduleReopen();
    });
    this.#link('connected');
    this.#opened.resolve();
  }

  #scheduleReopen(): void {
    const max = (this.#opts.reconnectMs ?? [200, 5000])[1];
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#open().catch(() => {
        this.#counts.openErrors++;
        this.#backoff = Math.min(max, this.#backoff * 2);
        if (!this.#closed) this.#scheduleReopen();
      });
    }, this.#backoff);
  }

  #line(timeUs: number, values: Float32Array, valid: boolean): void {
    const seq = this.#seq++;
    const kind = Number.isNaN(timeUs) ? 'none' : (this.#opts.timeBase ?? 'sender') === 'host' ? 'host' : 'sender';
    const t = this.#clock.map(kind, timeUs, seq, this.#arrivalMs);
    if (Number.isNaN(t)) {
      this.#counts.badTime++;
      return;
    }
    const s = this.#sample;
    s.hostTimeMs = t;
    s.values.set(values);
    s.valid = valid;
    s.seq = seq;
    this.#counts.samples++;
    this.#listeners.emit(s);
  }
}
