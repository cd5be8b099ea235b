/**
 * RoundRobinMux: one item from each streamer in turn; a streamer that ends drops out of the
 * rotation. Modes: 'exhaustive' ends when all have ended; 'cycle' restarts them all in the
 * same order; 'permuted_cycle' restarts them in a new random order each round.
 * A round that yields no item at all ends the mux (pescador would spin forever).
 */
import { ConfigError } from '../core/errors.js';
import { StreamCodes } from './errors.js';
import { Mux, checkPool, type MuxPolicy, type Opener } from './mux-core.js';
import { Rng } from './rng.js';
import type { Source } from './types.js';

export type RoundRobinMode = 'exhaustive' | 'cycle' | 'permuted_cycle';
const MODES: readonly RoundRobinMode[] = ['exhaustive', 'cycle', 'permuted_cycle'];

export interface RoundRobinMuxOptions {
  mode?: RoundRobinMode;
  seed?: number;
  rng?: Rng;
}

export class RoundRobinMux<T> extends Mux<T> {
  readonly pool: readonly Source<T>[];
  readonly mode: RoundRobinMode;
  readonly rng: Rng;

  constructor(pool: readonly Source<T>[], opts: RoundRobinMuxOptions = {}) {
    super();
    checkPool(pool, 'RoundRobinMux');
    const mode = opts.mode ?? 'exhaustive';
    if (!MODES.includes(mode)) throw new ConfigError(StreamCodes.mode, `RoundRobinMux: mode must be one of ${MODES.join(', ')}; got "${String(mode)}"`);
    this.pool = pool.slice();
    this.mode = mode;
    this.rng = opts.rng ?? new Rng(opts.seed ?? 0x5eed);
  }

  protected sources(): Iterable<Source<T>> {
    return this.pool;
  }

  protected policy<I>(open: Opener<T, I>): MuxPolicy<I> {
    return new RoundRobinPolicy(this, open);
  }
}

class RoundRobinPolicy<T, I> implements MuxPolicy<I> {
  readonly iters: (I | null)[];
  readonly counts: Float64Array;
  readonly #mux: RoundRobinMux<T>;
  readonly #open: Opener<T, I>;
  /** Slot -> pool index for the current round. */
  readonly #order: Int32Array;
  #cursor = 0;
  #live = 0;
  #roundItems = 0;
  #ended = false;

  constructor(mux: RoundRobinMux<T>, open: Opener<T, I>) {
    const n = mux.pool.length;
    this.#mux = mux;
    this.#open = open;
    this.iters = new Array<I | null>(n).fill(null);
    this.counts = new Float64Array(n);
    this.#order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.#order[i] = i;
    this.#round(false);
  }

  available(): boolean {
    return !this.#ended && this.#live > 0;
  }

  nextSlot(): number {
    const n = this.iters.length;
    let slot = this.#cursor;
    while (this.iters[slot] === null) slot = slot + 1 === n ? 0 : slot + 1;
    this.#cursor = slot + 1 === n ? 0 : slot + 1;
    this.#roundItems++; // counted optimistically; undone in exhausted()
    return slot;
  }

  exhausted(_slot: number): void {
    this.#roundItems--;
    this.#live--;
    if (this.#live > 0 || this.#mux.mode === 'exhaustive') return;
    if (this.#roundItems === 0) {
      this.#ended = true;
      return;
    }
    this.#round(this.#mux.mode === 'permuted_cycle');
  }

  #round(permute: boolean): void {
    if (permute) this.#mux.rng.shuffle(this.#order);
    const n = this.iters.length;
    for (let slot = 0; slot < n; slot++) {
      this.iters[slot] = this.#open(this.#mux.pool[this.#order[slot]!]!, undefined);
      this.counts[slot] = 0;
    }
    this.#live = n;
    this.#cursor = 0;
    this.#roundItems = 0;
  }
}
