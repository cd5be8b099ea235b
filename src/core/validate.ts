import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { CoreCodes } from './codes.js';

/** Parse a JSON configuration file; a syntax error is a ConfigError naming the file. */
export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new ConfigError(CoreCodes.config, `${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/**
 * Tiny structural validation for JSON configuration. Every failure is a ConfigError
 * (exit code 2 at the CLI) whose message names the file and the key path, so a user can
 * fix the right line without reading our code.
 */
export class Validator {
  readonly #file: string;
  constructor(file: string) {
    this.#file = file;
  }

  fail(path: string, msg: string): never {
    throw new ConfigError(CoreCodes.config, `${this.#file}: "${path}" ${msg}`);
  }

  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `must be an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(path, `must be a non-empty string, got ${describe(v)}`);
    return v;
  }

  number(v: unknown, path: string, range?: [number, number]): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `must be a finite number, got ${describe(v)}`);
    if (range && (v < range[0] || v > range[1])) this.fail(path, `must be in ${range[0]}..${range[1]}, got ${v}`);
    return v;
  }

  integer(v: unknown, path: string, range?: [number, number]): number {
    const n = this.number(v, path, range);
    if (!Number.isInteger(n)) this.fail(path, `must be an integer, got ${n}`);
    return n;
  }

  boolean(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
      this.fail(path, `must be one of ${options.map((o) => `"${o}"`).join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${describe(v)}`);
    return v;
  }

  /** Reject keys we do not know: a typo in a safety limit must not be silently ignored. */
  onlyKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.fail(path ? `${path}.${k}` : k, `is not a known key (known: ${allowed.join(', ')})`);
    }
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`; // a function or a symbol
}
