/**
 * What every tracker feed produces: one clock-mapped sample at a time.
 *
 * The sample object and its `values` array belong to the feed and are reused for the next
 * sample: consumers copy what they keep (the aligner's tracker ring does).
 */
import type { ClockStatus } from '../../time/clock-model.js';

/**
 * Most values per sample any feed takes: the wire format's limit (docs/tracker.md). The one
 * place it is set; the run configuration, the feeds and the line parser all check against it.
 */
export const TRACKER_MAX_DIMS = 256;

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

/**
 * How the newest sample's time reached the host clock (docs/tracker.md, "Timestamps"):
 * - `device`: the sender's (or board's) own clock, mapped by a clock model;
 * - `synthetic`: no stamp, `seq / rateHz` mapped by a clock model;
 * - `host`: stamped on this machine's CLOCK_MONOTONIC, used as is;
 * - `arrival`: no stamp and no rate, the arrival time.
 */
export type TrackerTimeBase = 'device' | 'synthetic' | 'host' | 'arrival';

/** A feed's transport came or went: a ZeroMQ peer connected or left, a serial port opened or closed. */
export interface TrackerLinkEvent {
  kind: 'connected' | 'disconnected';
  /** The peer or port, e.g. "tcp://127.0.0.1:5570" or "/dev/ttyUSB1". */
  address: string;
}

export type TrackerLinkListener = (event: TrackerLinkEvent) => void;

export interface TrackerFeed {
  readonly name: string;
  readonly dims: number;
  /** Register a listener; returns a function that removes it. */
  onSample(listener: TrackerListener): () => void;
  /**
   * Transport events, for feeds that have a transport of their own (absent for the bridge's
   * TRACKER frames, whose link the EMG source reports). Returns a function that removes it.
   */
  onLink?(listener: TrackerLinkListener): () => void;
  /** Counts of what was dropped and why, plus delivered samples. */
  counters(): Record<string, number>;
  /** The clock model mapping the newest sample's time, or null when none is involved (host clock, arrival). */
  clockStatus(): ClockStatus | null;
  /** How the newest sample's time was mapped; null before the first sample. */
  timeBase(): TrackerTimeBase | null;
  close(): Promise<void>;
}
