/**
 * ZeroMQ tracker feed: a SUB socket receiving two-frame messages `[topic, payload]` from a
 * workstation or mocap bridge (docs/tracker.md, "ZeroMQ messages"; payload in wire.ts).
 * By default Reflex connects to the sender's PUB; `bind: true` lets several senders connect to us.
 * A bad endpoint is refused by `open()` with a ConfigError (`E_TRACKER_ENDPOINT`) saying why.
 */
import { lookup } from 'node:dns/promises';
import { Subscriber } from 'zeromq';
import { ConfigError, DisconnectedError } from '../../core/errors.js';
import { Listeners } from '../../core/listeners.js';
import { monotonicMs } from '../../time/monotonic.js';
import type { ClockStatus } from '../../time/clock-model.js';
import { TrackerClock, type TrackerClockOptions } from './clock.js';
import { endpointOpenProblem, needsLookup, parseTrackerEndpoint } from './endpoint.js';
import { decodeTrackerMessage, FLAG_HOST_CLOCK, FLAG_INVALID, type TrackerWireMessage } from './wire.js';
import {
  TRACKER_MAX_DIMS,
  type TrackerFeed,
  type TrackerLinkEvent,
  type TrackerLinkListener,
  type TrackerListener,
  type TrackerSample,
  type TrackerTimeBase,
} from './types.js';
import { TrackerCodes } from './codes.js';

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
  /** How errors name the endpoint, e.g. the configuration key "tracker.endpoint". Default "endpoint". */
  errorKey?: string;
  /** A connect to a host name resolves it first and gives up after this long, ms. Default 5000. */
  lookupTimeoutMs?: number;
}

type Count =
  | 'samples'
  | 'connects'
  | 'disconnects'
  | 'receiveErrors'
  | 'badTime'
  | 'badFrames'
  | 'short'
  | 'bad_version'
  | 'bad_flags'
  | 'bad_dims'
  | 'bad_length'
  | 'seqGaps'
  | 'seqRestarts';

export class ZmqTracker implements TrackerFeed {
  readonly name: string;
  readonly dims: number;
  readonly endpoint: string;
  readonly #sock: Subscriber;
  readonly #clock: TrackerClock;
  readonly #now: () => number;
  readonly #listeners = new Listeners<TrackerSample>();
  readonly #linkListeners = new Listeners<TrackerLinkEvent>();
  readonly #msg: TrackerWireMessage;
  readonly #sample: TrackerSample;
  readonly #counts: Record<Count, number> = {
    samples: 0,
    connects: 0,
    disconnects: 0,
    receiveErrors: 0,
    badTime: 0,
    badFrames: 0,
    short: 0,
    bad_version: 0,
    bad_flags: 0,
    bad_dims: 0,
    bad_length: 0,
    seqGaps: 0,
    seqRestarts: 0,
  };
  #lastSeq = -1;
  #loop: Promise<void> = Promise.resolve();
  #loopError: Error | null = null;

  private constructor(opts: ZmqTrackerOptions) {
    if (!Number.isInteger(opts.dims) || opts.dims < 1 || opts.dims > TRACKER_MAX_DIMS)
      throw new RangeError(`"dims" must be an integer in 1..${TRACKER_MAX_DIMS}`);
    this.name = opts.name ?? `zmq:${opts.endpoint}`;
    this.dims = opts.dims;
    this.endpoint = opts.endpoint;
    this.#sock = new Subscriber();
    this.#clock = new TrackerClock({
      name: this.name,
      rateHz: opts.rateHz,
      latencyMs: opts.latencyMs,
      clock: opts.now ? { ...opts.clock, now: opts.now } : opts.clock,
    });
    this.#now = opts.now ?? monotonicMs;
    const values = new Float32Array(opts.dims);
    this.#msg = { flags: 0, seq: 0, timeUs: Number.NaN, values };
    this.#sample = { hostTimeMs: Number.NaN, values, valid: false, seq: 0 };
  }

  /**
   * Create the socket, connect or bind, subscribe and start receiving. Rejects with a ConfigError
   * (`E_TRACKER_ENDPOINT`, naming `errorKey`) when the endpoint is malformed, its host does not
   * resolve (connect), or it cannot be bound (in use, not this machine's, no such directory).
   */
  static async open(opts: ZmqTrackerOptions): Promise<ZmqTracker> {
    const bind = opts.bind ?? false;
    const refuse = (problem: string, cause?: unknown): ConfigError =>
      new ConfigError(TrackerCodes.endpoint, `"${opts.errorKey ?? 'endpoint'}" ${opts.endpoint} ${problem}`, { cause });
    const parsed = parseTrackerEndpoint(opts.endpoint, bind);
    if (typeof parsed === 'string') throw refuse(parsed);
    // libzmq resolves a connect's host in the background and retries forever: a misspelt host
    // would look like a silent sender. Resolve it once here so the run refuses it instead.
    if (!bind && needsLookup(parsed))
      await resolveOnce(parsed.host, opts.lookupTimeoutMs ?? 5000).catch((err: unknown) => {
        throw refuse(endpointOpenProblem(err, bind), err);
      });
    const feed = new ZmqTracker(opts);
    // Do not hold the process open for unsent nothing: SUB sends only subscriptions.
    feed.#sock.linger = 0;
    const ev = feed.#sock.events;
    ev.on('connect', (e) => feed.#link('connected', e.address));
    ev.on('accept', (e) => feed.#link('connected', e.address));
    ev.on('disconnect', (e) => feed.#link('disconnected', e.address));
    try {
      if (bind) await feed.#sock.bind(opts.endpoint);
      else feed.#sock.connect(opts.endpoint);
    } catch (err) {
      feed.#sock.close();
      throw refuse(endpointOpenProblem(err, bind), err);
    }
    feed.#sock.subscribe(opts.topic ?? 'tracker');
    feed.#loop = feed.#receive();
    return feed;
  }

  /** The endpoint actually bound or connected (a bound `*` port resolved). */
  get lastEndpoint(): string {
    return this.#sock.lastEndpoint ?? this.endpoint;
  }

  onSample(listener: TrackerListener): () => void {
    return this.#listeners.add(listener);
  }

  onLink(listener: TrackerLinkListener): () => void {
    return this.#linkListeners.add(listener);
  }

  counters(): Record<string, number> {
    return { ...this.#counts };
  }

  clockStatus(): ClockStatus | null {
    return this.#clock.status();
  }

  timeBase(): TrackerTimeBase | null {
    return this.#clock.timeBase;
  }

  #link(kind: TrackerLinkEvent['kind'], address: string): void {
    if (this.#sock.closed) return;
    this.#counts[kind === 'connected' ? 'connects' : 'disconnects']++;
    const e: TrackerLinkEvent = { kind, address };
    this.#linkListeners.emit(e);
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
        this.#loopError =
          err instanceof Error
            ? err
            : new DisconnectedError(`tracker feed ${this.endpoint}: receiving failed (see cause); open the feed again`, { cause: err });
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
    if (this.#lastSeq >= 0 && m.seq !== (this.#lastSeq + 1) >>> 0) {
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
    this.#listeners.emit(s);
  }
}

/** Resolve `host` once; rejects with the DNS error, or an ETIMEOUT one after `timeoutMs`. */
async function resolveOnce(host: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no DNS answer for ${host} within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
  });
  try {
    await Promise.race([lookup(host), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
