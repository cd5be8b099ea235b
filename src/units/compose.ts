import type { SampleBlock } from '../core/block.js';
import { ConfigError } from '../core/errors.js';
import type { Unit, UnitSpec } from './types.js';
import { UnitCodes } from './codes.js';

export interface PipelineSettings {
  /** The member units as data, in order: feeding this back to `buildPipeline` rebuilds it. */
  readonly units: readonly UnitSpec[];
}

/** The JSON form of a unit: `{ unit: kind, ...settings }` (a pipeline nests its members). */
export function toSpec(unit: Unit): UnitSpec {
  return { unit: unit.kind, ...(unit.settings as object) };
}

/**
 * Units in series, itself a Unit: each chunk goes through every member in order, and the
 * result is the last member's output block (owned by that member, valid until the next call).
 * An empty pipeline passes the input block through unchanged.
 * A `window` unit emits blocks of concatenated windows that no other unit reads correctly,
 * so it may only come last.
 */
export class Pipeline implements Unit<PipelineSettings> {
  readonly kind = 'pipeline';
  readonly units: readonly Unit[];

  constructor(units: readonly Unit[]) {
    const w = units.findIndex((u) => u.kind === 'window');
    if (w >= 0 && w !== units.length - 1) {
      throw new ConfigError(
        UnitCodes.order,
        `pipeline[${w + 1}]: a "window" unit must be the last unit of a pipeline (found "${units[w + 1]!.kind}" after it); move the window to the end`,
      );
    }
    this.units = Object.freeze(units.slice());
  }

  get settings(): Readonly<PipelineSettings> {
    return { units: this.units.map(toSpec) };
  }

  process(input: SampleBlock): SampleBlock {
    let block = input;
    for (let i = 0; i < this.units.length; i++) block = this.units[i]!.process(block);
    return block;
  }

  reset(): void {
    for (const u of this.units) u.reset();
  }
}

/** Chain units into one. Nested pipelines are flattened, so specs stay one flat list. */
export function compose(...units: Unit[]): Pipeline {
  return new Pipeline(units.flatMap((u) => (u instanceof Pipeline ? u.units : [u])));
}
