/**
 * What a board definition (and the run configuration's tracker) says about the streams a run
 * handles: EMG channels and rate, and the tracker's shape.
 */
import type { BoardDef } from '../boards/types.js';
import type { RunConfig } from './config.js';

/** EMG channels the board streams (a Cyton always streams 8). */
export function emgChannels(board: BoardDef): number {
  return board.source.kind === 'cyton' ? 8 : board.source.channels;
}

/** Raw EMG sample rate in Hz, before any feature unit decimates it (a Cyton's is 250). */
export function emgRateHz(board: BoardDef): number {
  return board.source.kind === 'cyton' ? 250 : board.source.rate;
}

export interface TrackerShape {
  dims: number;
  names: readonly string[];
  unit: string;
}

/** The run configuration's external tracker if it names one, else the board's built-in one, else none. */
export function trackerShape(config: RunConfig, board: BoardDef): TrackerShape | null {
  const t = config.tracker;
  if (t) return { dims: t.dims, names: t.names, unit: '' };
  return board.tracker ? { dims: board.tracker.dims, names: board.tracker.names, unit: board.tracker.unit } : null;
}
