import type { ActuatorDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import type { PwmChannel, PwmProvider } from '../hal/pwm.js';
import { type Actuator, clampToDef } from './actuator.js';
import { ActuateCodes } from './codes.js';

/**
 * A sysfs PWM channel. kind "pwm": value is a duty cycle 0..1 of the period;
 * kind "servo": value is a pulse width in µs (period typically 20 ms).
 * The safe state of a PWM output is its safe value with the output still enabled:
 * a servo with no pulses may go limp, which is not the same as holding a safe pose.
 */
export class PwmActuator implements Actuator {
  readonly name: string;
  readonly def: ActuatorDef;
  readonly #ch: PwmChannel;
  readonly #periodNs: number;
  #last = Number.NaN;

  constructor(def: ActuatorDef, provider: PwmProvider) {
    if (!def.pwm) throw new ConfigError(ActuateCodes.config, `actuator "${def.name}" (via sysfs-pwm) needs "pwm": {chip, channel, periodNs}`);
    if (def.kind === 'digital')
      throw new ConfigError(ActuateCodes.config, `actuator "${def.name}": kind "digital" cannot be driven via sysfs-pwm; use via "gpio"`);
    const periodNs = def.pwm.periodNs;
    if (!Number.isInteger(periodNs) || periodNs <= 0) {
      throw new ConfigError(ActuateCodes.config, `actuator "${def.name}": pwm.periodNs must be a positive integer, got ${periodNs}`);
    }
    if (def.kind === 'servo' && def.max * 1000 > periodNs) {
      throw new ConfigError(ActuateCodes.config, `actuator "${def.name}": max pulse ${def.max} us does not fit in period ${periodNs} ns`);
    }
    this.name = def.name;
    this.def = def;
    this.#periodNs = periodNs;
    this.#ch = provider.open({ chip: def.pwm.chip, channel: def.pwm.channel });
    this.#ch.setPeriodNs(periodNs);
    this.#write(def.safe);
    this.#ch.enable(true);
  }
  get last(): number {
    return this.#last;
  }
  #write(v: number): void {
    const duty = this.def.kind === 'servo' ? Math.round(v * 1000) : Math.round(v * this.#periodNs);
    this.#ch.setDutyNs(Math.min(this.#periodNs, Math.max(0, duty)));
    this.#last = v;
  }
  apply(value: number): void {
    this.#write(clampToDef(this.def, value));
  }
  safe(): void {
    this.apply(this.def.safe);
  }
  flush(): void {}
  close(): void {
    this.#ch.close();
  }
}
