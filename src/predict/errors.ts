import { ReflexError } from '../core/errors.js';

/** Model files problems: the message names the file and what to do. */
export class ModelError extends ReflexError {}

/** Codes callers branch on. */
export type ModelErrorCode = 'E_MODEL_MISSING' | 'E_MODEL_SHAPE' | 'E_MODEL_META' | 'E_MODEL_FORMAT' | 'E_COMPILE_MISMATCH' | 'E_COMPILE_UNSUPPORTED' | 'E_BACKEND';

export function modelError(code: ModelErrorCode, message: string, cause?: unknown): ModelError {
  return new ModelError(code, message, cause === undefined ? undefined : { cause });
}
