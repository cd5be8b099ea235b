/**
 * Gap events, aggregated: a source that loses every third frame has hundreds of gaps a
 * second, and one telemetry event and log line each would bury everything else. The first
 * gap after a quiet interval is reported at once; the gaps that follow within `intervalMs`
 * are summed and reported together when it ends, so a source yields at most one gap report
 * per interval and still accounts for every gap in it (docs/telemetry.md, `event` kind `gap`).
 */
import type { SourceGap } from './source.js';

/** Several gaps of one source, summed. Sums cover the gaps whose value is known; NaN if none was. */
export interface GapAggregate {
  /** Gaps in this report. */
  count: number;
  /** Their causes, each once, in order of first appearance ('frames', 'outage', 'restart', 'dropped'). */
  causes: string[];
  missingFrames: number;
  missingSamples: number;
  /** Device sequence number of the block before the first gap, and after the last one. */
  fromSeq: number;
  toSeq: number;
  /** Device time spans of the gaps added up, µs (docs/protocol.md, SAMPLES "Gaps"). */
  deviceSpanUs: number;
  /** Host time spans of the gaps added up, ms. */
  hostSpanMs: number;
  /** Whether the device reset during any of them. */
  deviceReset: boolean;
  /** Host time (monotonic ms) the first and the last of them were reported by the source. */
  firstMs: number;
  lastMs: number;
}

export interface GapTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface GapAggregatorOptions {
  /** At most one report per this many ms (default 1000). */
  intervalMs?: number;
  /** Host clock, ms. */
  now: () => number;
  /** Default: Node's timers, unreferenced (a pending report never keeps the process alive). */
  timers?: GapTimers;
  /** Receives each report; the object is reused after the call returns. */
  report: (a: Readonly<GapAggregate>) => void;
}

const nodeTimers: GapTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

function emptyAggregate(): GapAggregate {
  return {
    count: 0,
    causes: [],
    missingFrames: Number.NaN,
    missingSamples: Number.NaN,
    fromSeq: Number.NaN,
    toSeq: Number.NaN,
    deviceSpanUs: Number.NaN,
    hostSpanMs: Number.NaN,
    deviceReset: false,
    firstMs: Number.NaN,
    lastMs: Number.NaN,
  };
}

/** NaN + x = x, x + NaN = x: a sum over the known values only. */
function addKnown(sum: number, v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v)) return sum;
  return Number.isNaN(sum) ? v : sum + v;
}

export class GapAggregator {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #timers: GapTimers;
  readonly #report: (a: Readonly<GapAggregate>) => void;
  readonly #agg = emptyAggregate();
  /** No report before this host time. */
  #quietUntil = Number.NEGATIVE_INFINITY;
  #timer: unknown = null;

  constructor(o: GapAggregatorOptions) {
    this.#intervalMs = o.intervalMs ?? 1000;
    this.#now = o.now;
    this.#timers = o.timers ?? nodeTimers;
    this.#report = o.report;
  }

  add(g: SourceGap): void {
    const now = this.#now();
    const a = this.#agg;
    if (a.count === 0) {
      a.firstMs = now;
      a.fromSeq = g.fromSeq ?? Number.NaN;
    }
    a.count++;
    if (!a.causes.includes(g.cause)) a.causes.push(g.cause);
    a.missingFrames = addKnown(a.missingFrames, g.missingFrames);
    a.missingSamples = addKnown(a.missingSamples, g.missingSamples);
    a.deviceSpanUs = addKnown(a.deviceSpanUs, g.deviceSpanUs);
    a.hostSpanMs = addKnown(a.hostSpanMs, g.hostSpanMs);
    a.toSeq = g.toSeq ?? Number.NaN;
    a.deviceReset ||= g.deviceReset;
    a.lastMs = now;
    if (now >= this.#quietUntil && this.#timer === null) {
      this.flush();
      return;
    }
    if (this.#timer === null) {
      this.#timer = this.#timers.setTimeout(
        () => {
          this.#timer = null;
          this.flush();
        },
        Math.max(0, this.#quietUntil - now),
      );
    }
  }

  /** Report what is pending now (nothing if nothing is); the next report waits a full interval. */
  flush(): void {
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    const a = this.#agg;
    if (a.count === 0) return;
    this.#quietUntil = this.#now() + this.#intervalMs;
    try {
      this.#report(a);
    } finally {
      Object.assign(a, emptyAggregate());
    }
  }
}

/** One line for people: `frames gap: 2 frames, 4 samples missing, seq 10 -> 13` or `113 gaps (frames) in 1.0 s: ...`. */
export function describeGaps(a: Readonly<GapAggregate>): string {
  const parts: string[] = [];
  if (Number.isFinite(a.missingFrames)) parts.push(`${a.missingFrames} frames`);
  if (Number.isFinite(a.missingSamples)) parts.push(`${a.missingSamples} samples`);
  let text = parts.length > 0 ? `${parts.join(', ')} missing` : 'samples lost';
  if (Number.isFinite(a.fromSeq) && Number.isFinite(a.toSeq)) text += `, seq ${a.fromSeq} -> ${a.toSeq}`;
  if (Number.isFinite(a.hostSpanMs)) text += `, ${a.hostSpanMs.toFixed(1)} ms host time`;
  if (a.deviceReset) text += ' (device reset)';
  const cause = a.causes.join('+');
  if (a.count === 1) return `${cause} gap: ${text}`;
  return `${a.count} gaps (${cause}) in ${((a.lastMs - a.firstMs) / 1000).toFixed(1)} s: ${text}`;
}
