/**
 * Opening recordings for offline commands. A file that cannot be read, is not XDF or is damaged
 * is bad input to replay and train: its reader error becomes a ConfigError (exit 2) with the
 * same code and message, which names the file.
 */
import { ConfigError, isReflexError } from '../core/errors.js';
import type { Recording } from '../record/types.js';
import { readRecording } from '../record/xdf-reader.js';

export function openRecording(path: string): Recording {
  try {
    return readRecording(path);
  } catch (err) {
    if (isReflexError(err) && !(err instanceof ConfigError)) throw new ConfigError(err.code, err.message, { cause: err });
    throw err;
  }
}
