import { ConfigError } from '../core/errors.js';
import { UnitCodes } from './codes.js';

/** Every settings error has this code; the message starts with the path of the bad key. */
export const E_UNIT_SETTING = UnitCodes.setting;

interface NumberRule {
  min?: number;
  max?: number;
  /** Lower bound that the value must exceed (not equal). */
  above?: number;
  integer?: boolean;
}

/**
 * Reads one unit's JSON settings and names the offending key in every error
 * (`pipeline[2].order: must be an integer from 2 to 8, got 9`). Unknown keys are errors too,
 * because a misspelt `hihg` silently falling back to a default is worse than a failed start.
 */
export class SettingsReader {
  readonly at: string;
  readonly #raw: Record<string, unknown>;

  constructor(raw: unknown, at: string, known: readonly string[]) {
    this.at = at;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(E_UNIT_SETTING, `${at}: must be an object like { "unit": "bandpass", ... }, got ${show(raw)}`);
    }
    this.#raw = raw as Record<string, unknown>;
    for (const key of Object.keys(this.#raw)) {
      if (key !== 'unit' && !known.includes(key)) {
        const hint = known.length > 0 ? `known settings: ${known.join(', ')}` : 'this unit takes no settings';
        throw new ConfigError(E_UNIT_SETTING, `${at}.${key}: unknown setting (${hint})`);
      }
    }
  }

  has(key: string): boolean {
    return this.#raw[key] !== undefined;
  }

  fail(key: string, message: string): never {
    throw new ConfigError(E_UNIT_SETTING, `${this.at}.${key}: ${message}`);
  }

  number(key: string, rule: NumberRule = {}, fallback?: number): number {
    const v = this.#raw[key];
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      this.fail(key, `required: ${describe(rule)}`);
    }
    checkNumber(v, rule, (m) => this.fail(key, m));
    return v as number;
  }

  /** A number for every channel, or one number for all of them (returned as a one-element array). */
  numbers(key: string, rule: NumberRule = {}, fallback?: number): readonly number[] {
    const v = this.#raw[key];
    if (v === undefined && fallback !== undefined) return [fallback];
    if (Array.isArray(v)) {
      if (v.length === 0) this.fail(key, 'must not be an empty array');
      v.forEach((x, i) => checkNumber(x, rule, (m) => this.fail(`${key}[${i}]`, m)));
      return Object.freeze(v.slice() as number[]);
    }
    return Object.freeze([this.number(key, rule)]);
  }

  oneOf<T extends string | number>(key: string, values: readonly T[], fallback?: T): T {
    const v = this.#raw[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (!values.includes(v as T)) this.fail(key, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${show(v)}`);
    return v as T;
  }
}

function checkNumber(v: unknown, rule: NumberRule, fail: (m: string) => never): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${describe(rule)}, got ${show(v)}`);
  const n = v;
  if (
    (rule.integer && !Number.isInteger(n)) ||
    (rule.min !== undefined && n < rule.min) ||
    (rule.max !== undefined && n > rule.max) ||
    (rule.above !== undefined && n <= rule.above)
  ) {
    fail(`${describe(rule)}, got ${show(v)}`);
  }
}

function describe(rule: NumberRule): string {
  const what = rule.integer ? 'an integer' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined) return `must be ${what} from ${rule.min} to ${rule.max}`;
  if (rule.min !== undefined) return `must be ${what} >= ${rule.min}`;
  if (rule.above !== undefined) return `must be ${what} > ${rule.above}`;
  if (rule.max !== undefined) return `must be ${what} <= ${rule.max}`;
  return `must be ${what}`;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  if (s !== undefined) return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  return typeof v === 'symbol' ? v.toString() : `a ${typeof v}`; // a function
}
