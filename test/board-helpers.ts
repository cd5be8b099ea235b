/** Shared by the board-file tests (not a test file itself): shipped board JSON and the Validator's verdict. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boardsDir, validateBoard } from '../src/boards/load.js';
import { ConfigError } from '../src/core/errors.js';

export type Json = Record<string, unknown>;

/** boards/<id>.json as raw JSON, before any validation. */
export function shipped(id: string): Json {
  return JSON.parse(readFileSync(join(boardsDir, `${id}.json`), 'utf8')) as Json;
}

/** The Validator's verdict: undefined when it accepts, else its message. */
export function validatorSays(raw: unknown): string | undefined {
  try {
    validateBoard(raw, 'x.json');
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}
