import { ReflexError } from '../core/errors.js';

/** Codes of ProgramError. */
export const ProgramCodes = {
  /** A node or snapshot is malformed (the message names the path). */
  invalid: 'E_PROGRAM_INVALID',
  /** A CALLed function threw or rejected. */
  call: 'E_PROGRAM_CALL',
  /** CALL names a function that is not registered. */
  unknownFn: 'E_PROGRAM_UNKNOWN_FN',
  /** A register is missing or has the wrong type. */
  register: 'E_PROGRAM_REGISTER',
  /** A command could not start, timed out, or (with check) exited non-zero. */
  popen: 'E_PROGRAM_POPEN',
  /** A spawned fragment failed or its worker died. */
  spawn: 'E_PROGRAM_SPAWN',
  /** step() after done/failed, snapshot with work in flight, a wait on nothing. */
  state: 'E_PROGRAM_STATE',
  /** The run was aborted through its signal. */
  aborted: 'E_PROGRAM_ABORTED',
} as const;
export type ProgramErrorCode = (typeof ProgramCodes)[keyof typeof ProgramCodes];

export class ProgramError extends ReflexError {
  /** Where in the tree it happened, e.g. "SEQ[2].REPEAT.body.CALL(mark)". */
  readonly where: string;
  constructor(code: ProgramErrorCode, where: string, message: string, options?: { cause?: unknown }) {
    super(code, where ? `${where}: ${message}` : message, options);
    this.where = where;
  }
}
