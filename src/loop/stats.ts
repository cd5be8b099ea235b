import { SharedFrame } from './shared.js';

/**
 * Per-cycle loop statistics in shared memory: the worker writes after every cycle,
 * any thread reads a consistent snapshot without allocating (reuse the snapshot
 * object and the reader's scratch). Lateness and compute time of the last `window`
 * cycles are kept in rings; percentiles are computed by the reader, so the worker
 * pays only a few stores per cycle.
 */
const F = {
  cycles: 0,
  overruns: 1,
  skipped: 2,
  streak: 3,
  maxStreak: 4,
  lateMaxAllUs: 5,
  computeMaxAllUs: 6,
  periodUs: 7,
  written: 8,
  lastCycleMs: 9,
  safetyEvents: 10,
  nonFinite: 11,
  predictorErrors: 12,
  staleInputs: 13,
  safe: 14,
  inputsSeen: 15,
} as const;
const META = 16;

export interface LoopStatsSnapshot {
  cycles: number;
  overruns: number;
  skipped: number;
  overrunStreak: number;
  maxOverrunStreak: number;
  /** Lateness = cycle start minus its deadline, over the last `window` cycles. */
  latenessP50Us: number;
  latenessP99Us: number;
  latenessMaxUs: number;
  /** Largest lateness since start. */
  latenessMaxAllUs: number;
  computeP50Us: number;
  computeP99Us: number;
  computeMaxUs: number;
  computeMaxAllUs: number;
  /** Cycles the percentiles cover. */
  window: number;
  periodUs: number;
  /** CLOCK_MONOTONIC ms at the start of the last cycle. */
  lastCycleMs: number;
  safetyEvents: number;
  nonFinite: number;
  predictorErrors: number;
  staleInputs: number;
  /** Distinct input windows the loop has consumed. */
  inputsSeen: number;
  safe: boolean;
}

export function emptyStats(): LoopStatsSnapshot {
  return {
    cycles: 0,
    overruns: 0,
    skipped: 0,
    overrunStreak: 0,
    maxOverrunStreak: 0,
    latenessP50Us: Number.NaN,
    latenessP99Us: Number.NaN,
    latenessMaxUs: Number.NaN,
    latenessMaxAllUs: 0,
    computeP50Us: Number.NaN,
    computeP99Us: Number.NaN,
    computeMaxUs: Number.NaN,
    computeMaxAllUs: 0,
    window: 0,
    periodUs: 0,
    lastCycleMs: Number.NaN,
    safetyEvents: 0,
    nonFinite: 0,
    predictorErrors: 0,
    staleInputs: 0,
    inputsSeen: 0,
    safe: false,
  };
}

export function createStatsFrame(window: number, buffer?: SharedArrayBuffer): SharedFrame {
  if (!Number.isInteger(window) || window < 1 || window > 1 << 20) throw new RangeError(`stats window must be 1..${1 << 20} cycles, got ${window}`);
  return new SharedFrame({ meta: META, f64: 0, f32: 2 * window }, buffer);
}

/** Counters the control core keeps; the writer copies them each cycle. */
export interface SafetyCounts {
  safetyEvents: number;
  nonFinite: number;
  predictorErrors: number;
  staleInputs: number;
  inputsSeen: number;
  safe: boolean;
}

export class StatsWriter {
  readonly #f: SharedFrame;
  readonly #window: number;
  #written = 0;
  #lateMax = 0;
  #computeMax = 0;

  constructor(frame: SharedFrame, periodMs: number) {
    this.#f = frame;
    this.#window = frame.layout.f32 / 2;
    frame.begin();
    frame.meta[F.periodUs] = periodMs * 1000;
    frame.end();
  }

  /** One completed cycle. Times in ms on the loop's clock. */
  record(
    cycleStartMs: number,
    latenessMs: number,
    computeMs: number,
    sched: { overruns: number; skipped: number; streak: number; maxStreak: number },
    counts: SafetyCounts,
  ): void {
    const lateUs = latenessMs * 1000;
    const compUs = computeMs * 1000;
    if (lateUs > this.#lateMax) this.#lateMax = lateUs;
    if (compUs > this.#computeMax) this.#computeMax = compUs;
    const f = this.#f;
    const i = this.#written % this.#window;
    this.#written++;
    f.begin();
    const m = f.meta;
    m[F.cycles] = this.#written;
    m[F.overruns] = sched.overruns;
    m[F.skipped] = sched.skipped;
    m[F.streak] = sched.streak;
    m[F.maxStreak] = sched.maxStreak;
    m[F.lateMaxAllUs] = this.#lateMax;
    m[F.computeMaxAllUs] = this.#computeMax;
    m[F.written] = this.#written;
    m[F.lastCycleMs] = cycleStartMs;
    m[F.safetyEvents] = counts.safetyEvents;
    m[F.nonFinite] = counts.nonFinite;
    m[F.predictorErrors] = counts.predictorErrors;
    m[F.staleInputs] = counts.staleInputs;
    m[F.inputsSeen] = counts.inputsSeen;
    m[F.safe] = counts.safe ? 1 : 0;
    f.f32[i] = lateUs;
    f.f32[this.#window + i] = compUs;
    f.end();
  }

  /** Counters changed outside a cycle (e.g. an e-stop while sleeping). */
  counts(counts: SafetyCounts): void {
    const f = this.#f;
    f.begin();
    f.meta[F.safetyEvents] = counts.safetyEvents;
    f.meta[F.nonFinite] = counts.nonFinite;
    f.meta[F.predictorErrors] = counts.predictorErrors;
    f.meta[F.staleInputs] = counts.staleInputs;
    f.meta[F.inputsSeen] = counts.inputsSeen;
    f.meta[F.safe] = counts.safe ? 1 : 0;
    f.end();
  }
}

export class StatsReader {
  readonly #f: SharedFrame;
  readonly #window: number;
  readonly #meta = new Float64Array(META);
  readonly #rings: Float32Array;
  readonly #late: Float32Array;
  readonly #comp: Float32Array;

  constructor(frame: SharedFrame) {
    this.#f = frame;
    this.#window = frame.layout.f32 / 2;
    this.#rings = new Float32Array(2 * this.#window);
    this.#late = new Float32Array(this.#window);
    this.#comp = new Float32Array(this.#window);
  }

  /** Fill `into` with a consistent snapshot; returns false (and leaves `into` alone) if none could be taken. */
  read(into: LoopStatsSnapshot): boolean {
    if (!this.#f.read(this.#meta, null, this.#rings)) return false;
    const m = this.#meta;
    const w = this.#window;
    const n = Math.min(m[F.written]!, w);
    // Unused slots sort to the end as +Infinity so the whole scratch can be sorted in place.
    for (let i = 0; i < w; i++) {
      this.#late[i] = i < n ? this.#rings[i]! : Number.POSITIVE_INFINITY;
      this.#comp[i] = i < n ? this.#rings[w + i]! : Number.POSITIVE_INFINITY;
    }
    this.#late.sort();
    this.#comp.sort();
    into.cycles = m[F.cycles]!;
    into.overruns = m[F.overruns]!;
    into.skipped = m[F.skipped]!;
    into.overrunStreak = m[F.streak]!;
    into.maxOverrunStreak = m[F.maxStreak]!;
    into.latenessP50Us = pick(this.#late, n, 50);
    into.latenessP99Us = pick(this.#late, n, 99);
    into.latenessMaxUs = n > 0 ? this.#late[n - 1]! : Number.NaN;
    into.latenessMaxAllUs = m[F.lateMaxAllUs]!;
    into.computeP50Us = pick(this.#comp, n, 50);
    into.computeP99Us = pick(this.#comp, n, 99);
    into.computeMaxUs = n > 0 ? this.#comp[n - 1]! : Number.NaN;
    into.computeMaxAllUs = m[F.computeMaxAllUs]!;
    into.window = n;
    into.periodUs = m[F.periodUs]!;
    into.lastCycleMs = m[F.written]! > 0 ? m[F.lastCycleMs]! : Number.NaN;
    into.safetyEvents = m[F.safetyEvents]!;
    into.nonFinite = m[F.nonFinite]!;
    into.predictorErrors = m[F.predictorErrors]!;
    into.staleInputs = m[F.staleInputs]!;
    into.inputsSeen = m[F.inputsSeen]!;
    into.safe = m[F.safe] === 1;
    return true;
  }
}

/** Nearest-rank percentile of the first n sorted values. */
function pick(sorted: Float32Array, n: number, p: number): number {
  if (n === 0) return Number.NaN;
  const idx = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return sorted[idx]!;
}
