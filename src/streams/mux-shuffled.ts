/**
 * ShuffledMux: every streamer is active at once; each item comes from one drawn by weight.
 * A stream that ends is restarted; one that ends without producing an item is switched off.
 * The mux ends when every streamer is switched off, so over non-empty streamers it is infinite.
 */
import { Mux, checkPool, checkWeights, searchCumulative, type MuxPolicy, type Opener } from './mux-core.js';
import { Rng } from './rng.js';
import type { Source } from './types.js';

export interface ShuffledMuxOptions {
  /** Relative pull probability per streamer (default uniform). */
  weights?: ArrayLike<number>;
  seed?: number;
  rng?: Rng;
}

export class ShuffledMux<T> extends Mux<T> {
  readonly pool: readonly Source<T>[];
  readonly weights: Float64Array;
  readonly rng: Rng;

  constructor(pool: readonly Source<T>[], opts: ShuffledMuxOptions = {}) {
    super();
    checkPool(pool, 'ShuffledMux');
    this.pool = pool.slice();
    this.weights = checkWeights(opts.weights, pool.length, 'ShuffledMux');
    this.rng = opts.rng ?? new Rng(opts.seed ?? 0x5eed);
  }

  protected sources(): Iterable<Source<T>> {
    return this.pool;
  }

  protected policy<I>(open: Opener<T, I>): MuxPolicy<I> {
    return new ShuffledPolicy(this, open);
  }
}

class ShuffledPolicy<T, I> implements MuxPolicy<I> {
  readonly iters: (I | null)[];
  readonly counts: Float64Array;
  readonly #mux: ShuffledMux<T>;
  readonly #open: Opener<T, I>;
  readonly #weight: Float64Array;
  readonly #cum: Float64Array;
  #total = 0;

  constructor(mux: ShuffledMux<T>, open: Opener<T, I>) {
    const n = mux.pool.length;
    this.#mux = mux;
    this.#open = open;
    this.iters = new Array<I | null>(n).fill(null);
    this.counts = new Float64Array(n);
    this.#weight = Float64Array.from(mux.weights);
    this.#cum = new Float64Array(n);
    for (let i = 0; i < n; i++) if (this.#weight[i]! > 0) this.iters[i] = open(mux.pool[i]!, undefined);
    this.#rebuild();
  }

  available(): boolean {
    return this.#total > 0;
  }

  nextSlot(): number {
    return searchCumulative(this.#cum, this.#cum.length, this.#mux.rng.random() * this.#total);
  }

  exhausted(slot: number): void {
    if (this.counts[slot] === 0) {
      this.#weight[slot] = 0;
      this.#rebuild();
      return;
    }
    this.counts[slot] = 0;
    this.iters[slot] = this.#open(this.#mux.pool[slot]!, undefined);
  }

  #rebuild(): void {
    let acc = 0;
    for (let i = 0; i < this.#cum.length; i++) {
      acc += this.#weight[i]!;
      this.#cum[i] = acc;
    }
    this.#total = acc;
  }
}
