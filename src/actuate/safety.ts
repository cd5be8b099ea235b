import type { ActuatorDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import { ActuateCodes } from './codes.js';

/**
 * The limits every command passes through between the predictor and the actuators:
 * range clamp and slew rate per actuator, and the rule that a non-finite target
 * never moves anything (the caller goes to the safe state instead).
 */
export function validateActuatorDef(def: ActuatorDef): void {
  const where = `actuator "${def.name}"`;
  if (!Number.isFinite(def.min) || !Number.isFinite(def.max) || def.min > def.max) {
    throw new ConfigError(ActuateCodes.limits, `${where}: min and max must be finite with min <= max (got ${def.min}, ${def.max}); fix the board definition`);
  }
  if (!Number.isFinite(def.safe) || def.safe < def.min || def.safe > def.max) {
    throw new ConfigError(ActuateCodes.limits, `${where}: safe value ${def.safe} must lie in [${def.min}, ${def.max}]; fix the board definition`);
  }
  if (!(def.slewPerS > 0)) {
    throw new ConfigError(ActuateCodes.limits, `${where}: slewPerS must be > 0 (Infinity allowed), got ${def.slewPerS}`);
  }
}

export class SafetyLimiter {
  readonly size: number;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly slewPerS: Float64Array;
  readonly safeValues: Float64Array;
  /** Last command per actuator; starts at (and returns to) the safe values. */
  readonly last: Float64Array;

  constructor(defs: readonly ActuatorDef[]) {
    for (const d of defs) validateActuatorDef(d);
    const n = defs.length;
    this.size = n;
    this.min = Float64Array.from(defs, (d) => d.min);
    this.max = Float64Array.from(defs, (d) => d.max);
    this.slewPerS = Float64Array.from(defs, (d) => d.slewPerS);
    this.safeValues = Float64Array.from(defs, (d) => d.safe);
    this.last = Float64Array.from(defs, (d) => d.safe);
  }

  /**
   * Limit `targets` into `out` over a step of `dtS` seconds. Returns false, and writes
   * the safe values to `out`, if any target is NaN or infinite: one bad output means
   * the model is not to be trusted for any actuator this cycle.
   */
  limit(targets: ArrayLike<number>, dtS: number, out: Float64Array): boolean {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      const v = targets[i]!;
      if (!Number.isFinite(v)) {
        this.toSafe(out);
        return false;
      }
    }
    const dt = dtS > 0 && Number.isFinite(dtS) ? dtS : 0;
    for (let i = 0; i < n; i++) {
      let v = targets[i]!;
      const lo = this.min[i]!;
      const hi = this.max[i]!;
      if (v < lo) v = lo;
      else if (v > hi) v = hi;
      const prev = this.last[i]!;
      const step = this.slewPerS[i]! * dt;
      if (v > prev + step) v = prev + step;
      else if (v < prev - step) v = prev - step;
      // prev is always in range, so a slew-limited step toward an in-range target stays in range.
      this.last[i] = v;
      out[i] = v;
    }
    return true;
  }

  /** Safe values into `out` (if given) and as the new slew origin. */
  toSafe(out?: Float64Array): void {
    for (let i = 0; i < this.size; i++) {
      this.last[i] = this.safeValues[i]!;
      if (out) out[i] = this.safeValues[i]!;
    }
  }
}
