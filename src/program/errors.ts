import { ReflexError } from '../core/errors.js';

/** Codes of ProgramError. */
export type ProgramErrorCode =
  | 'E_PROGRAM_INVALID' // a node or snapshot is malformed (message names the path)
  | 'E_PROGRAM_CALL' // a CALLed function threw or rejected
  | 'E_PROGRAM_UNKNOWN_FN' // CALL names a function that is not registered
  | 'E_PROGRAM_REGISTER' // a register is missing or has the wrong type
  | 'E_PROGRAM_POPEN' // a command could not start, timed out, or (with check) exited non-zero
  | 'E_PROGRAM_SPAWN' // a spawned fragment failed or its worker died
  | 'E_PROGRAM_STATE' // step() after done/failed, snapshot with work in flight, ...
  | 'E_PROGRAM_ABORTED'; // the run was aborted through its signal

export class ProgramError extends ReflexError {
  /** Where in the tree it happened, e.g. "SEQ[2].REPEAT.body.CALL(mark)". */
  readonly where: string;
  constructor(code: ProgramErrorCode, where: string, message: string, options?: { cause?: unknown }) {
    super(code, where ? `${where}: ${message}` : message, options);
    this.where = where;
  }
}
