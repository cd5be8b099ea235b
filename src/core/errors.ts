/**
 * Every error Reflex raises on purpose is a ReflexError with a stable `code`.
 * Tests and callers branch on `code`; the message is for people and says what to do.
 * Codes come from the modules' tables (src/core/codes.ts); docs/errors.md explains each.
 */
import { CoreCodes, type ErrorCode } from './codes.js';

export type { ErrorCode } from './codes.js';

export class ReflexError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad usage or configuration: the CLI maps this to exit code 2. */
export class ConfigError extends ReflexError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A device went away (unplug, EIO, closed pty). Mirrors serialport's `disconnected: true`. */
export class DisconnectedError extends ReflexError {
  readonly disconnected = true as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(CoreCodes.disconnected, message, options);
  }
}

export function isReflexError(err: unknown): err is ReflexError {
  return err instanceof ReflexError;
}
