/**
 * Busy-waiting to a deadline without reading the clock thousands of times.
 *
 * Why: every `performance.now()` returns a freshly boxed double on the worker's heap. The
 * loop worker used to spin its last 150 us before each deadline by reading the clock in a
 * tight loop, about 3,000 reads per cycle at 1 kHz: enough garbage for a scavenge of the
 * worker's heap every second or so, each one a cycle up to 2 ms late. Here the spin burns a
 * quarter of the remaining time in a calibrated arithmetic loop between reads, so it reads the
 * clock a few dozen times per cycle; a CPU up to four times slower than at calibration still
 * does not overshoot (each burn is at most a quarter of what is left), and a faster one only
 * means a few more reads.
 */

/** Below this much time left, read the clock in a tight loop (ms). */
const FINE_MS = 0.001;

export interface SpinnerOptions {
  /** The clock, ms. */
  clock: () => number;
  /** Burn about `iterations` units of work; injectable so tests can tie it to a fake clock. */
  burn?: (iterations: number) => void;
  /** Work units per ms; measured against `clock` when not given. */
  iterationsPerMs?: number;
}

/** Kept where the optimiser cannot prove it unused, so the burn loop is not removed. */
let sink = 0;

function burnLoop(iterations: number): void {
  let x = sink;
  for (let i = 0; i < iterations; i++) x = (x * 1103515245 + 12345) | 0;
  sink = x;
}

export class Spinner {
  readonly #clock: () => number;
  readonly #burn: (iterations: number) => void;
  readonly #perMs: number;
  /** Clock reads by the last until() (for tests and diagnostics). */
  reads = 0;

  constructor(o: SpinnerOptions) {
    this.#clock = o.clock;
    this.#burn = o.burn ?? burnLoop;
    this.#perMs = o.iterationsPerMs ?? calibrate(this.#clock, this.#burn);
  }

  /** Work units per ms the spinner assumes. */
  get iterationsPerMs(): number {
    return this.#perMs;
  }

  /** Return the first clock reading at or after `deadline`. */
  until(deadline: number): number {
    const clock = this.#clock;
    let reads = 1;
    let now = clock();
    while (now < deadline) {
      const left = deadline - now;
      if (left > FINE_MS) this.#burn(Math.floor(left * 0.25 * this.#perMs));
      now = clock();
      reads++;
    }
    this.reads = reads;
    return now;
  }
}

/** Work units per ms: time growing bursts until one lasts at least 1 ms, keep the fastest of five. */
function calibrate(clock: () => number, burn: (iterations: number) => void): number {
  let n = 1000;
  for (;;) {
    const t0 = clock();
    burn(n);
    if (clock() - t0 >= 1) break;
    n *= 2;
  }
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = clock();
    burn(n);
    const dt = clock() - t0;
    if (dt > 0) best = Math.max(best, n / dt);
  }
  return best;
}
