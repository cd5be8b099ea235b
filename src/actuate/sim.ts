import type { ActuatorDef } from '../boards/types.js';
import { type Actuator, clampToDef } from './actuator.js';

/**
 * A simulated actuator: records every command (value, safe flag) in preallocated
 * rings so tests and the sim board can see exactly what would have moved.
 */
export class SimActuator implements Actuator {
  readonly name: string;
  readonly def: ActuatorDef;
  readonly values: Float64Array;
  readonly safeFlags: Uint8Array;
  #count = 0;
  #last = Number.NaN;
  #inSafe = false;

  constructor(def: ActuatorDef, capacity = 4096) {
    this.name = def.name;
    this.def = def;
    this.values = new Float64Array(capacity);
    this.safeFlags = new Uint8Array(capacity);
  }
  get last(): number {
    return this.#last;
  }
  /** Commands received since creation. */
  get count(): number {
    return this.#count;
  }
  /** True if the last command came from safe(). */
  get inSafeState(): boolean {
    return this.#inSafe;
  }
  #record(v: number, safe: boolean): void {
    const i = this.#count % this.values.length;
    this.values[i] = v;
    this.safeFlags[i] = safe ? 1 : 0;
    this.#count++;
    this.#last = v;
    this.#inSafe = safe;
  }
  apply(value: number): void {
    this.#record(clampToDef(this.def, value), false);
  }
  safe(): void {
    this.#record(this.def.safe, true);
  }
  /** The last `n` recorded values, oldest first (allocates: for tests and inspection). */
  history(n = this.values.length): number[] {
    const k = Math.min(n, this.#count, this.values.length);
    const out: number[] = [];
    for (let j = this.#count - k; j < this.#count; j++) out.push(this.values[j % this.values.length]!);
    return out;
  }
  flush(): void {}
  close(): void {}
}
