/** `reflex/program`: step-able, serialisable protocol programs and the calibration session (docs/programs.md). */
export type * from '../program/types.js';
export { isRegRef } from '../program/types.js';
export { BUFFER_REPEAT, CALL, CHOOSE, LOOP, POPEN, PRINT, reg, REPEAT, SEQ, SET, SPAWN, SWITCH, WAIT, WEAVE } from '../program/build.js';
export { ProgramRunner } from '../program/runner.js';
export { type Drivable, drive } from '../program/drive.js';
export { run } from '../program/run.js';
export type { ProgramContext, ProgramSnapshot } from '../program/context.js';
export { Registers } from '../program/registers.js';
export { FunctionRegistry, type CallContext, type ProgramFunction } from '../program/functions.js';
export { ManualClock, systemClock, VirtualClock, type Clock } from '../program/clock.js';
export { ProgramError, type ProgramErrorCode } from '../program/errors.js';
export { children, find, isCall, nodeAt, replace, validateProgram, type NodePath } from '../program/tree.js';
export { printProgram } from '../program/print.js';
export type { CommandResult } from '../program/popen.js';
export {
  calibrationFunctions,
  calibrationProgram,
  SEGMENTS,
  type CalibrationCallbacks,
  type CalibrationMark,
  type CalibrationOptions,
  type CalibrationPrompt,
  type CalibrationSegment,
} from '../program/protocols/calibration.js';
export { DEFAULT_CALIBRATION_FILE, loadCalibrationFile, parseCalibrationFile, shortened, type CalibrationFile } from '../program/protocols/calibration-file.js';
