import { ConfigError } from '../core/errors.js';
import type { ShapeProblem } from './types.js';
import { UnitCodes } from './codes.js';

/** Thrown by `process` when a unit meets an input (rate, channels) its settings cannot work with. */
export const E_UNIT_SHAPE = UnitCodes.shape;

export function belowNyquist(key: string, freq: number, rate: number): ShapeProblem | undefined {
  if (freq < rate / 2) return undefined;
  return { key, message: `${freq} Hz must be below the Nyquist frequency (${rate / 2} Hz at ${rate} Hz sampling): lower it or sample faster` };
}

/** Per-channel settings must have one value or one per channel. */
export function perChannel(key: string, values: readonly number[], channels: number | undefined): ShapeProblem | undefined {
  if (channels === undefined || values.length === 1 || values.length === channels) return undefined;
  return { key, message: `has ${values.length} values but the input has ${channels} channels: give one value, or one per channel` };
}

export function shapeError(at: string, problem: ShapeProblem): ConfigError {
  return new ConfigError(E_UNIT_SHAPE, `${at}.${problem.key}: ${problem.message}`);
}
