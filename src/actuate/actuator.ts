import type { ActuatorDef } from '../boards/types.js';

/**
 * One output the loop drives. `apply` takes a value in the actuator's own unit (servo
 * pulse µs, PWM duty 0..1, digital 0/1) that the safety limiter has already clamped
 * and slew-limited; backends clamp to [min, max] once more so no caller can push an
 * out-of-range command through. Calls are synchronous (GPIO/PWM writes are short
 * syscalls); backends that batch (the bridge) queue in `apply` and send in `flush`.
 */
export interface Actuator {
  readonly name: string;
  readonly def: ActuatorDef;
  /** Last value commanded, NaN before the first. */
  readonly last: number;
  apply(value: number): void;
  /**
   * Command the declared safe value now. Batching backends also send it unless
   * `flush` is false (ActuatorSet sends every actuator's safe value in one batch).
   */
  safe(flush?: boolean): void;
  /** Send what `apply` queued; no-op for backends that write immediately. */
  flush(): void;
  close(): void;
}

/** Clamp into the declared range; NaN becomes the safe value (never forwarded). */
export function clampToDef(def: ActuatorDef, value: number): number {
  if (Number.isNaN(value)) return def.safe;
  return value < def.min ? def.min : value > def.max ? def.max : value;
}
