/**
 * How much control work a runtime accepts: token buckets per peer and across all peers, by
 * lane, so that no rate of requests from any number of peers can take the main thread from
 * ingest and telemetry. Pure bookkeeping on an injected clock; the server applies it.
 *
 * Lanes:
 * - `safety` (`estop`): never refused for rate. Stopping must always get through.
 * - `priority` (`release`, `stop`): buckets of their own, so a flood of `status` or `set`
 *   (from one peer or many) never starves them. The per-peer bucket is small, so one peer
 *   repeating `release` cannot use up the lane for the others.
 * - `ordinary` (everything else): a per-peer bucket and one global bucket; the global one
 *   bounds the total even when a peer reconnects under new routing ids.
 */
import { ConfigError } from '../core/errors.js';
import { CoreCodes } from '../core/codes.js';

/** A sustained rate with a burst allowance. */
export interface RateLimit {
  /** Requests per second, sustained. */
  perSecond: number;
  /** Requests accepted at once after a quiet period (the bucket's size). */
  burst: number;
}

export type Lane = 'safety' | 'priority' | 'ordinary';

/** Which lane a command travels in (unknown commands are ordinary). */
export function laneOf(cmd: string): Lane {
  if (cmd === 'estop') return 'safety';
  if (cmd === 'release' || cmd === 'stop') return 'priority';
  return 'ordinary';
}

export interface ControlBudgetOptions {
  /**
   * Messages read from the socket, whatever they are (default 1000/s, burst 200). Past this
   * the server stops reading for a moment: requests wait in ZeroMQ's queues and a flooding
   * client's own sends back up, so the main thread's share spent on control stays bounded.
   */
  reads?: RateLimit;
  /** Ordinary commands one peer may send (default 50/s, burst 100). */
  peer?: RateLimit;
  /** Ordinary commands from all peers together (default 200/s, burst 200). */
  global?: RateLimit;
  /** `release` and `stop` from one peer (default 2/s, burst 4). */
  priorityPeer?: RateLimit;
  /** `release` and `stop` from all peers together (default 20/s, burst 20). */
  priorityGlobal?: RateLimit;
  /** Peers remembered at once; the least recently seen is forgotten first (default 1024). */
  maxPeers?: number;
  /** Monotonic milliseconds (default performance.now); tests pass a fake clock. */
  now?: () => number;
}

export const DEFAULT_BUDGET = {
  reads: { perSecond: 1000, burst: 200 },
  peer: { perSecond: 50, burst: 100 },
  global: { perSecond: 200, burst: 200 },
  priorityPeer: { perSecond: 2, burst: 4 },
  priorityGlobal: { perSecond: 20, burst: 20 },
  maxPeers: 1024,
} as const satisfies Required<Omit<ControlBudgetOptions, 'now'>>;

function checkLimit(name: string, l: RateLimit): RateLimit {
  if (!(Number.isFinite(l.perSecond) && l.perSecond > 0))
    throw new ConfigError(CoreCodes.config, `control ${name}.perSecond must be a positive number, got ${l.perSecond}`);
  if (!(Number.isFinite(l.burst) && l.burst >= 1)) throw new ConfigError(CoreCodes.config, `control ${name}.burst must be at least 1, got ${l.burst}`);
  return { perSecond: l.perSecond, burst: l.burst };
}

/** A token bucket: starts full, refills continuously at `perSecond`, holds at most `burst`. */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;

  constructor(limit: RateLimit, nowMs: number) {
    this.#perMs = limit.perSecond / 1000;
    this.#burst = limit.burst;
    this.#tokens = limit.burst;
    this.#lastMs = nowMs;
  }

  /** True when a token is there to take. */
  ready(nowMs: number): boolean {
    this.#refill(nowMs);
    return this.#tokens >= 1;
  }

  /** Milliseconds until a token is there (0: now). */
  msUntilToken(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#perMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(nowMs: number): void {
    const dt = nowMs - this.#lastMs;
    if (dt > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + dt * this.#perMs);
      this.#lastMs = nowMs;
    }
  }
}

/** Why a request was refused: its peer's own rate, or the rate across all peers. */
export type Refusal = 'peer' | 'global';

interface PeerBuckets {
  ordinary: TokenBucket;
  priority: TokenBucket;
}

export class ControlBudget {
  readonly limits: { reads: RateLimit; peer: RateLimit; global: RateLimit; priorityPeer: RateLimit; priorityGlobal: RateLimit; maxPeers: number };
  readonly #now: () => number;
  readonly #reads: TokenBucket;
  readonly #global: TokenBucket;
  readonly #priorityGlobal: TokenBucket;
  /** Insertion order is recency: a peer is moved to the end each time it is seen. */
  readonly #peers = new Map<string, PeerBuckets>();

  constructor(opts: ControlBudgetOptions = {}) {
    this.#now = opts.now ?? (() => performance.now());
    const maxPeers = opts.maxPeers ?? DEFAULT_BUDGET.maxPeers;
    if (!Number.isInteger(maxPeers) || maxPeers < 1) throw new ConfigError(CoreCodes.config, `control maxPeers must be a positive integer, got ${maxPeers}`);
    this.limits = {
      reads: checkLimit('reads', opts.reads ?? DEFAULT_BUDGET.reads),
      peer: checkLimit('peer', opts.peer ?? DEFAULT_BUDGET.peer),
      global: checkLimit('global', opts.global ?? DEFAULT_BUDGET.global),
      priorityPeer: checkLimit('priorityPeer', opts.priorityPeer ?? DEFAULT_BUDGET.priorityPeer),
      priorityGlobal: checkLimit('priorityGlobal', opts.priorityGlobal ?? DEFAULT_BUDGET.priorityGlobal),
      maxPeers,
    };
    const t = this.#now();
    this.#reads = new TokenBucket(this.limits.reads, t);
    this.#global = new TokenBucket(this.limits.global, t);
    this.#priorityGlobal = new TokenBucket(this.limits.priorityGlobal, t);
  }

  /** Peers currently remembered. */
  get peers(): number {
    return this.#peers.size;
  }

  /** Takes a token to read one message: 0 to read now, else the milliseconds until one is there. */
  readDelayMs(): number {
    const now = this.#now();
    return this.#reads.take(now) ? 0 : Math.max(this.#reads.msUntilToken(now), 0.001);
  }

  /**
   * Whether `peer` may run `cmd` now: undefined to go ahead, or why not. The peer's own
   * bucket is checked first, so a peer over its own rate does not use up the global one.
   */
  admit(peer: string, cmd: string): Refusal | undefined {
    const lane = laneOf(cmd);
    if (lane === 'safety') return undefined;
    const now = this.#now();
    const buckets = this.#peer(peer, now);
    const own = lane === 'priority' ? buckets.priority : buckets.ordinary;
    if (!own.ready(now)) return 'peer';
    // A refusal for the global rate costs the peer nothing of its own.
    if (!(lane === 'priority' ? this.#priorityGlobal : this.#global).take(now)) return 'global';
    own.take(now);
    return undefined;
  }

  #peer(id: string, now: number): PeerBuckets {
    let b = this.#peers.get(id);
    if (b) {
      this.#peers.delete(id);
    } else {
      this.#forget();
      b = { ordinary: new TokenBucket(this.limits.peer, now), priority: new TokenBucket(this.limits.priorityPeer, now) };
    }
    this.#peers.set(id, b);
    return b;
  }

  /**
   * Makes room for a new peer by forgetting the least recently seen one. It starts again
   * with full buckets if it comes back, which the global buckets still bound (as they bound
   * a peer reconnecting under a new routing id).
   */
  #forget(): void {
    if (this.#peers.size < this.limits.maxPeers) return;
    const oldest = this.#peers.keys().next();
    if (!oldest.done) this.#peers.delete(oldest.value);
  }
}

/**
 * Bounds the control messages handled in one turn of the event loop: after `messages`
 * messages or `ms` milliseconds the server waits for the next turn (setImmediate), so
 * serial ingest, timers and telemetry run between batches however fast requests arrive.
 */
export interface TurnBudgetOptions {
  /** Messages per turn (default 32). */
  messages?: number;
  /** Milliseconds per turn (default 2). */
  ms?: number;
  now?: () => number;
  /** Runs `fn` at the start of the next turn (default setImmediate). */
  schedule?: (fn: () => void) => void;
}

export class TurnBudget {
  readonly messages: number;
  readonly ms: number;
  readonly #now: () => number;
  readonly #schedule: (fn: () => void) => void;
  #count = 0;
  #startMs = 0;
  #armed = false;
  readonly #reset = (): void => {
    this.#count = 0;
    this.#armed = false;
  };

  constructor(opts: TurnBudgetOptions = {}) {
    this.messages = opts.messages ?? 32;
    this.ms = opts.ms ?? 2;
    if (!Number.isInteger(this.messages) || this.messages < 1)
      throw new ConfigError(CoreCodes.config, `control turn budget must be at least 1 message, got ${this.messages}`);
    if (!(Number.isFinite(this.ms) && this.ms > 0))
      throw new ConfigError(CoreCodes.config, `control turn budget must be a positive number of ms, got ${this.ms}`);
    this.#now = opts.now ?? (() => performance.now());
    this.#schedule = opts.schedule ?? ((fn) => setImmediate(fn));
  }

  /**
   * Counts one message; true when the turn's budget is spent and the caller must yield.
   * The count restarts by itself whenever the event loop gets to its next turn, so a
   * server that is idle between messages never yields needlessly.
   */
  spend(): boolean {
    if (!this.#armed) {
      this.#armed = true;
      this.#startMs = this.#now();
      this.#schedule(this.#reset);
    }
    this.#count++;
    return this.#count >= this.messages || this.#now() - this.#startMs >= this.ms;
  }
}
