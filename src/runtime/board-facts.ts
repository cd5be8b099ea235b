/**
 * What a board definition (and the run configuration's tracker) says about the streams a run
 * handles: EMG channels and rate, and the tracker's shape.
 */
import type { BoardDef } from '../boards/types.js';
import { CYTON_CHANNELS, CYTON_RATE_HZ, DAISY_CHANNELS, DAISY_RATE_HZ } from '../devices/cyton/format.js';
import type { RunConfig } from './config.js';

/** EMG channels the board streams (a Cyton 8, a Cyton with its Daisy 16). */
export function emgChannels(board: BoardDef): number {
  if (board.source.kind === 'cyton') return board.source.daisy ? DAISY_CHANNELS : CYTON_CHANNELS;
  return board.source.channels;
}

/** Raw EMG sample rate in Hz, before any feature unit decimates it (a Cyton's is 250, with a Daisy 125). */
export function emgRateHz(board: BoardDef): number {
  if (board.source.kind === 'cyton') return board.source.daisy ? DAISY_RATE_HZ : CYTON_RATE_HZ;
  return board.source.rate;
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
