import { ProgramCodes, ProgramError } from './errors.js';
import type { Json } from './types.js';

/**
 * The registers: a typed key/value store programs read and write. Values are JSON (checked on
 * write), so the whole store serialises. `R` types known keys: `new Registers<{ trial: number }>()`.
 * Every key written since construction (or `clearWritten()`) is tracked, which is what SPAWN
 * merges back.
 */
export class Registers<R extends Record<string, Json> = Record<string, Json>> {
  readonly #values = new Map<string, Json>();
  readonly #written = new Set<string>();

  constructor(initial: Partial<R> | Record<string, Json> = {}) {
    for (const [k, v] of Object.entries(initial)) if (v !== undefined) this.#values.set(k, checkJson(v, k));
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  get<K extends keyof R & string>(key: K): R[K] | undefined;
  get(key: string): Json | undefined;
  get(key: string): Json | undefined {
    return this.#values.get(key);
  }

  /** The value, or a ProgramError naming the key if it is missing. */
  require(key: string): Json {
    const v = this.#values.get(key);
    if (v === undefined) throw new ProgramError(ProgramCodes.register, '', `register "${key}" is not set: SET it or pass it in the initial registers`);
    return v;
  }

  number(key: string): number {
    const v = this.require(key);
    if (typeof v !== 'number') throw new ProgramError(ProgramCodes.register, '', `register "${key}" must be a number, holds ${JSON.stringify(v)}`);
    return v;
  }

  string(key: string): string {
    const v = this.require(key);
    if (typeof v !== 'string') throw new ProgramError(ProgramCodes.register, '', `register "${key}" must be a string, holds ${JSON.stringify(v)}`);
    return v;
  }

  set<K extends keyof R & string>(key: K, value: R[K]): void;
  set(key: string, value: Json): void;
  set(key: string, value: Json): void {
    this.#values.set(key, checkJson(value, key));
    this.#written.add(key);
  }

  delete(key: string): void {
    this.#values.delete(key);
    this.#written.add(key);
  }

  /** Keys written since construction or the last `clearWritten()`. */
  written(): string[] {
    return [...this.#written];
  }

  clearWritten(): void {
    this.#written.clear();
  }

  /** A plain-object copy (sorted keys, so equal stores give equal JSON). */
  toJSON(): Record<string, Json> {
    return Object.fromEntries([...this.#values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

/** Deep-copies `v` and rejects what JSON cannot carry (undefined, functions, NaN, Infinity, cycles). */
export function checkJson(v: Json, key: string): Json {
  return copy(v, key, 0);
}

function copy(v: unknown, path: string, depth: number): Json {
  if (depth > 64) throw new ProgramError(ProgramCodes.register, '', `register value ${path} is nested too deeply (cycle?)`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ProgramError(ProgramCodes.register, '', `register value ${path} is ${v}: only finite numbers survive JSON`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => copy(x, `${path}[${i}]`, depth + 1));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = copy(x, `${path}.${k}`, depth + 1);
    return out;
  }
  throw new ProgramError(
    ProgramCodes.register,
    '',
    `register value ${path} is a ${typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v}: registers hold JSON values only`,
  );
}
