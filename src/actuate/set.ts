import type { ActuatorDef } from '../boards/types.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import type { GpioProvider } from '../hal/gpio.js';
import type { PwmProvider } from '../hal/pwm.js';
import type { Actuator } from './actuator.js';
import { BridgeActuator, BridgeBatch, type BridgeActuatorSink, type BridgeBatchOptions } from './bridge.js';
import { GpioActuator } from './gpio.js';
import { PwmActuator } from './pwm.js';
import { validateActuatorDef } from './safety.js';
import { SimActuator } from './sim.js';
import { ActuateCodes } from './codes.js';

/** Backends a board's actuators may need; only the ones its `via` fields name are required. */
export interface ActuatorBackends {
  gpio?: GpioProvider;
  pwm?: PwmProvider;
  bridge?: BridgeActuatorSink;
  /** Keep-alive and clock of the bridge batch (see BridgeBatchOptions). */
  bridgeOptions?: BridgeBatchOptions;
}

/** The board's actuators in board order, driven together. */
export class ActuatorSet {
  readonly actuators: readonly Actuator[];
  readonly defs: readonly ActuatorDef[];
  #inSafe = true;

  constructor(actuators: readonly Actuator[]) {
    this.actuators = actuators;
    this.defs = actuators.map((a) => a.def);
  }

  get inSafeState(): boolean {
    return this.#inSafe;
  }

  /** One command per actuator, in board order (already limited by the SafetyLimiter). */
  apply(commands: ArrayLike<number>): void {
    const a = this.actuators;
    for (let i = 0; i < a.length; i++) a[i]!.apply(commands[i]!);
    for (let i = 0; i < a.length; i++) a[i]!.flush();
    this.#inSafe = false;
  }

  /**
   * Every actuator to its safe value. One failing output must not keep the others
   * from going safe: all are tried, then the failures are thrown together.
   */
  safeAll(): void {
    const failed: string[] = [];
    let first: unknown;
    const attempt = (a: Actuator, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        failed.push(`${a.name}: ${err instanceof Error ? err.message : String(err)}`);
        first ??= err;
      }
    };
    for (const a of this.actuators) attempt(a, () => a.safe(false));
    for (const a of this.actuators) attempt(a, () => a.flush());
    this.#inSafe = true;
    if (failed.length > 0) {
      throw new ReflexError(
        ActuateCodes.safeFailed,
        `could not put ${failed.length} actuator(s) in the safe state (${failed.join('; ')}): check the wiring and cut power to them`,
        { cause: first },
      );
    }
  }

  close(): void {
    for (const a of this.actuators) a.close();
  }
}

export function createActuator(def: ActuatorDef, backends: ActuatorBackends, batch: () => BridgeBatch): Actuator {
  validateActuatorDef(def);
  switch (def.via) {
    case 'sim':
      return new SimActuator(def);
    case 'gpio':
      if (!backends.gpio) throw missing(def, 'a GPIO provider');
      if (def.kind !== 'digital')
        throw new ConfigError(
          ActuateCodes.config,
          `actuator "${def.name}": via "gpio" drives digital outputs only (kind is "${def.kind}"); use sysfs-pwm or the bridge`,
        );
      return new GpioActuator(def, backends.gpio);
    case 'sysfs-pwm':
      if (!backends.pwm) throw missing(def, 'a PWM provider');
      return new PwmActuator(def, backends.pwm);
    case 'bridge':
      if (!backends.bridge) throw missing(def, 'the bridge actuator sink');
      return new BridgeActuator(def, batch());
    default:
      throw new ConfigError(ActuateCodes.config, `actuator "${def.name}": unknown via "${String(def.via)}" (bridge, gpio, sysfs-pwm, sim)`);
  }
}

/**
 * Build every actuator of a board. With `simulate`, every actuator becomes a SimActuator
 * whatever its `via` (dry runs and tests of a real board's limits).
 */
export function createActuators(defs: readonly ActuatorDef[], backends: ActuatorBackends, opts: { simulate?: boolean } = {}): ActuatorSet {
  const names = new Set<string>();
  for (const d of defs) {
    if (names.has(d.name)) throw new ConfigError(ActuateCodes.config, `two actuators are named "${d.name}"; names must be unique`);
    names.add(d.name);
  }
  let batch: BridgeBatch | undefined;
  const getBatch = (): BridgeBatch => (batch ??= new BridgeBatch(backends.bridge!, backends.bridgeOptions));
  const made: Actuator[] = [];
  try {
    for (const d of defs) made.push(opts.simulate ? (validateActuatorDef(d), new SimActuator(d)) : createActuator(d, backends, getBatch));
  } catch (err) {
    for (const a of made) a.close();
    throw err;
  }
  return new ActuatorSet(made);
}

function missing(def: ActuatorDef, what: string): ConfigError {
  return new ConfigError(
    ActuateCodes.backend,
    `actuator "${def.name}" is driven via "${def.via}" but no ${what} was given; pass it in ActuatorBackends or run with simulated actuators`,
  );
}
