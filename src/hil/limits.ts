/** The limits a HIL run judges against (the board's `hil` section) and the statistics it reports. */
import type { BoardDef, HilDef } from '../boards/types.js';
import { CoreCodes } from '../core/codes.js';
import { ConfigError } from '../core/errors.js';

/** How long the simulated unplug keeps the cable out when the board does not say (hil.unplugMs). */
export const DEFAULT_UNPLUG_MS = 300;

/** The board's hil section, or a ConfigError saying how to add one. */
export function hilLimits(board: BoardDef): HilDef {
  if (!board.hil) {
    throw new ConfigError(
      CoreCodes.config,
      `board "${board.id}"${board.file ? ` (${board.file})` : ''} has no "hil" section: ` +
        `add the limits to check against (docs/hil.md, "The board's hil section")`,
    );
  }
  return board.hil;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
}

export function latencyStats(values: readonly number[]): LatencyStats {
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : Number.NaN, min: s.length ? s[0]! : Number.NaN };
}

/**
 * Samples counted over host time: `ends[i]` samples had arrived by `arrivals[i]` (ms). A
 * block's arrival is its completion plus a delay (transport, scheduling) that is never
 * negative and usually near its minimum, so each end of the span is anchored on the block
 * with the least delay (arrival - ends * nominal period) in the first and last quarter: the
 * rate between the two anchors is free of the delays' spread. Resolution: one block's
 * duration over the span, as a fraction (ppm).
 */
export function countedRate(arrivals: readonly number[], ends: readonly number[], nominalHz: number): { hz: number; resolutionPpm: number } {
  const n = arrivals.length;
  if (n < 8) return { hz: Number.NaN, resolutionPpm: Number.NaN };
  const period = 1000 / nominalHz;
  const anchor = (from: number, to: number): number => {
    let best = from;
    for (let i = from; i < to; i++) if (arrivals[i]! - ends[i]! * period < arrivals[best]! - ends[best]! * period) best = i;
    return best;
  };
  const q = Math.floor(n / 4);
  const i0 = anchor(0, q);
  const i1 = anchor(n - q, n);
  const spanMs = arrivals[i1]! - arrivals[i0]!;
  const blockMs = ((ends[n - 1]! - ends[0]!) / (n - 1)) * period;
  return { hz: ((ends[i1]! - ends[i0]!) / spanMs) * 1000, resolutionPpm: (blockMs / spanMs) * 1e6 };
}

/** Rounds for the report: measured values to 3 decimals, so a report reads cleanly. */
export function r3(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1000) / 1000 : Number.NaN;
}
