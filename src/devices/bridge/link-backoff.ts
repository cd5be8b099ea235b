/**
 * Reconnect pacing of a BridgeLink: delays doubling from backoffMinMs up to backoffMaxMs
 * per failed attempt, back to the minimum after a healthy connection, waited out on the
 * injected LinkTimers and cut short by `wake()` (stop()).
 */
import type { LinkTimers } from './link-types.js';

export interface BackoffOptions {
  backoffMinMs: number;
  backoffMaxMs: number;
  healthyMs: number;
}

export class ReconnectBackoff {
  readonly #o: BackoffOptions;
  readonly #t: LinkTimers;
  #attempt = 0;
  #wake: (() => void) | null = null;

  constructor(opts: BackoffOptions, timers: LinkTimers) {
    this.#o = opts;
    this.#t = timers;
  }

  /** Start over from the shortest delay. */
  reset(): void {
    this.#attempt = 0;
  }

  /** A streaming connection ended after `streamedMs`: long enough, and it counts as healthy. */
  ended(streamedMs: number): void {
    if (streamedMs >= this.#o.healthyMs) this.#attempt = 0;
  }

  /** The delay before the next attempt; each call counts one more failed attempt. */
  next(): number {
    const delay = Math.min(this.#o.backoffMaxMs, this.#o.backoffMinMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return delay;
  }

  /** Resolves after `ms`, or at once on `wake()`. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#t.setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#t.clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  /** End the current sleep, if any. */
  wake(): void {
    this.#wake?.();
  }
}
