/**
 * Turns a tracker sender's timestamp into host time. Three cases, per sample:
 * - a sender clock (µs, its own crystal): mapped by a ClockModel fed with the arrivals;
 * - the sender already stamps this host's CLOCK_MONOTONIC (a bridge on the same machine): used as is;
 * - no timestamp: with a nominal rate, a synthetic sender clock (seq x period) through a
 *   ClockModel; without one, the arrival time itself (the least accurate: includes all latency).
 * A known fixed measurement latency (`latencyMs`) is subtracted at the end.
 */
import { ClockModel, type ClockModelOptions, type ClockStatus } from '../../time/clock-model.js';
import type { TrackerTimeBase } from './types.js';

export interface TrackerClockOptions {
  /** Name for the clock model's telemetry. */
  name: string;
  /** Nominal sample rate for senders without timestamps, Hz (enables the synthetic clock). */
  rateHz?: number;
  /**
   * Fixed delay between the pose happening and the sender's timestamp (or the arrival, for
   * unstamped samples), ms; subtracted from every sample. Default 0.
   */
  latencyMs?: number;
  /** Passed to the clock models. */
  clock?: Omit<ClockModelOptions, 'name'>;
}

export type TrackerTimeKind = 'sender' | 'host' | 'none';

export class TrackerClock {
  readonly #sender: ClockModel;
  readonly #synthetic: ClockModel | null;
  readonly #periodUs: number;
  readonly #latencyMs: number;
  #lastSeq = -1;
  #base: TrackerTimeBase | null = null;

  constructor(opts: TrackerClockOptions) {
    this.#sender = new ClockModel({ ...opts.clock, name: opts.name });
    const rate = opts.rateHz;
    if (rate !== undefined && !(rate > 0)) throw new RangeError('"rateHz" must be > 0');
    this.#synthetic = rate ? new ClockModel({ ...opts.clock, name: `${opts.name}:synthetic` }) : null;
    this.#periodUs = rate ? 1e6 / rate : Number.NaN;
    this.#latencyMs = opts.latencyMs ?? 0;
    if (!Number.isFinite(this.#latencyMs)) throw new RangeError('"latencyMs" must be a finite number');
  }

  /**
   * Host time of a sample. `timeUs` is the sender's stamp (ignored for 'none'); `seq` its sequence
   * number. Returns NaN when the stamp is rejected as nonsense by the clock model.
   */
  map(kind: TrackerTimeKind, timeUs: number, seq: number, arrivalMs: number): number {
    let t: number;
    if (kind === 'host') {
      this.#base = 'host';
      t = timeUs / 1000;
      if (!Number.isFinite(t)) return Number.NaN;
    } else if (kind === 'sender') {
      this.#base = 'device';
      if (!this.#sender.observeArrival(timeUs, arrivalMs)) return Number.NaN;
      t = this.#sender.hostTimeMs(timeUs);
    } else if (this.#synthetic) {
      this.#base = 'synthetic';
      if (seq < this.#lastSeq) this.#synthetic.reseed();
      this.#lastSeq = seq;
      const d = seq * this.#periodUs;
      if (!this.#synthetic.observeArrival(d, arrivalMs)) return Number.NaN;
      t = this.#synthetic.hostTimeMs(d);
    } else {
      this.#base = 'arrival';
      t = arrivalMs;
    }
    return t - this.#latencyMs;
  }

  /** The sender restarted (new session): forget its clock. */
  reseed(): void {
    this.#sender.reseed();
    this.#synthetic?.reseed();
    this.#lastSeq = -1;
  }

  /** How the newest sample's time was mapped; null before the first. */
  get timeBase(): TrackerTimeBase | null {
    return this.#base;
  }

  /**
   * Status of the model that mapped the newest sample (the sender-clock or the synthetic one),
   * or null when it needed none (host clock, arrival) or nothing has been mapped yet.
   */
  status(): ClockStatus | null {
    const m = this.#base === 'device' ? this.#sender : this.#base === 'synthetic' ? this.#synthetic : null;
    return m?.seeded ? m.status() : null;
  }
}
