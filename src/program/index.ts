/** Step-able, serialisable control-flow programs: see docs/programs.md. */
export type * from './types.js';
export { isRegRef } from './types.js';
export { BUFFER_REPEAT, CALL, CHOOSE, LOOP, POPEN, PRINT, REPEAT, reg, SEQ, SET, SPAWN, SWITCH, WAIT, WEAVE } from './build.js';
export { ProgramRunner } from './runner.js';
export { type Drivable, drive } from './drive.js';
export { run } from './run.js';
export type { ProgramContext, ProgramSnapshot } from './context.js';
export { Registers } from './registers.js';
export { FunctionRegistry, type CallContext, type ProgramFunction } from './functions.js';
export { ManualClock, systemClock, VirtualClock, type Clock } from './clock.js';
export { ProgramError, type ProgramErrorCode } from './errors.js';
export { children, find, isCall, nodeAt, replace, validateProgram, type NodePath } from './tree.js';
export { printProgram } from './print.js';
export type { CommandResult } from './popen.js';
