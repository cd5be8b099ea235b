import { ConfigError } from '../core/errors.js';
import { LoopCodes } from './codes.js';

/**
 * Fixed-rate deadlines on an absolute grid: deadline(k) = start + k * period.
 * Each deadline is computed from k, never by adding periods, so rounding cannot
 * accumulate into drift however long the loop runs. Pure: no clock, no timers; the
 * worker feeds it times and it decides what runs next.
 */
export type OverrunPolicy = 'skip' | 'catch-up';

export interface ScheduleOptions {
  /** Cycles per second, 1..2000. */
  rateHz: number;
  /** What to do with deadlines that passed while a cycle overran: drop them ('skip') or run them back to back ('catch-up'). */
  policy: OverrunPolicy;
  /** catch-up only: most missed cycles kept to run back to back; older ones are dropped. Default 3. */
  maxCatchUp?: number;
}

export const MIN_RATE_HZ = 1;
export const MAX_RATE_HZ = 2000;

export function validateScheduleOptions(opts: ScheduleOptions): Required<ScheduleOptions> {
  const { rateHz, policy } = opts;
  if (!Number.isFinite(rateHz) || rateHz < MIN_RATE_HZ || rateHz > MAX_RATE_HZ) {
    throw new ConfigError(LoopCodes.rate, `loop rate must be ${MIN_RATE_HZ}..${MAX_RATE_HZ} Hz, got ${rateHz}: set loop.rateHz in the run configuration`);
  }
  if (policy !== 'skip' && policy !== 'catch-up') {
    throw new ConfigError(LoopCodes.policy, `overrun policy must be "skip" or "catch-up", got "${String(policy)}"`);
  }
  const maxCatchUp = opts.maxCatchUp ?? 3;
  if (!Number.isInteger(maxCatchUp) || maxCatchUp < 0 || maxCatchUp > 1000) {
    throw new ConfigError(LoopCodes.policy, `maxCatchUp must be an integer 0..1000, got ${maxCatchUp}`);
  }
  return { rateHz, policy, maxCatchUp };
}

export class DeadlineSchedule {
  readonly periodMs: number;
  readonly startMs: number;
  readonly policy: OverrunPolicy;
  readonly maxCatchUp: number;
  #k = 1;
  #overruns = 0;
  #skipped = 0;
  #streak = 0;
  #maxStreak = 0;

  /** The first deadline is one period after `startMs`. */
  constructor(opts: ScheduleOptions, startMs: number) {
    const o = validateScheduleOptions(opts);
    this.periodMs = 1000 / o.rateHz;
    this.startMs = startMs;
    this.policy = o.policy;
    this.maxCatchUp = o.maxCatchUp;
  }

  deadlineOf(k: number): number {
    return this.startMs + k * this.periodMs;
  }
  /** Grid index of the cycle to run next. */
  get index(): number {
    return this.#k;
  }
  /** When the next cycle is due. */
  get deadline(): number {
    return this.startMs + this.#k * this.periodMs;
  }
  /** Cycles that finished after the following deadline had already passed. */
  get overruns(): number {
    return this.#overruns;
  }
  /** Deadlines dropped by the overrun policy (never run). */
  get skipped(): number {
    return this.#skipped;
  }
  /** Consecutive overrunning cycles up to the last one completed (0 after an on-time cycle). */
  get streak(): number {
    return this.#streak;
  }
  get maxStreak(): number {
    return this.#maxStreak;
  }

  /** Index of the latest deadline at or before `t`. */
  dueIndex(t: number): number {
    return Math.floor((t - this.startMs) / this.periodMs);
  }

  /**
   * The cycle for the current index finished at `endMs`: pick the next index.
   * Returns how many deadlines this decision dropped.
   */
  complete(endMs: number): number {
    const next = this.#k + 1;
    if (endMs < this.deadlineOf(next)) {
      this.#streak = 0;
      this.#k = next;
      return 0;
    }
    this.#overruns++;
    this.#streak++;
    if (this.#streak > this.#maxStreak) this.#maxStreak = this.#streak;
    // Floating division can land one below a deadline that compares as passed.
    let due = this.dueIndex(endMs);
    if (due < next) due = next;
    let target: number;
    if (this.policy === 'skip') {
      target = due + 1;
    } else {
      const backlog = due - this.#k;
      target = backlog <= this.maxCatchUp ? next : due - this.maxCatchUp + 1;
    }
    const dropped = target - next;
    this.#skipped += dropped;
    this.#k = target;
    return dropped;
  }
}

/**
 * How long to block before a deadline: sleep until `spinMs` before it, then spin.
 * Returns 0 when it is time to spin (or the deadline has passed).
 */
export function sleepBudgetMs(nowMs: number, deadlineMs: number, spinMs: number): number {
  const s = deadlineMs - spinMs - nowMs;
  return s > 0 ? s : 0;
}
