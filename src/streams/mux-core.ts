/**
 * What every mux shares: a per-pass *policy* (which slot to pull next, what to do when a
 * slot's stream ends) and two drivers that run it synchronously or asynchronously.
 *
 * The policy is written once against an `open(source, maxIter)` callback, so the same
 * selection logic backs `iterate()` and `iterateSync()`. Drivers pass the sources' result
 * objects through untouched: the mux loop allocates nothing per item (the async driver's
 * own `next()` promise is what the async protocol costs).
 */
import { ConfigError } from '../core/errors.js';
import { StreamCodes, checkMaxIter } from './errors.js';
import { CycleAsyncIterator, CycleSyncIterator, DONE } from './iterators.js';
import { isSyncSource, type Source, type SyncSource } from './types.js';

/** Open a fresh pass over `source`, bounded to `maxIter` items when given. */
export type Opener<T, I> = (source: Source<T>, maxIter: number | undefined) => I;

/** Per-pass selection state. `iters[slot]` is null for an empty slot. */
export interface MuxPolicy<I> {
  readonly iters: (I | null)[];
  /** Items drawn from each slot since its stream was (re)opened. */
  readonly counts: Float64Array;
  available(): boolean;
  nextSlot(): number;
  /** The stream in `slot` ended: prune, revive, replace or empty the slot. */
  exhausted(slot: number): void;
}

export abstract class Mux<T> implements SyncSource<T> {
  /** Build a fresh policy for one pass. */
  protected abstract policy<I>(open: Opener<T, I>): MuxPolicy<I>;
  /** The sources a sync pass will open (to check up front that they can all run sync). */
  protected abstract sources(): Iterable<Source<T>>;

  iterate(maxIter?: number): AsyncIterableIterator<T> {
    const max = checkMaxIter(maxIter);
    return new AsyncMuxIterator<T>(
      this.policy<AsyncIterator<T>>((s, n) => s.iterate(n)),
      max,
    );
  }

  iterateSync(maxIter?: number): IterableIterator<T> {
    const max = checkMaxIter(maxIter);
    for (const s of this.sources()) {
      if (!isSyncSource(s)) throw notSync();
    }
    return new SyncMuxIterator<T>(this.policy<Iterator<T>>(openSync), max);
  }

  /** Restart the whole mux each time it ends; an empty pass throws E_STREAM_EMPTY_CYCLE. */
  cycle(maxIter?: number): AsyncIterableIterator<T> {
    return new CycleAsyncIterator(() => this.iterate(), checkMaxIter(maxIter));
  }

  cycleSync(maxIter?: number): IterableIterator<T> {
    return new CycleSyncIterator(() => this.iterateSync(), checkMaxIter(maxIter));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this.iterate();
  }
}

function openSync<T>(s: Source<T>, n: number | undefined): Iterator<T> {
  if (!isSyncSource(s)) throw notSync();
  return s.iterateSync(n);
}

function notSync(): ConfigError {
  return new ConfigError(StreamCodes.notSync, 'iterateSync(): every muxed source needs iterateSync (a Streamer or a Mux); use iterate() instead');
}

export class SyncMuxIterator<T> implements IterableIterator<T> {
  #p: MuxPolicy<Iterator<T>> | null;
  #left: number;
  constructor(policy: MuxPolicy<Iterator<T>>, max: number) {
    this.#p = policy;
    this.#left = max;
  }
  next(): IteratorResult<T> {
    const p = this.#p;
    if (p === null) return DONE;
    try {
      while (this.#left > 0 && p.available()) {
        const slot = p.nextSlot();
        const r = p.iters[slot]!.next();
        if (r.done !== true) {
          this.#left--;
          p.counts[slot]!++;
          return r;
        }
        p.iters[slot] = null; // ended by itself: nothing to close
        p.exhausted(slot);
      }
    } catch (err) {
      this.return();
      throw err;
    }
    return this.return();
  }
  return(): IteratorResult<T> {
    const p = this.#p;
    this.#p = null;
    if (p !== null) {
      for (let i = 0; i < p.iters.length; i++) {
        const it = p.iters[i];
        p.iters[i] = null;
        it?.return?.();
      }
    }
    return DONE;
  }
  [Symbol.iterator](): this {
    return this;
  }
}

export class AsyncMuxIterator<T> implements AsyncIterableIterator<T> {
  #p: MuxPolicy<AsyncIterator<T>> | null;
  #left: number;
  constructor(policy: MuxPolicy<AsyncIterator<T>>, max: number) {
    this.#p = policy;
    this.#left = max;
  }
  async next(): Promise<IteratorResult<T>> {
    const p = this.#p;
    if (p === null) return DONE;
    try {
      while (this.#left > 0 && p.available()) {
        const slot = p.nextSlot();
        const r = await p.iters[slot]!.next();
        if (r.done !== true) {
          this.#left--;
          p.counts[slot]!++;
          return r;
        }
        p.iters[slot] = null;
        p.exhausted(slot);
      }
    } catch (err) {
      await this.return();
      throw err;
    }
    return this.return();
  }
  async return(): Promise<IteratorResult<T>> {
    const p = this.#p;
    this.#p = null;
    if (p !== null) {
      const closing: Promise<unknown>[] = [];
      for (let i = 0; i < p.iters.length; i++) {
        const it = p.iters[i];
        p.iters[i] = null;
        const r = it?.return?.();
        if (r) closing.push(r);
      }
      await Promise.all(closing);
    }
    return DONE;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

export function checkPool<T>(pool: readonly Source<T>[], what: string): void {
  if (!Array.isArray(pool) || pool.length === 0) {
    throw new ConfigError(StreamCodes.emptyPool, `${what}: the pool of streamers is empty; give at least one`);
  }
  for (const s of pool) {
    if (s == null || typeof (s as Partial<Source<T>>).iterate !== 'function') {
      throw new ConfigError(StreamCodes.notIterable, `${what}: every pool entry must be a Streamer or a Mux (something with iterate())`);
    }
  }
}

/** Validated, copied weights: finite, >= 0, not all zero, one per pool entry. */
export function checkWeights(weights: ArrayLike<number> | undefined, n: number, what: string): Float64Array {
  const out = new Float64Array(n);
  if (weights === undefined) return out.fill(1);
  if (weights.length !== n) {
    throw new ConfigError(StreamCodes.weights, `${what}: ${weights.length} weights for ${n} streamers; give one weight per streamer`);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w)) {
      throw new ConfigError(StreamCodes.weights, `${what}: weight ${i} is ${w}; weights must be finite and >= 0`);
    }
    out[i] = w;
    sum += w;
  }
  if (!(sum > 0)) throw new ConfigError(StreamCodes.weights, `${what}: weights sum to zero; at least one streamer needs a positive weight`);
  return out;
}

/** Index i with cum[i-1] <= u < cum[i] (cum ascending, cum[n-1] = total > u >= 0); skips zero-width entries. */
export function searchCumulative(cum: Float64Array, n: number, u: number): number {
  if (n <= 8) {
    for (let i = 0; i < n; i++) if (u < cum[i]!) return i;
  } else {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < cum[mid]!) hi = mid;
      else lo = mid + 1;
    }
    if (u < cum[lo]!) return lo;
  }
  // u rounded up to the total: take the last entry with weight.
  for (let i = n - 1; i > 0; i--) if (cum[i]! > cum[i - 1]!) return i;
  return 0;
}
