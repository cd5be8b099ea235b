/** Options, status and helpers of the clock model (clock-model.ts). */
import type { SampleBlock } from '../core/block.js';

export type ClockState = 'converging' | 'locked' | 'stale';

export interface ClockModelOptions {
  /** Name for telemetry, e.g. "emg" or "tracker:mocap". */
  name?: string;
  /** Device-time bucket for envelope decimation, ms. Default 250. */
  bucketMs?: number;
  /** Fit window, ms of device time (rounded to whole buckets). Default 32000. */
  windowMs?: number;
  /** Device-time span of evidence before the drift is fitted from the hull, ms. Default 1000. */
  minSlopeSpanMs?: number;
  /** Device-time span of evidence before the state becomes 'locked', ms. Default 5000. */
  lockSpanMs?: number;
  /** Drift estimates are clamped to +-this; larger true drift is a broken clock. Default 2000. */
  maxDriftPpm?: number;
  /** While converging, an arrival earlier than the model allows by more than this is inconsistent, ms. Default 20. */
  rejectEarlyMs?: number;
  /** Once locked, the same limit, ms. Default 2 (a locked line is good to a fraction of a ms). */
  rejectEarlyLockedMs?: number;
  /** An arrival later than the model predicts by more than this is inconsistent, ms. Default 2000. */
  rejectLateMs?: number;
  /** Device time going backwards by more than this is inconsistent, µs. Default 1000. */
  backwardsToleranceUs?: number;
  /** Inconsistent observations agreeing for this much device time re-seed the model, ms. Default 300. */
  reseedSpanMs?: number;
  /** ... agreeing means their arrival - device offsets stay within this, ms. Default 20. */
  reseedAgreementMs?: number;
  /**
   * If all arrivals of the newest two seconds sit this far above the fitted line, the rate changed inside
   * the window and its older half is dropped, ms. Above the delivery burst period. Default 2.
   */
  rateChangeMs?: number;
  /** The same test for all lower bounds of the newest second of round trips (3 or more), ms. Default 0.25. */
  rateChangePingMs?: number;
  /** No accepted observation for this long makes the state 'stale', ms. Default 1000. */
  staleAfterMs?: number;
  /** Host clock for staleness, ms. Default `monotonicMs`. */
  now?: () => number;
}

export interface ClockStatus {
  name: string;
  state: ClockState;
  /** host - device/1000 at the newest evidence, ms (changes with drift). */
  offsetMs: number;
  /** Device clock rate relative to the host, ppm; positive: the device runs fast. */
  driftPpm: number;
  /** Median distance of the upper-bound envelope points above the fitted line, ms: how tight the evidence is. */
  residualMs: number;
  /** Highest lower bound to lowest upper bound distance at the fit (min round trip), ms; NaN without pings. */
  boundGapMs: number;
  /** Device-time span of the evidence in the window, s. */
  spanS: number;
  observations: number;
  /** Observations rejected as nonsense (non-finite, backwards, far off the model, impossible round trips). */
  rejected: number;
  /** Inconsistent observations held back: they become `rejected` or, if they persist, a re-seed. */
  pending: number;
  reseeds: number;
  /** Times the window was cut short because the clock rate changed inside it. */
  rateChanges: number;
}

/** A block's first-sample device time, or the synthetic one (index x nominal period) if it has none. */
export function blockDeviceUs(block: SampleBlock): number {
  return Number.isFinite(block.deviceTimeUs) ? block.deviceTimeUs : (block.firstSample * 1e6) / block.rate;
}
