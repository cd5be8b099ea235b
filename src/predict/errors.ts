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
export const ModelCodes = {
  /** The model directory, model.json, reflex-model.json or a weights file does not exist. */
  missing: 'E_MODEL_MISSING',
  /** The model's input or output shape does not fit its metadata, the board or the running loop. */
  shape: 'E_MODEL_SHAPE',
  /** reflex-model.json is unreadable, not JSON, or a field has the wrong type. */
  meta: 'E_MODEL_META',
  /** model.json (or a kernel spec) is not a usable TensorFlow.js model. */
  format: 'E_MODEL_FORMAT',
  /** The weights files do not hold the bytes model.json describes. */
  weights: 'E_MODEL_WEIGHTS',
  /** A model switched in live was trained on other features than the running pipeline. */
  features: 'E_MODEL_FEATURES',
  /** The compiled kernel's outputs differ from TensorFlow.js's (a Reflex bug: PredictorError). */
  compileMismatch: 'E_COMPILE_MISMATCH',
  /** The model cannot be compiled, and the chosen path needs the compiled kernel. */
  compileUnsupported: 'E_COMPILE_UNSUPPORTED',
  /** No TensorFlow.js backend could be initialised (PredictorError). */
  backend: 'E_BACKEND',
} as const;
export type ModelErrorCode = (typeof ModelCodes)[keyof typeof ModelCodes];

const NOT_INPUT: ReadonlySet<ModelErrorCode> = new Set([ModelCodes.backend, ModelCodes.compileMismatch]);

export function modelError(code: ModelErrorCode, message: string, cause?: unknown): ModelError | PredictorError {
  const opts = cause === undefined ? undefined : { cause };
  return NOT_INPUT.has(code) ? new PredictorError(code, message, opts) : new ModelError(code, message, opts);
}
