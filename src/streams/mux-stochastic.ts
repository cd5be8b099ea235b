/**
 * StochasticMux: keep `k` streams of a pool active; pull each item from an active stream
 * chosen at random by weight; retire a stream after 1 + Poisson(lam) items (or when it ends,
 * with lam null) and activate another, drawn by weight from the candidates.
 *
 * Modes (pescador 2 names; pescador 1's flags in brackets):
 * - 'with_replacement' [with_replacement=True]: activation draws from the whole pool, so one
 *   streamer may fill several slots at once; runs forever unless every streamer is pruned.
 * - 'single_active' [with_replacement=False, revive=True]: a streamer is in at most one slot;
 *   when its run ends it returns to the candidates.
 * - 'exhaustive' [with_replacement=False, revive=False]: each streamer is activated at most
 *   once; the mux ends when every slot is empty.
 */
import { ConfigError } from '../core/errors.js';
import { StreamCodes } from './errors.js';
import { Mux, checkPool, checkWeights, searchCumulative, type MuxPolicy, type Opener } from './mux-core.js';
import { Rng } from './rng.js';
import type { Source } from './types.js';

export type StochasticMode = 'with_replacement' | 'single_active' | 'exhaustive';
const MODES: readonly StochasticMode[] = ['with_replacement', 'single_active', 'exhaustive'];

export interface StochasticMuxOptions {
  /** Streams active at once, integer >= 1. */
  k: number;
  /** Mean extra items per activation: each run is 1 + Poisson(lam) items; null runs each stream until it ends. */
  lam: number | null;
  /** Relative probability of each streamer being activated and, once active, of being pulled (default uniform). */
  weights?: ArrayLike<number>;
  /** Default 'with_replacement'. */
  mode?: StochasticMode;
  /** Never reactivate a streamer whose run produced no item (default true). */
  pruneEmptyStreams?: boolean;
  /** Seed for a private Rng (default: a fixed seed, so runs are reproducible). */
  seed?: number;
  /** Share a generator instead (overrides seed); its state advances with every pass. */
  rng?: Rng;
}

export class StochasticMux<T> extends Mux<T> {
  readonly pool: readonly Source<T>[];
  readonly k: number;
  readonly lam: number | null;
  readonly weights: Float64Array;
  readonly mode: StochasticMode;
  readonly pruneEmptyStreams: boolean;
  readonly rng: Rng;

  constructor(pool: readonly Source<T>[], opts: StochasticMuxOptions) {
    super();
    checkPool(pool, 'StochasticMux');
    if (!Number.isInteger(opts.k) || opts.k < 1) throw new ConfigError(StreamCodes.k, `StochasticMux: k must be an integer >= 1, got ${opts.k}`);
    if (opts.lam !== null && (!(opts.lam > 0) || !Number.isFinite(opts.lam))) {
      throw new ConfigError(StreamCodes.lam, `StochasticMux: lam must be a finite number > 0, or null to run each stream until it ends; got ${opts.lam}`);
    }
    const mode = opts.mode ?? 'with_replacement';
    if (!MODES.includes(mode)) throw new ConfigError(StreamCodes.mode, `StochasticMux: mode must be one of ${MODES.join(', ')}; got "${String(mode)}"`);
    this.pool = pool.slice();
    this.k = opts.k;
    this.lam = opts.lam;
    this.weights = checkWeights(opts.weights, pool.length, 'StochasticMux');
    this.mode = mode;
    this.pruneEmptyStreams = opts.pruneEmptyStreams ?? true;
    this.rng = opts.rng ?? new Rng(opts.seed ?? 0x5eed);
  }

  protected sources(): Iterable<Source<T>> {
    return this.pool;
  }

  protected policy<I>(open: Opener<T, I>): MuxPolicy<I> {
    return new StochasticPolicy(this, open);
  }
}

class StochasticPolicy<T, I> implements MuxPolicy<I> {
  readonly iters: (I | null)[];
  readonly counts: Float64Array;
  readonly #mux: StochasticMux<T>;
  readonly #open: Opener<T, I>;
  readonly #rng: Rng;
  readonly #w: Float64Array;
  /** 1 while a streamer may be activated (not pruned; not in a slot unless with_replacement). */
  readonly #candidate: Uint8Array;
  /** Candidates with a positive weight: the exact "is there anyone left" test. */
  #live = 0;
  /** Fenwick tree over weight * candidate: O(log n) draws and updates for big pools. */
  readonly #tree: Float64Array;
  readonly #topStep: number;
  #updates = 0;
  readonly #pruned: Uint8Array;
  #unpruned: number;
  readonly #slotSource: Int32Array;
  readonly #slotWeight: Float64Array;
  readonly #cum: Float64Array;
  #total = 0;

  constructor(mux: StochasticMux<T>, open: Opener<T, I>) {
    const n = mux.pool.length;
    const k = mux.k;
    this.#mux = mux;
    this.#open = open;
    this.#rng = mux.rng;
    this.#w = mux.weights;
    this.iters = new Array<I | null>(k).fill(null);
    this.counts = new Float64Array(k);
    this.#candidate = new Uint8Array(n).fill(1);
    this.#tree = new Float64Array(n + 1);
    let step = 1;
    while (step * 2 <= n) step *= 2;
    this.#topStep = step;
    this.#rebuildTree();
    this.#pruned = new Uint8Array(n);
    this.#unpruned = n;
    this.#slotSource = new Int32Array(k).fill(-1);
    this.#slotWeight = new Float64Array(k);
    this.#cum = new Float64Array(k);
    for (let slot = 0; slot < k; slot++) {
      if (!this.#activate(slot)) break;
    }
    this.#rebuild();
  }

  available(): boolean {
    return this.#total > 0 && this.#unpruned > 0;
  }

  nextSlot(): number {
    const k = this.#cum.length;
    return k === 1 ? 0 : searchCumulative(this.#cum, k, this.#rng.random() * this.#total);
  }

  exhausted(slot: number): void {
    const src = this.#slotSource[slot]!;
    if (this.#mux.pruneEmptyStreams && this.counts[slot] === 0 && this.#pruned[src] === 0) {
      this.#pruned[src] = 1;
      this.#unpruned--;
      this.#setCandidate(src, 0);
    }
    // Revive, unlike pescador, never brings back a pruned streamer.
    if (this.#mux.mode === 'single_active' && this.#pruned[src] === 0) this.#setCandidate(src, 1);
    if (!this.#activate(slot)) {
      this.#slotSource[slot] = -1;
      this.#slotWeight[slot] = 0;
    }
    this.#rebuild();
  }

  /** Draw a candidate by weight into `slot`; false when there is none. */
  #activate(slot: number): boolean {
    if (this.#live === 0) return false;
    const pick = this.#draw();
    const lam = this.#mux.lam;
    const runLength = lam === null ? undefined : 1 + this.#rng.poisson(lam);
    this.iters[slot] = this.#open(this.#mux.pool[pick]!, runLength);
    if (this.#mux.mode !== 'with_replacement') this.#setCandidate(pick, 0);
    this.#slotSource[slot] = pick;
    this.#slotWeight[slot] = this.#w[pick]!;
    this.counts[slot] = 0;
    return true;
  }

  #draw(): number {
    const tree = this.#tree;
    const n = this.#w.length;
    let total = 0;
    for (let i = n; i > 0; i -= i & -i) total += tree[i]!;
    let u = this.#rng.random() * total;
    let pos = 0;
    for (let step = this.#topStep; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && tree[next]! <= u) {
        pos = next;
        u -= tree[next]!;
      }
    }
    if (pos < n && this.#candidate[pos] === 1 && this.#w[pos]! > 0) return pos;
    // Rounding left the tree a hair off (u at the very top, or a residue where a weight was
    // removed): fall back to an exact scan. Rare, and the result is still a valid draw.
    let last = -1;
    for (let i = 0; i < n; i++) if (this.#candidate[i] === 1 && this.#w[i]! > 0) last = i;
    return last;
  }

  #setCandidate(i: number, on: 0 | 1): void {
    if (this.#candidate[i] === on) return;
    this.#candidate[i] = on;
    const w = this.#w[i]!;
    if (w === 0) return;
    this.#live += on === 1 ? 1 : -1;
    // Rebuilding every n updates keeps floating-point residue from piling up; O(1) amortised.
    if (++this.#updates >= this.#w.length) {
      this.#rebuildTree();
      return;
    }
    const delta = on === 1 ? w : -w;
    const tree = this.#tree;
    for (let j = i + 1; j < tree.length; j += j & -j) tree[j]! += delta;
  }

  #rebuildTree(): void {
    const tree = this.#tree;
    const n = this.#w.length;
    tree.fill(0);
    let live = 0;
    for (let i = 0; i < n; i++) {
      if (this.#candidate[i] !== 1 || this.#w[i] === 0) continue;
      live++;
      tree[i + 1]! += this.#w[i]!;
    }
    // Linear-time Fenwick construction: push each node's sum to its parent.
    for (let j = 1; j <= n; j++) {
      const parent = j + (j & -j);
      if (parent <= n) tree[parent]! += tree[j]!;
    }
    this.#live = live;
    this.#updates = 0;
  }

  #rebuild(): void {
    let acc = 0;
    const k = this.#cum.length;
    for (let i = 0; i < k; i++) {
      acc += this.iters[i] === null ? 0 : this.#slotWeight[i]!;
      this.#cum[i] = acc;
    }
    this.#total = acc;
  }
}
