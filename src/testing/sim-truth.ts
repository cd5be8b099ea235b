/**
 * Scoring clock mapping against the host firmware's truth file (`--truth FILE`: one line per
 * SAMPLES frame, `seq first_sample t_us true_monotonic_ns`, the CLOCK_MONOTONIC instant at which
 * the simulated device clock read t_us). Used by the sync benchmark and the integration test.
 */

export interface TruthFrame {
  seq: number;
  firstSample: number;
  tUs: number;
  /** True CLOCK_MONOTONIC time of the frame's first sample, ms. */
  trueMs: number;
}

export function parseTruth(text: string): TruthFrame[] {
  const out: TruthFrame[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 4) continue;
    const [seq, first, tUs, ns] = f.map(Number) as [number, number, number, number];
    if (![seq, first, tUs, ns].every(Number.isFinite)) continue;
    out.push({ seq, firstSample: first, tUs, trueMs: ns / 1e6 });
  }
  return out;
}

/** What was mapped for one block, recorded when it was mapped. */
export interface MappedBlock {
  seq: number;
  samples: number;
  hostTimeMs: number;
  hostPeriodMs: number;
  /** When it arrived (host ms): the scoring window is chosen on this. */
  arrivalMs: number;
}

export interface SyncScore {
  /** Samples scored. */
  n: number;
  rmsMs: number;
  maxMs: number;
  /** Mean signed error (mapped - true), ms: the bias. */
  meanMs: number;
}

/**
 * Per-sample error of `hostTimeMs + i * hostPeriodMs` against the true time, for blocks that arrived
 * at or after `fromMs`. A sample's true time is interpolated between its frame's first sample and
 * the next frame's (exact for the firmware's linear clock). Blocks without a following truth line
 * or with NaN host time are skipped; NaN host time is counted in `unmapped`.
 */
export function scoreAgainstTruth(mapped: readonly MappedBlock[], truth: readonly TruthFrame[], fromMs: number): SyncScore & { unmapped: number } {
  const bySeq = new Map<number, number>();
  truth.forEach((t, i) => bySeq.set(t.seq, i));
  let n = 0;
  let sq = 0;
  let sum = 0;
  let max = 0;
  let unmapped = 0;
  for (const m of mapped) {
    if (m.arrivalMs < fromMs) continue;
    if (!Number.isFinite(m.hostTimeMs)) {
      unmapped++;
      continue;
    }
    const i = bySeq.get(m.seq);
    if (i === undefined || i + 1 >= truth.length) continue;
    const a = truth[i]!;
    const b = truth[i + 1]!;
    const span = b.firstSample - a.firstSample;
    if (span <= 0) continue;
    const truePeriod = (b.trueMs - a.trueMs) / span;
    for (let k = 0; k < m.samples; k++) {
      const err = m.hostTimeMs + k * m.hostPeriodMs - (a.trueMs + k * truePeriod);
      n++;
      sq += err * err;
      sum += err;
      if (Math.abs(err) > max) max = Math.abs(err);
    }
  }
  return { n, rmsMs: n ? Math.sqrt(sq / n) : Number.NaN, maxMs: n ? max : Number.NaN, meanMs: n ? sum / n : Number.NaN, unmapped };
}

/**
 * Seconds from `startMs` after which every block's first-sample error stays within `boundMs`
 * (NaN if it never settles). Blocks in arrival order.
 */
export function convergenceSeconds(mapped: readonly MappedBlock[], truth: readonly TruthFrame[], startMs: number, boundMs: number): number {
  const bySeq = new Map<number, TruthFrame>();
  for (const t of truth) bySeq.set(t.seq, t);
  let lastBad = startMs;
  let any = false;
  for (const m of mapped) {
    const t = bySeq.get(m.seq);
    if (!t) continue;
    any = true;
    const err = m.hostTimeMs - t.trueMs;
    if (!(Math.abs(err) <= boundMs)) lastBad = m.arrivalMs;
  }
  return any ? (lastBad - startMs) / 1000 : Number.NaN;
}
