/**
 * What `reflex boards` prints: the shipped boards in a line each, one board resolved, and the
 * problems of a user's own file (schema problems all at once, then the checks only code can
 * make, such as a safe state inside min..max).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, ReflexError } from '../core/errors.js';
import { readJsonFile } from '../core/validate.js';
import { boardsDir, listBoards, loadBoard, validateBoard } from './load.js';
import { loadBoardSchema, schemaProblems } from './schema.js';
import type { BoardDef, SourceDef } from './types.js';

export interface BoardListing {
  id: string;
  name: string;
  /** The EMG source in a few words, e.g. "bridge over serial /dev/serial/by-id/..., 1000 Hz x 8". */
  source: string;
}

export function describeSource(s: SourceDef): string {
  if (s.kind === 'cyton') return `cyton on ${s.path}`;
  if (s.kind === 'ads1299') return `ads1299 on SPI, ${s.rate} Hz x ${s.channels}`;
  if (s.transport === 'sim') return `bridge (simulated), ${s.rate} Hz x ${s.channels}`;
  return `bridge over serial ${s.path}, ${s.rate} Hz x ${s.channels}`;
}

/** Every board in `dir`. A broken shipped file throws: it is a bug. */
export function listBoardSummaries(dir = boardsDir): BoardListing[] {
  return listBoards(dir).map((id) => {
    const b = loadBoard(id, dir);
    return { id: b.id, name: b.name, source: describeSource(b.source) };
  });
}

/** One board as the runtime sees it (paths resolved), without the `file` it came from. */
export function resolvedBoard(idOrPath: string, dir = boardsDir): Omit<BoardDef, 'file'> {
  const { file: _file, ...board } = loadBoard(idOrPath, dir);
  return board;
}

/**
 * Problems of the board file at `file`, one line each, every line starting with the file and
 * naming the key ("x.json: \"actuators[0].safe\" ..."). Empty: the file is a valid board.
 */
export function checkBoardFile(file: string, schemaDir = boardsDir): string[] {
  const path = resolve(file);
  if (!existsSync(path)) return [`${path}: no such file`];
  let raw: unknown;
  try {
    raw = readJsonFile(path);
  } catch (err) {
    if (err instanceof ConfigError) return [err.message];
    throw err;
  }
  const problems = schemaProblems(raw, loadBoardSchema(schemaDir)).map((p) => `${path}: "${p.path}" ${p.message}`);
  if (problems.length > 0) return problems;
  try {
    validateBoard(raw, path);
  } catch (err) {
    if (err instanceof ReflexError) return [err.message];
    throw err;
  }
  return [];
}
