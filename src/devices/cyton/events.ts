/** What the Cyton parser and session report besides sample blocks. */
/**
 * Counted, never thrown: what the parser saw go wrong (and how much went right).
 * - `garbage_bytes`: bytes dropped while looking for a header (text, noise, a torn packet)
 * - `bad_footer`: a 0xA0 whose 33rd byte was not 0xCX: a false header, resynchronised past
 * - `unknown_footer`: a framed packet with footer 0xC7..0xCF: samples kept, aux passed on raw
 * - `repeated_sample`: the same sample number twice in a row: the packet is dropped
 * - `dropped_samples` / `gaps`: samples missing according to the sample number
 */
export type CytonCounterKey = 'packets' | 'garbage_bytes' | 'bad_footer' | 'unknown_footer' | 'repeated_sample' | 'dropped_samples' | 'gaps';

/** Accelerometer reading in g. Reused between calls: copy what you keep. */
export interface CytonAccelEvent {
  readonly kind: 'accel';
  /** Stream sample index of the packet that completed the reading. */
  readonly sample: number;
  readonly x: number;
  readonly y: number;
  readonly z: number;
  /** Board time in ms from a time-stamped footer, NaN for 0xC0 packets. */
  readonly boardTimeMs: number;
}

/** Aux bytes the parser does not interpret (0xC1, 0xC2, 0xC5, 0xC6, 0xC7..0xCF). Reused: copy what you keep. */
export interface CytonRawAuxEvent {
  readonly kind: 'raw';
  readonly sample: number;
  readonly footer: number;
  /** The 6 aux bytes as sent (for 0xC5/0xC6 the first 2 are user data, the last 4 the timestamp). */
  readonly bytes: Uint8Array;
  readonly boardTimeMs: number;
}

/** A 0xC3/0xC5 packet: the board's reply to the time-sync `<` command. */
export interface CytonTimeSyncEvent {
  readonly kind: 'time_sync';
  readonly sample: number;
  readonly boardTimeMs: number;
}

export type CytonAuxEvent = CytonAccelEvent | CytonRawAuxEvent | CytonTimeSyncEvent;

/**
 * Samples that never arrived. `dropped`: the sample number skipped within a connection;
 * `outage`/`stall`: the link was lost (port closed or failed / no bytes for the stall timeout).
 */
export interface CytonGapEvent {
  readonly stream: string;
  readonly reason: 'dropped' | 'outage' | 'stall';
  /** Stream index of the first missing sample. */
  readonly fromSample: number;
  readonly missingSamples: number;
  /** Device time of the first missing sample (sample-counter clock), µs. */
  readonly deviceTimeUs: number;
  /**
   * Device time from the last sample before the gap to the first one after it, µs:
   * (missingSamples + 1) x 4000 on the sample-counter clock.
   */
  readonly deviceSpanUs: number;
  /** Host arrival (monotonic ms) of the last sample before the gap; NaN if none arrived yet. */
  readonly hostFromMs: number;
  /** Host arrival of the first sample after the gap (for outages: of the first bytes). */
  readonly hostToMs: number;
  /** hostToMs - hostFromMs (NaN only if no sample had arrived before). */
  readonly hostSpanMs: number;
  /** Raw u8 sample numbers either side ('dropped'; NaN for outages, as the board restarts its count). */
  readonly fromSeq: number;
  readonly toSeq: number;
}
