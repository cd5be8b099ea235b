import { ConfigError } from '../core/errors.js';
import { LoopCodes } from './codes.js';

/**
 * The loop's watchdog: decides when every actuator must go to its safe state and
 * keeps it there until someone calls release(). It never recovers by itself: a
 * person next to the electrodes decides when motion resumes.
 */
export const SAFETY_REASONS = [
  'startup',
  'stale_input',
  'predictor_error',
  'overrun_streak',
  'estop',
  'non_finite',
  'signal',
  'uncaught',
  'worker_exit',
  'stopped',
  'released',
] as const;
export type SafetyReason = (typeof SAFETY_REASONS)[number];

export function reasonCode(r: SafetyReason): number {
  return SAFETY_REASONS.indexOf(r);
}
export function reasonOf(code: number): SafetyReason | undefined {
  return SAFETY_REASONS[code];
}

export interface SafetyEvent {
  reason: SafetyReason;
  /** CLOCK_MONOTONIC ms (src/time/monotonic.ts) when it was detected. */
  timeMs: number;
  /** Loop cycle index (grid index) at detection, -1 outside the loop. */
  cycle: number;
  /** Cycles actually run before detection (grid indices minus skipped ones); -1 outside the loop. */
  cyclesRun: number;
  /** Human-readable detail, e.g. the predictor's error message. */
  detail: string;
  /** True when this event put the loop into the safe state (false: already safe, or a release). */
  entered: boolean;
}

export interface WatchdogOptions {
  /** Input older than this (ms since its publication) is stale. */
  staleMs: number;
  /** This many consecutive overrunning cycles trip the watchdog. */
  overrunStreak: number;
}

export function validateWatchdogOptions(o: WatchdogOptions): WatchdogOptions {
  if (!(o.staleMs > 0) || !Number.isFinite(o.staleMs))
    throw new ConfigError(LoopCodes.watchdog, `watchdog.staleMs must be a positive number of ms, got ${o.staleMs}`);
  if (!Number.isInteger(o.overrunStreak) || o.overrunStreak < 1)
    throw new ConfigError(LoopCodes.watchdog, `watchdog.overrunStreak must be an integer >= 1, got ${o.overrunStreak}`);
  return o;
}

export class Watchdog {
  readonly opts: WatchdogOptions;
  readonly #onEvent: (e: SafetyEvent) => void;
  /** Cycles run so far; the control core keeps it current. */
  cyclesRun = 0;
  #safe: boolean;
  #reason: SafetyReason | null;
  #events = 0;

  constructor(opts: WatchdogOptions, onEvent: (e: SafetyEvent) => void, startSafe: boolean) {
    this.opts = validateWatchdogOptions(opts);
    this.#onEvent = onEvent;
    this.#safe = startSafe;
    this.#reason = startSafe ? 'startup' : null;
  }

  get safe(): boolean {
    return this.#safe;
  }
  get reason(): SafetyReason | null {
    return this.#reason;
  }
  /** Events reported (each trip with a new reason, and each release). */
  get events(): number {
    return this.#events;
  }

  isStale(nowMs: number, inputAtMs: number): boolean {
    // NaN (never published) compares false, so it counts as stale.
    return !(nowMs - inputAtMs <= this.opts.staleMs);
  }

  /**
   * Enter (or stay in) the safe state. A reason that is already the current one is
   * not reported again, so a stale input does not report every cycle.
   */
  trip(reason: SafetyReason, timeMs: number, cycle: number, detail = ''): void {
    if (this.#safe && this.#reason === reason) return;
    const entered = !this.#safe;
    this.#safe = true;
    this.#reason = reason;
    this.#events++;
    this.#onEvent({ reason, timeMs, cycle, cyclesRun: this.cyclesRun, detail, entered });
  }

  /** Leave the safe state (explicit, by a person or the control API). Returns false if not in it. */
  release(timeMs: number, cycle: number, detail = ''): boolean {
    if (!this.#safe) return false;
    this.#safe = false;
    this.#reason = null;
    this.#events++;
    this.#onEvent({ reason: 'released', timeMs, cycle, cyclesRun: this.cyclesRun, detail, entered: false });
    return true;
  }
}
