/**
 * Calibration programs as files users copy and edit (docs/calibrate.md): a JSON document
 * `{format: "reflex-calibration/1", name, registers, prompts, program}`, or a JS module whose
 * default export is that object. The program is an ordinary program tree (docs/programs.md)
 * that calls `calibration.prompt` and `calibration.mark` (calibration.ts); durations live in
 * registers named `*_ms`, so `--fast` can shorten every phase without knowing the program.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../../core/errors.js';
import { ProgramCodes, ProgramError } from '../errors.js';
import { find, isCall, replace, validateProgram } from '../tree.js';
import { isRegRef, type Json, type ProgramNode } from '../types.js';

export const CALIBRATION_FORMAT = 'reflex-calibration/1';
/**
 * A person sits through the program: a typo such as 5e12 trials or a 1e12 ms hold would keep
 * them (and the runtime) in it for ever, so counts and durations past these are refused.
 */
export const MAX_CALIBRATION_REPEAT = 10_000;
export const MAX_CALIBRATION_PHASE_MS = 3_600_000;

export interface CalibrationFile {
  format: typeof CALIBRATION_FORMAT;
  /** Shown at the start and kept in the recording's header. */
  name: string;
  /** Initial registers: `trials`, the `*_ms` durations, anything the program reads. */
  registers: Record<string, Json>;
  /** Text shown for each phase label; `{trial}`, `{trials}` and `{seconds}` are filled in. */
  prompts: Record<string, string>;
  program: ProgramNode;
  /** Where it was loaded from. */
  path: string;
}

/** The shipped program: rest, flex, extend and grip cycles (copy it to make your own). */
// src/program/protocols (tsx) or dist/program/protocols (built): the package root is three up.
export const DEFAULT_CALIBRATION_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'programs', 'calibration.json');

function fail(file: string, message: string, cause?: unknown): never {
  throw new ConfigError(ProgramCodes.invalid, `${file}: ${message}`, cause === undefined ? undefined : { cause });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a parsed calibration document; every error names the file and the key. */
export function parseCalibrationFile(raw: unknown, file: string): CalibrationFile {
  if (!isRecord(raw)) fail(file, `must be an object {format: "${CALIBRATION_FORMAT}", name, registers, prompts, program}`);
  const extra = Object.keys(raw).filter((k) => !['format', 'name', 'about', 'registers', 'prompts', 'program'].includes(k));
  if (extra.length > 0) fail(file, `unknown keys: ${extra.join(', ')} (keys: format, name, about, registers, prompts, program)`);
  if (raw.format !== CALIBRATION_FORMAT) fail(file, `format must be "${CALIBRATION_FORMAT}", got ${JSON.stringify(raw.format)}`);
  if (typeof raw.name !== 'string' || raw.name === '') fail(file, 'name must be a non-empty string');
  if (raw.about !== undefined && typeof raw.about !== 'string') fail(file, 'about must be a string (a note for whoever edits the file)');
  const registers = raw.registers ?? {};
  if (!isRecord(registers)) fail(file, 'registers must be an object of JSON values');
  for (const [k, v] of Object.entries(registers)) {
    if (k.endsWith('_ms') && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) fail(file, `registers.${k} must be a duration in ms >= 0`);
    if (k.endsWith('_ms') && (v as number) > MAX_CALIBRATION_PHASE_MS)
      fail(file, `registers.${k} is ${String(v)} ms; a calibration phase lasts at most ${MAX_CALIBRATION_PHASE_MS} ms (1 h)`);
  }
  const prompts = raw.prompts ?? {};
  if (!isRecord(prompts)) fail(file, 'prompts must map phase labels to the text shown');
  for (const [k, v] of Object.entries(prompts)) if (typeof v !== 'string') fail(file, `prompts.${k} must be a string`);
  try {
    validateProgram(raw.program);
  } catch (err) {
    if (err instanceof ProgramError) fail(file, err.message, err);
    throw err;
  }
  const program = raw.program;
  boundedRepeatsAndWaits(file, program, registers);
  if (find(program, isCall('calibration.mark')).length === 0)
    fail(file, 'the program never calls calibration.mark, so the recording would hold no phase markers');
  return {
    format: CALIBRATION_FORMAT,
    name: raw.name,
    registers: registers as Record<string, Json>,
    prompts: prompts as Record<string, string>,
    program,
    path: file,
  };
}

/** Literal or register-given REPEAT counts and WAIT durations within the limits above. */
function boundedRepeatsAndWaits(file: string, program: ProgramNode, registers: Record<string, unknown>): void {
  // A register the file does not set may be SET by the program itself: only the runner can check that one.
  const value = (e: unknown): { v: unknown; where: string } | undefined =>
    isRegRef(e) ? (Object.hasOwn(registers, e.$reg) ? { v: registers[e.$reg], where: `registers.${e.$reg}` } : undefined) : { v: e, where: '' };
  for (const { path, node } of find(program, (n) => n.op === 'REPEAT' || n.op === 'BUFFER_REPEAT' || n.op === 'WAIT')) {
    const at = `program${path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
    if (node.op === 'WAIT') {
      const d = value((node as { ms?: unknown }).ms);
      if (d && !(typeof d.v === 'number' && d.v >= 0 && d.v <= MAX_CALIBRATION_PHASE_MS))
        fail(file, `${d.where || `${at}.ms`} is ${JSON.stringify(d.v) ?? String(d.v)} (WAIT at ${at}); a wait lasts 0..${MAX_CALIBRATION_PHASE_MS} ms`);
      continue;
    }
    const t = value((node as { times?: unknown }).times);
    if (t && !(typeof t.v === 'number' && Number.isInteger(t.v) && t.v >= 0 && t.v <= MAX_CALIBRATION_REPEAT))
      fail(
        file,
        `${t.where || `${at}.times`} is ${JSON.stringify(t.v) ?? String(t.v)} (REPEAT at ${at}); ` +
          `a calibration repeats a whole number 0..${MAX_CALIBRATION_REPEAT} times`,
      );
  }
}

/** Loads a `.json` calibration file, or a `.js`/`.mjs` module exporting one as its default. */
export async function loadCalibrationFile(path: string = DEFAULT_CALIBRATION_FILE): Promise<CalibrationFile> {
  const file = resolve(path);
  if (!existsSync(file)) fail(file, `does not exist; copy ${DEFAULT_CALIBRATION_FILE} and edit it`);
  const ext = extname(file);
  if (ext === '.js' || ext === '.mjs') {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (err) {
      fail(file, `cannot be loaded as a module: ${(err as Error).message}`, err);
    }
    return parseCalibrationFile(mod.default, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(file, `is not valid JSON (${(err as Error).message})`, err);
  }
  return parseCalibrationFile(raw, file);
}

/**
 * The same program with every duration divided by `factor` (default 1000: seconds become
 * milliseconds): each `*_ms` register and each literal WAIT, rounded up to whole ms.
 */
export function shortened(f: CalibrationFile, factor = 1000): CalibrationFile {
  if (!(factor >= 1)) throw new ProgramError(ProgramCodes.invalid, 'fast', `factor must be >= 1, got ${factor}`);
  const scale = (ms: number): number => (ms === 0 ? 0 : Math.max(1, Math.ceil(ms / factor)));
  const registers = Object.fromEntries(Object.entries(f.registers).map(([k, v]) => [k, k.endsWith('_ms') && typeof v === 'number' ? scale(v) : v]));
  const program = replace(
    f.program,
    (n) => n.op === 'WAIT' && typeof n.ms === 'number',
    (n) => ({ op: 'WAIT', ms: scale((n as { ms: number }).ms) }),
  );
  return { ...f, registers, program };
}
