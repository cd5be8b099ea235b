/**
 * ZeroMQ tracker feed: a SUB socket receiving two-frame messages `[topic, payload]` from a
 * workstation or mocap bridge (docs/tracker.md, "ZeroMQ messages"; payload in tracker-wire.ts).
 * By default Reflex connects to the sender's PUB; `bind: true` lets several senders connect to us.
 */
import { Subscriber } from 'zeromq';
import { monotonicMs } from '../time/monotonic.js';
import type { ClockStatus } from '../time/clock-model.js';
import { TrackerClock, type TrackerClockOptions } from './tracker-clock.js';
import { decodeTrackerMessage, FLAG_HOST_CLOCK, FLAG_INVALID, type TrackerWireMessage } from './tracker-wire.js';
import type { TrackerFeed, TrackerListener, TrackerSample } from './tracker-types.js';

export interface ZmqTrackerOptions {
  name?: string;
  /** e.g. "tcp://192.168.1.20:5570" or "ipc:///tmp/mocap". */
  endpoint: string;
  /** Bind instead of connecting. Default false. */
  bind?: boolean;
  /** Topic prefix to subscribe to (first frame). Default "tracker". */
  topic?: string;
  dims: number;
  rateHz?: TrackerClockOptions['rateHz'];
  latencyMs?: TrackerClockOptions['latencyMs'];
  clock?: TrackerClockOptions['clock'];
  /** Host clock for arrival stamps. Default `monotonicMs`. */
  now?: () => number;
}

type Count = 'samples' | 'receiveErrors' | 'badTime' | 'badFrames' | 'short' | 'bad_version' | 'bad_flags' | 'bad_dims' | 'bad_length' | 'seqGaps' | 'seqRestarts';

export class ZmqTracker implements TrackerFeed {
  readonly name: string;
  readonly dims: number;
  readonly endpoint: string;
  readonly #sock: Subscriber;
  readonly #clock: TrackerClock;
  readonly #now: () => number;
  // An array, not a Set: iterating it per sample allocates no iterator.
  #listeners: TrackerListener[] = [];
  readonly #msg: TrackerWireMessage;
  readonly #sample: TrackerSample;
  readonly #counts: Record<Count, number> = {
    samples: 0, receiveErrors: 0, badTime: 0, badFrames: 0, short: 0, bad_version: 0, bad_flags: 0, bad_dims: 0, bad_length: 0, seqGaps: 0, seqRestarts: 0,
  };
  #lastSeq = -1;
  #loop: Promise<void> = Promise.resolve();
  #loopError: unknown = null;

  private constructor(opts: ZmqTrackerOptions) {
    if (!Number.isInteger(opts.dims) || opts.dims < 1 || opts.dims > 256) throw new RangeError('"dims" must be an integer in 1..256');
    this.name = opts.name ?? `zmq:${opts.endpoint}`;
    this.dims = opts.dims;
    this.endpoint = opts.endpoint;
    this.#sock = new Subscriber();
    this.#clock = new TrackerClock({ name: this.name, rateHz: opts.rateHz, latencyMs: opts.latencyMs, clock: opts.now ? { ...opts.clock, now: opts.now } : opts.clock });
    this.#now = opts.now ?? monotonicMs;
    const values = new Float32Array(opts.dims);
    this.#msg = { flags: 0, seq: 0, timeUs: Number.NaN, values };
    this.#sample = { hostTimeMs: Number.NaN, values, valid: false, seq: 0 };
  }

  /** Create the socket, connect or bind, subscribe and start receiving. */
  static async open(opts: ZmqTrackerOptions): Promise<ZmqTracker> {
    const feed = new ZmqTracker(opts);
    // Do not hold the process open for unsent nothing: SUB sends only subscriptions.
    feed.#sock.linger = 0;
    if (opts.bind) await feed.#sock.bind(opts.endpoint);
    else feed.#sock.connect(opts.endpoint);
    feed.#sock.subscribe(opts.topic ?? 'tracker');
    feed.#loop = feed.#receive();
    return feed;
  }

  onSample(listener: TrackerListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  counters(): Record<string, number> {
    return { ...this.#counts };
  }

  clockStatus(): ClockStatus | null {
    return this.#clock.status();
  }

  /** Close the socket; resolves when the receive loop has ended. Rethrows a receive error if one ended it. */
  async close(): Promise<void> {
    if (!this.#sock.closed) this.#sock.close();
    await this.#loop;
    if (this.#loopError) throw this.#loopError;
  }

  async #receive(): Promise<void> {
    try {
      for await (const frames of this.#sock) {
        this.#handle(frames, this.#now());
      }
    } catch (err) {
      // Closing the socket mid-receive may end iteration with an error: only others count. The feed
      // is dead after one (counted now, thrown from close()); its owner sees samples stop (staleness).
      if (!this.#sock.closed) {
        this.#counts.receiveErrors++;
        this.#loopError = err;
      }
    }
  }

  #handle(frames: Buffer[], arrivalMs: number): void {
    if (frames.length !== 2) {
      this.#counts.badFrames++;
      return;
    }
    const err = decodeTrackerMessage(frames[1]!, this.#msg);
    if (err) {
      this.#counts[err]++;
      return;
    }
    const m = this.#msg;
    if (this.#lastSeq >= 0 && m.seq !== ((this.#lastSeq + 1) >>> 0)) {
      if ((m.seq === 0 && this.#lastSeq > 0) || (m.seq < this.#lastSeq && this.#lastSeq - m.seq > 1000)) {
        // The sender restarted: its clock (and counter) began again.
        this.#counts.seqRestarts++;
        this.#clock.reseed();
      } else {
        this.#counts.seqGaps++;
      }
    }
    this.#lastSeq = m.seq;
    const kind = Number.isNaN(m.timeUs) ? 'none' : m.flags & FLAG_HOST_CLOCK ? 'host' : 'sender';
    const t = this.#clock.map(kind, m.timeUs, m.seq, arrivalMs);
    if (Number.isNaN(t)) {
      this.#counts.badTime++;
      return;
    }
    const s = this.#sample;
    s.hostTimeMs = t;
    s.seq = m.seq;
    s.valid = (m.flags & FLAG_INVALID) === 0;
    for (let d = 0; d < this.dims && s.valid; d++) if (!Number.isFinite(s.values[d]!)) s.valid = false;
    this.#counts.samples++;
    const ls = this.#listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(s);
  }
}
