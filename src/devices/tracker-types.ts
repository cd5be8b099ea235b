/**
 * What every tracker feed produces: one clock-mapped sample at a time.
 *
 * The sample object and its `values` array belong to the feed and are reused for the next
 * sample: consumers copy what they keep (the aligner's tracker ring does).
 */
import type { ClockStatus } from '../time/clock-model.js';

export interface TrackerSample {
  /** When the pose was measured, CLOCK_MONOTONIC ms. */
  hostTimeMs: number;
  /** dims values, in the feed's units. */
  values: Float32Array;
  /** False when the sender flagged it (occlusion) or a value is not finite. */
  valid: boolean;
  /** Sender's sequence number (or a local count if the format has none). */
  seq: number;
}

export type TrackerListener = (sample: TrackerSample) => void;

export interface TrackerFeed {
  readonly name: string;
  readonly dims: number;
  /** Register a listener; returns a function that removes it. */
  onSample(listener: TrackerListener): () => void;
  /** Counts of what was dropped and why, plus delivered samples. */
  counters(): Record<string, number>;
  /** The feed's clock model status, or null when times need no mapping (host clock, arrival). */
  clockStatus(): ClockStatus | null;
  close(): Promise<void>;
}
