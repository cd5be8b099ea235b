/**
 * Actuator backends described as data, so the main thread can choose them and the loop
 * worker can build them (objects and providers cannot cross threads; strings and
 * SharedArrayBuffers can). See docs/loop.md, "Actuation in the worker".
 */
import type { ActuatorDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import type { GpioOutputLine, GpioProvider, Level } from '../hal/gpio.js';
import type { PwmChannel, PwmProvider } from '../hal/pwm.js';
import type { BridgeBatchOptions } from './bridge.js';
import { FdBridgeSink } from './fd-bridge.js';
import type { Actuator } from './actuator.js';
import { ActuatorSet, createActuator, createActuators } from './set.js';
import { ActuateCodes } from './codes.js';

export interface WorkerActuatorBackends {
  /** GPIO backend for `via: "gpio"` actuators. */
  gpio?: 'onoff' | 'chardev' | 'fake';
  /** PWM backend for `via: "sysfs-pwm"` actuators. */
  pwm?: 'sysfs' | 'fake';
  /** sysfs root for label resolution and sysfs PWM (tests point it at a fake tree). */
  sysRoot?: string;
  devRoot?: string;
  /** Chips of the fakes (label -> line/channel count); defaults as in FakeGpio/FakePwm. */
  fakeGpioChips?: Record<string, number>;
  fakePwmChips?: Record<string, number>;
  /**
   * What the fakes were last driven to, per actuator in board order, readable from any
   * thread: see createFakeMirror. Without it the fakes are still driven, just not visible.
   */
  fakeMirror?: SharedArrayBuffer;
  /** Bridge actuators: keep-alive of the ACTUATE batch (default 100 ms). */
  bridge?: Pick<BridgeBatchOptions, 'keepAliveMs'>;
}

/**
 * Per actuator: the value the fake backend holds (GPIO: logical level; PWM: duty ns) and
 * how many writes it took. NaN before the first write.
 */
export interface FakeMirror {
  buffer: SharedArrayBuffer;
  values: Float64Array;
  writes: Int32Array;
}

export function createFakeMirror(actuators: number, buffer?: SharedArrayBuffer): FakeMirror {
  const b = buffer ?? new SharedArrayBuffer(12 * actuators);
  if (b.byteLength !== 12 * actuators) throw new RangeError(`fake mirror holds ${b.byteLength / 12} actuators, the board has ${actuators}`);
  const values = new Float64Array(b, 0, actuators);
  if (!buffer) values.fill(Number.NaN);
  return { buffer: b, values, writes: new Int32Array(b, 8 * actuators, actuators) };
}

/** Checks, on the caller's thread, that every actuator of the board has a described backend. */
export function validateWorkerBackends(defs: readonly ActuatorDef[], b: WorkerActuatorBackends): void {
  for (const d of defs) {
    if (d.via === 'gpio' && !b.gpio) throw missing(d, 'gpio: "onoff" | "chardev" | "fake"');
    if (d.via === 'sysfs-pwm' && !b.pwm) throw missing(d, 'pwm: "sysfs" | "fake"');
  }
  if (b.gpio && !['onoff', 'chardev', 'fake'].includes(b.gpio))
    throw new ConfigError(ActuateCodes.backend, `worker gpio backend must be onoff, chardev or fake, got "${b.gpio}"`);
  if (b.pwm && !['sysfs', 'fake'].includes(b.pwm)) throw new ConfigError(ActuateCodes.backend, `worker pwm backend must be sysfs or fake, got "${b.pwm}"`);
  if (b.fakeMirror && b.fakeMirror.byteLength !== 12 * defs.length)
    throw new RangeError(`fake mirror holds ${b.fakeMirror.byteLength / 12} actuators, the board has ${defs.length}: createFakeMirror(board.actuators.length)`);
}

function missing(d: ActuatorDef, what: string): ConfigError {
  return new ConfigError(
    ActuateCodes.backend,
    `actuator "${d.name}" is driven via "${d.via}" in the loop worker, but no backend was described; pass actuation.${what}`,
  );
}

/** In the worker: open every actuator of the board. Bridge actuators write to the fd in `act`. */
export async function buildWorkerActuators(
  defs: readonly ActuatorDef[],
  b: WorkerActuatorBackends,
  act: Int32Array,
): Promise<{ set: ActuatorSet; bridge: FdBridgeSink | null }> {
  validateWorkerBackends(defs, b);
  const mirror = b.fakeMirror ? createFakeMirror(defs.length, b.fakeMirror) : null;
  let gpio: GpioProvider | undefined;
  let pwm: PwmProvider | undefined;
  if (b.gpio === 'fake') gpio = new (await import('../hal/gpio-fake.js')).FakeGpio(b.fakeGpioChips);
  else if (b.gpio === 'onoff') gpio = new (await import('../hal/gpio-onoff.js')).OnoffGpioProvider({ ...(b.sysRoot && { sysRoot: b.sysRoot }) });
  else if (b.gpio === 'chardev')
    gpio = new (await import('../hal/gpio-chardev.js')).ChardevGpioProvider({
      ...(b.sysRoot && { sysRoot: b.sysRoot }),
      ...(b.devRoot && { devRoot: b.devRoot }),
    });
  if (b.pwm === 'fake') pwm = new (await import('../hal/pwm-fake.js')).FakePwm(b.fakePwmChips);
  else if (b.pwm === 'sysfs') pwm = new (await import('../hal/pwm-sysfs.js')).SysfsPwmProvider({ ...(b.sysRoot && { sysRoot: b.sysRoot }) });
  const needsBridge = defs.some((d) => d.via === 'bridge');
  const bridge = needsBridge ? new FdBridgeSink(act) : null;
  const names = new Set<string>();
  for (const d of defs) {
    if (names.has(d.name)) throw new ConfigError(ActuateCodes.config, `two actuators are named "${d.name}"; names must be unique`);
    names.add(d.name);
  }
  // Bridge actuators share one batch (one ACTUATE per cycle); the others are built one by
  // one so a fake's mirror view knows the actuator's slot.
  const bridgeDefs = defs.filter((d) => d.via === 'bridge');
  const bridgeSet = bridge ? createActuators(bridgeDefs, { bridge, bridgeOptions: b.bridge ?? {} }) : null;
  const made: Actuator[] = [];
  try {
    defs.forEach((d, i) => {
      if (d.via === 'bridge') return made.push(bridgeSet!.actuators[bridgeDefs.indexOf(d)]!);
      const g = gpio && mirror && b.gpio === 'fake' ? mirrorGpio(gpio, mirror, i) : gpio;
      const p = pwm && mirror && b.pwm === 'fake' ? mirrorPwm(pwm, mirror, i) : pwm;
      return made.push(
        createActuator(d, { ...(g && { gpio: g }), ...(p && { pwm: p }) }, () => {
          throw new RangeError('bridge batch requested for a non-bridge actuator');
        }),
      );
    });
  } catch (err) {
    for (const a of made) a.close();
    throw err;
  }
  return { set: new ActuatorSet(made), bridge };
}

function mirrorGpio(p: GpioProvider, m: FakeMirror, i: number): GpioProvider {
  return {
    name: p.name,
    input: (ref, edge) => p.input(ref, edge),
    output: (ref, initial): GpioOutputLine => {
      const line = p.output(ref, initial);
      const note = (v: Level): void => {
        m.values[i] = v;
        Atomics.add(m.writes, i, 1);
      };
      note(initial);
      return { ref, write: (v) => (line.write(v), note(v)), close: () => line.close() };
    },
  };
}

function mirrorPwm(p: PwmProvider, m: FakeMirror, i: number): PwmProvider {
  return {
    name: p.name,
    open: (ref): PwmChannel => {
      const ch = p.open(ref);
      return {
        ref,
        setPeriodNs: (ns) => ch.setPeriodNs(ns),
        setDutyNs: (ns) => {
          ch.setDutyNs(ns);
          m.values[i] = ns;
          Atomics.add(m.writes, i, 1);
        },
        enable: (on) => ch.enable(on),
        close: () => ch.close(),
      };
    },
  };
}
