import { ConfigError } from '../core/errors.js';
import { compose, type Pipeline } from './compose.js';
import { decimateKind } from './decimate.js';
import { envelopeKind } from './envelope.js';
import { bandpassKind, highpassKind, lowpassKind, notchKind } from './filters.js';
import { normalizeKind } from './normalize.js';
import { rectifyKind } from './rectify.js';
import { rmsKind } from './rms.js';
import { shapeError } from './shape.js';
import { E_UNIT_SETTING } from './settings.js';
import type { InputShape, Unit, UnitKind } from './types.js';
import { windowKind } from './window.js';
import { UnitCodes } from './codes.js';

/**
 * The table of unit kinds, keyed by name (as johnny-five keys controllers by part).
 * `defaultUnitKinds` holds the built-in set; make your own registry to add kinds
 * without touching the shared one.
 */
export class UnitRegistry {
  readonly #kinds = new Map<string, UnitKind>();

  constructor(kinds: readonly UnitKind[] = []) {
    for (const k of kinds) this.register(k);
  }

  register<S>(kind: UnitKind<S>): void {
    if (this.#kinds.has(kind.kind)) throw new ConfigError(UnitCodes.kind, `unit kind "${kind.kind}" is already registered; pick another name`);
    this.#kinds.set(kind.kind, kind);
  }

  get(kind: string): UnitKind | undefined {
    return this.#kinds.get(kind);
  }

  /** Registered kinds in registration order. */
  list(): UnitKind[] {
    return [...this.#kinds.values()];
  }

  /** A copy to extend. */
  clone(): UnitRegistry {
    return new UnitRegistry(this.list());
  }
}

export const defaultUnitKinds: UnitRegistry = new UnitRegistry([
  bandpassKind,
  highpassKind,
  lowpassKind,
  notchKind,
  rectifyKind,
  rmsKind,
  envelopeKind,
  windowKind,
  decimateKind,
  normalizeKind,
]);

export interface BuildOptions {
  /** Where to look kinds up. Default `defaultUnitKinds`. */
  registry?: UnitRegistry;
  /** Name used in error paths. Default "pipeline". */
  at?: string;
  /**
   * The input the pipeline will see; when given, settings that cannot work with it (a cutoff
   * above Nyquist, per-channel lists of the wrong length) fail here instead of on the first chunk.
   * Decimation is followed: units after a decimate are checked at the reduced rate.
   */
  input?: InputShape;
}

/**
 * Build one unit from data, e.g. `{ unit: 'notch', mains: 50, harmonics: 3 }`.
 * Errors are ConfigErrors whose message starts with the path of the bad key.
 */
export function buildUnit(spec: unknown, opts: BuildOptions = {}): Unit {
  const at = opts.at ?? 'unit';
  const registry = opts.registry ?? defaultUnitKinds;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new ConfigError(E_UNIT_SETTING, `${at}: must be an object like { "unit": "bandpass", "low": 20, "high": 450 }, got ${JSON.stringify(spec)}`);
  }
  const name = (spec as { unit?: unknown }).unit;
  const kind = typeof name === 'string' ? registry.get(name) : undefined;
  if (!kind) {
    const known = registry
      .list()
      .map((k) => k.kind)
      .join(', ');
    throw new ConfigError(E_UNIT_SETTING, `${at}.unit: ${name === undefined ? 'missing' : `unknown unit kind ${JSON.stringify(name)}`}; known kinds: ${known}`);
  }
  const settings = kind.parse(spec, at);
  if (opts.input && kind.checkShape) {
    const problem = kind.checkShape(settings, opts.input);
    if (problem) throw shapeError(at, problem);
  }
  return kind.create(settings);
}

/**
 * Build a pipeline from data: `buildPipeline([{ unit: 'bandpass', low: 20, high: 450, order: 4 }, ...])`.
 * Errors name the key: `pipeline[0].high: ...`.
 */
export function buildPipeline(specs: unknown, opts: BuildOptions = {}): Pipeline {
  const at = opts.at ?? 'pipeline';
  if (!Array.isArray(specs)) {
    throw new ConfigError(
      E_UNIT_SETTING,
      `${at}: must be an array of units like [{ "unit": "bandpass", "low": 20, "high": 450 }], got ${JSON.stringify(specs)}`,
    );
  }
  let input = opts.input;
  const units = specs.map((spec: unknown, i) => {
    const unit = buildUnit(spec, { ...opts, at: `${at}[${i}]`, input });
    if (input && unit.kind === 'decimate') input = { ...input, rate: input.rate / (unit.settings as { factor: number }).factor };
    return unit;
  });
  try {
    return compose(...units);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.code, err.message.replace(/^pipeline/, at), { cause: err });
    throw err;
  }
}
