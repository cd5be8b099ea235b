import { monotonicMs } from '../time/monotonic.js';
import { ProgramCodes, ProgramError } from './errors.js';

/**
 * The program's time source, injectable so protocols run in tests and demos without waiting.
 * Times are milliseconds on an arbitrary monotonic origin.
 */
export interface Clock {
  now(): number;
  /**
   * Resolve at (or after) clock time `at`; reject with the signal's reason if aborted first (a
   * reason that is not an Error comes as the `cause` of an E_PROGRAM_ABORTED ProgramError).
   */
  sleepUntil(at: number, signal?: AbortSignal): Promise<void>;
}

/** The signal's reason as an Error: AbortController's default reason already is one. */
function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new ProgramError(ProgramCodes.aborted, '', 'the sleep was aborted', { cause: r });
}

/** Real time: CLOCK_MONOTONIC and timers. */
export const systemClock: Clock = {
  now: monotonicMs,
  sleepUntil(at, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer = setTimeout(done, Math.max(0, at - monotonicMs()));
      function done(): void {
        signal?.removeEventListener('abort', abort);
        resolve();
      }
      function abort(): void {
        clearTimeout(timer);
        reject(abortError(signal!));
      }
      signal?.addEventListener('abort', abort, { once: true });
    });
  },
};

/**
 * Virtual time that jumps: sleeping moves `now` straight to the deadline. A 100 s protocol
 * runs in milliseconds with every timestamp as if it had run in real time.
 */
export class VirtualClock implements Clock {
  #now: number;
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (at > this.#now) this.#now = at;
    return Promise.resolve();
  }
  /** Move time forward by hand (e.g. to simulate work taking time). */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Time that only moves when the test says so: `advance(ms)` wakes sleepers whose deadline passed. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Array<{ at: number; wake: () => void }> = [];
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    if (at <= this.#now) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const entry = { at, wake: resolve };
      this.#sleepers.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== entry);
          reject(abortError(signal));
        },
        { once: true },
      );
    });
  }
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.at <= this.#now);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#now);
    for (const s of due) s.wake();
  }
  /** Sleepers waiting, for tests to wait until the program is parked on the clock. */
  get pending(): number {
    return this.#sleepers.length;
  }
}
