/**
 * Staleness: a stream that stops delivering is reported stale after `staleAfterMs`, and fresh
 * again on its next sample. The clock is injectable so tests drive time by hand.
 *
 * `StalenessWatch.check()` is cheap and allocation-free when nothing changes; call it from a
 * timer (`start(intervalMs)`) or from a loop that already runs.
 */
import { EventEmitter } from 'node:events';
import { monotonicMs } from './monotonic.js';

export interface StalenessOptions {
  /** Silence longer than this makes the stream stale, ms. */
  staleAfterMs: number;
  /** Host clock, ms. Default `monotonicMs`. */
  now?: () => number;
}

/** One stream's freshness. */
export class Staleness {
  readonly staleAfterMs: number;
  readonly #now: () => number;
  #lastMs = Number.NaN;

  constructor(opts: StalenessOptions) {
    if (!(opts.staleAfterMs > 0)) throw new RangeError('"staleAfterMs" must be > 0');
    this.staleAfterMs = opts.staleAfterMs;
    this.#now = opts.now ?? monotonicMs;
  }

  /** The stream delivered something (at `atMs`, default now). */
  touch(atMs?: number): void {
    const t = atMs ?? this.#now();
    if (!(t <= this.#lastMs)) this.#lastMs = t;
  }

  /** Host time of the newest delivery, NaN if never. */
  get lastMs(): number {
    return this.#lastMs;
  }

  /** ms since the newest delivery (Infinity if never). */
  silenceMs(nowMs = this.#now()): number {
    return Number.isNaN(this.#lastMs) ? Number.POSITIVE_INFINITY : nowMs - this.#lastMs;
  }

  /** A stream that never delivered is stale. */
  isStale(nowMs = this.#now()): boolean {
    return this.silenceMs(nowMs) > this.staleAfterMs;
  }
}

export interface StalenessWatchEvents {
  stale: [name: string, silenceMs: number];
  fresh: [name: string];
}

/**
 * Several named streams; emits 'stale' once when a stream goes quiet and 'fresh' once when it
 * comes back. A stream starts "not yet seen" and is not reported until it has delivered once,
 * unless `reportNeverSeen` is set.
 */
export class StalenessWatch extends EventEmitter<StalenessWatchEvents> {
  readonly #now: () => number;
  readonly #defaultMs: number;
  readonly #reportNever: boolean;
  readonly #streams = new Map<string, { s: Staleness; stale: boolean }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: StalenessOptions & { reportNeverSeen?: boolean }) {
    super();
    if (!(opts.staleAfterMs > 0)) throw new RangeError('"staleAfterMs" must be > 0');
    this.#now = opts.now ?? monotonicMs;
    this.#defaultMs = opts.staleAfterMs;
    this.#reportNever = opts.reportNeverSeen ?? false;
  }

  /** Register a stream (optionally with its own limit); returns its tracker for `touch()`. */
  add(name: string, staleAfterMs = this.#defaultMs): Staleness {
    const existing = this.#streams.get(name);
    if (existing) return existing.s;
    const s = new Staleness({ staleAfterMs, now: this.#now });
    this.#streams.set(name, { s, stale: false });
    return s;
  }

  touch(name: string, atMs?: number): void {
    const e = this.#streams.get(name);
    if (!e) throw new RangeError(`unknown stream "${name}": call add("${name}") first`);
    e.s.touch(atMs);
  }

  isStale(name: string): boolean {
    const e = this.#streams.get(name);
    if (!e) throw new RangeError(`unknown stream "${name}": call add("${name}") first`);
    return e.s.isStale();
  }

  /** Compare every stream against now; emits transitions. Returns how many are stale. */
  check(): number {
    const now = this.#now();
    let count = 0;
    for (const [name, e] of this.#streams) {
      const never = Number.isNaN(e.s.lastMs);
      const stale = e.s.isStale(now) && (this.#reportNever || !never);
      if (stale) count++;
      if (stale !== e.stale) {
        e.stale = stale;
        if (stale) this.emit('stale', name, e.s.silenceMs(now));
        else this.emit('fresh', name);
      }
    }
    return count;
  }

  /** Check on a timer (unref'd: it never keeps the process alive). */
  start(intervalMs = 100): void {
    this.stop();
    this.#timer = setInterval(() => this.check(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
