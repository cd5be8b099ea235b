/**
 * When the runtime last handed the loop an input window: the moment the stale-input
 * watchdog counts from (the loop stamps each window with its publication time, and calls it
 * stale staleMs later). Observed by wrapping the running loop's pushWindow: the call goes
 * through unchanged, this only notes the time. The last 64 times are kept, so a window
 * pushed after a trip does not hide the one the trip was measured from.
 */
import type { ControlLoop } from '../loop/loop.js';
import { monotonicMs } from '../time/monotonic.js';

const KEEP = 64;

export class InputProbe {
  readonly #times = new Float64Array(KEEP).fill(Number.NaN);
  #count = 0;
  readonly #listeners = new Set<() => void>();

  constructor(loop: ControlLoop) {
    const push = loop.pushWindow.bind(loop);
    loop.pushWindow = (data, hostTimeMs) => {
      push(data, hostTimeMs);
      this.#times[this.#count % KEEP] = monotonicMs();
      this.#count++;
      for (const l of this.#listeners) l();
    };
  }

  /** Windows pushed so far. */
  get count(): number {
    return this.#count;
  }

  /** The last push at or before `t` (NaN if none is kept). */
  lastBefore(t: number): number {
    let best = Number.NaN;
    for (const x of this.#times) if (x <= t && !(x <= best)) best = x;
    return best;
  }

  /** Calls `fn` on every push; returns the detach function. */
  onPush(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
}
