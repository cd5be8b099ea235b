/**
 * The recorder of `reflex run --record FILE`: a local Recorder (the publisher's tap) whose file
 * header and stream headers carry the run: its configuration, the board definition and the
 * model directory. Kept apart from the CLI so tests and embedders open it the same way.
 */
import { basename } from 'node:path';
import { loadBoard } from '../boards/load.js';
import type { RunConfig } from '../runtime/config.js';
import { Recorder } from './recorder.js';

export interface RunRecorderOptions {
  /** Replace an existing file (`--force`). */
  overwrite?: boolean;
}

/** Opens FILE (refusing to replace it unless `overwrite`) for the run `cfg` describes. */
export function openRunRecorder(cfg: RunConfig, path: string, opts: RunRecorderOptions = {}): Recorder {
  const board = loadBoard(cfg.board);
  return new Recorder({
    path,
    overwrite: opts.overwrite,
    clock: 'local',
    source: { runtime: cfg.runtimeId, board: board.id },
    run: {
      // Round-tripped through JSON so the headers hold exactly what a reader will parse back.
      run_config: JSON.parse(JSON.stringify(cfg)) as unknown,
      board_def: JSON.parse(JSON.stringify(board)) as unknown,
      model_dir: cfg.model,
      model_id: cfg.model === null ? null : basename(cfg.model),
    },
  });
}
