import { ConfigError, ReflexError } from '../core/errors.js';

/**
 * A model directory that cannot be used as given (missing, malformed, the wrong shape, not
 * compilable where compilation is required): bad input, so a ConfigError (the CLI exits 2 with
 * the one-line message). The message names the file and what to do.
 */
export class ModelError extends ConfigError {}

/** Not the user's model but the machine or Reflex: no TensorFlow.js backend, a compiler bug. */
export class PredictorError extends ReflexError {}

/** Codes callers branch on. */
export type ModelErrorCode =
  | 'E_MODEL_MISSING' | 'E_MODEL_SHAPE' | 'E_MODEL_META' | 'E_MODEL_FORMAT' | 'E_MODEL_WEIGHTS' | 'E_MODEL_FEATURES'
  | 'E_COMPILE_MISMATCH' | 'E_COMPILE_UNSUPPORTED' | 'E_BACKEND';

const NOT_INPUT: ReadonlySet<ModelErrorCode> = new Set(['E_BACKEND', 'E_COMPILE_MISMATCH']);

export function modelError(code: ModelErrorCode, message: string, cause?: unknown): ModelError | PredictorError {
  const opts = cause === undefined ? undefined : { cause };
  return NOT_INPUT.has(code) ? new PredictorError(code, message, opts) : new ModelError(code, message, opts);
}
