/**
 * `reflex calibrate` as a function (docs/calibrate.md): load the calibration program, start or
 * reach the runtime, record while the program runs, and close the recording however it ends.
 */
import type { Logger } from '../core/log.js';
import { loadCalibrationFile, shortened, type CalibrationFile } from '../program/protocols/calibration-file.js';
import type { RecorderStats } from '../record/recorder.js';
import type { RunConfig } from '../runtime/config.js';
import type { KeyPair } from '../telemetry/keys.js';
import { connectRemote, startLocal, type LiveTarget } from './live.js';
import { runCalibration, type CalibrationRunResult } from './session.js';

export interface CalibrateOptions {
  /** Calibration program file (default: the shipped programs/calibration.json). */
  program?: string;
  /** Every duration divided by 1000 (tests, demos). */
  fast?: boolean;
  /** The XDF file to write. */
  record: string;
  overwrite?: boolean;
  /** A runtime started here on this board... */
  local?: { board: string; config?: RunConfig; guardProcess?: boolean };
  /** ...or one running elsewhere. */
  remote?: { telemetry: string; control: string; serverKey?: string; keyPair?: KeyPair };
  print: (line: string) => void;
  log: Logger;
  signal?: AbortSignal;
}

export interface CalibrateResult extends CalibrationRunResult {
  file: string;
  program: string;
  recording: RecorderStats;
}

export async function calibrate(o: CalibrateOptions): Promise<CalibrateResult> {
  const loaded = await loadCalibrationFile(o.program);
  const file: CalibrationFile = o.fast ? shortened(loaded) : loaded;
  const recording = {
    path: o.record,
    ...(o.overwrite !== undefined && { overwrite: o.overwrite }),
    run: { calibration: { name: file.name, path: file.path, fast: o.fast === true, registers: file.registers, program: file.program } },
  };
  const live: LiveTarget = o.remote
    ? await connectRemote({ ...o.remote, recording, log: o.log })
    : await startLocal({ board: o.local?.board ?? 'sim', ...o.local, recording, log: o.log, ...(o.signal && { signal: o.signal }) });
  o.print(`calibration "${file.name}" on ${live.describe}, recording to ${o.record}`);
  let result: CalibrationRunResult;
  try {
    result = await runCalibration({ file, live, print: o.print, ...(o.signal && { signal: o.signal }) });
    // Over telemetry the last markers may still be on their way: the file gets them before it closes.
    if (result.lastMarkAtMs !== null) await live.drain(result.lastMarkAtMs);
  } finally {
    // Whatever ended the program (done, Ctrl-C, a refused marker), the file is closed whole.
    await live.close();
  }
  return { ...result, file: o.record, program: file.path, recording: live.recorder.stats() };
}
