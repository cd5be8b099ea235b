import type { ActuatorDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import type { GpioOutputLine, GpioProvider, Level } from '../hal/gpio.js';
import { type Actuator, clampToDef } from './actuator.js';
import { ActuateCodes } from './codes.js';

/** A digital output on a GPIO line: values >= 0.5 (after clamping) drive it high. */
export class GpioActuator implements Actuator {
  readonly name: string;
  readonly def: ActuatorDef;
  readonly #line: GpioOutputLine;
  #last = Number.NaN;

  constructor(def: ActuatorDef, provider: GpioProvider) {
    if (!def.line) throw new ConfigError(ActuateCodes.config, `actuator "${def.name}" (via gpio) needs "line": {chip, line}`);
    this.name = def.name;
    this.def = def;
    // Open at the safe level so the line never glitches to an unsafe state on start.
    this.#line = provider.output(def.line, level(def.safe));
    this.#last = def.safe;
  }
  get last(): number {
    return this.#last;
  }
  apply(value: number): void {
    const v = clampToDef(this.def, value);
    this.#line.write(level(v));
    this.#last = v;
  }
  safe(): void {
    this.apply(this.def.safe);
  }
  flush(): void {}
  close(): void {
    this.#line.close();
  }
}

function level(v: number): Level {
  return v >= 0.5 ? 1 : 0;
}
