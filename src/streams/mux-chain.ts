/**
 * ChainMux: run the first streamer to its end, then the next, like itertools.chain.
 * 'exhaustive' ends after the last; 'cycle' starts over from the first. The streamers may be
 * an array or any re-iterable collection (a one-shot generator of streamers cannot cycle).
 * A cycle round that yields nothing ends the mux (pescador would spin forever).
 */
import { ConfigError } from '../core/errors.js';
import { StreamCodes } from './errors.js';
import { Mux, checkPool, type MuxPolicy, type Opener } from './mux-core.js';
import type { Source } from './types.js';

export type ChainMode = 'exhaustive' | 'cycle';
const MODES: readonly ChainMode[] = ['exhaustive', 'cycle'];

export interface ChainMuxOptions {
  mode?: ChainMode;
}

export class ChainMux<T> extends Mux<T> {
  readonly streamers: Iterable<Source<T>>;
  readonly mode: ChainMode;

  constructor(streamers: Iterable<Source<T>>, opts: ChainMuxOptions = {}) {
    super();
    if (Array.isArray(streamers)) checkPool(streamers as readonly Source<T>[], 'ChainMux');
    else if (streamers == null || typeof streamers[Symbol.iterator] !== 'function') {
      throw new ConfigError(StreamCodes.emptyPool, 'ChainMux: streamers must be an array or an iterable of Streamers');
    }
    const mode = opts.mode ?? 'exhaustive';
    if (!MODES.includes(mode)) throw new ConfigError(StreamCodes.mode, `ChainMux: mode must be one of ${MODES.join(', ')}; got "${String(mode)}"`);
    this.streamers = Array.isArray(streamers) ? (streamers as readonly Source<T>[]).slice() : streamers;
    this.mode = mode;
  }

  /** Only arrays are checked up front; a lazy collection is checked as each streamer opens. */
  protected sources(): Iterable<Source<T>> {
    return Array.isArray(this.streamers) ? (this.streamers as readonly Source<T>[]) : [];
  }

  protected policy<I>(open: Opener<T, I>): MuxPolicy<I> {
    return new ChainPolicy(this, open);
  }
}

class ChainPolicy<T, I> implements MuxPolicy<I> {
  readonly iters: (I | null)[] = [null];
  readonly counts = new Float64Array(1);
  readonly #mux: ChainMux<T>;
  readonly #open: Opener<T, I>;
  #list: Iterator<Source<T>>;
  #roundItems = 0;

  constructor(mux: ChainMux<T>, open: Opener<T, I>) {
    this.#mux = mux;
    this.#open = open;
    this.#list = mux.streamers[Symbol.iterator]();
    this.#advance();
  }

  available(): boolean {
    return this.iters[0] !== null;
  }

  nextSlot(): number {
    this.#roundItems++;
    return 0;
  }

  exhausted(_slot: number): void {
    this.#roundItems--;
    this.#advance();
  }

  #advance(): void {
    let r = this.#list.next();
    if (r.done === true && this.#mux.mode === 'cycle' && this.#roundItems > 0) {
      this.#list = this.#mux.streamers[Symbol.iterator]();
      this.#roundItems = 0;
      r = this.#list.next();
    }
    if (r.done === true) {
      this.iters[0] = null;
      return;
    }
    this.iters[0] = this.#open(r.value, undefined);
    this.counts[0] = 0;
  }
}
