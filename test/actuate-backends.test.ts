import test from 'ava';
import { BridgeActuator, BridgeBatch, type BridgeActuateEntry, toProtocolValue } from '../src/actuate/bridge.js';
import { OutputMap } from '../src/actuate/mapping.js';
import { createActuators } from '../src/actuate/set.js';
import type { SimActuator } from '../src/actuate/sim.js';
import type { ActuatorDef } from '../src/boards/types.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';
import { FakePwm } from '../src/hal/pwm-fake.js';
import { readFileSync } from 'node:fs';
import type { BoardDef } from '../src/boards/types.js';

const sim = JSON.parse(readFileSync(new URL('../boards/sim.json', import.meta.url), 'utf8')) as BoardDef;

class RecordingSink {
  frames: BridgeActuateEntry[][] = [];
  send(entries: readonly BridgeActuateEntry[]): void {
    this.frames.push(entries.map((e) => ({ ...e })));
  }
}

test('bridge actuators of the sim board batch one ACTUATE per cycle in protocol units', (t) => {
  const sink = new RecordingSink();
  const set = createActuators(sim.actuators, { bridge: sink });
  set.apply([1234.4, 2500, 0.7]);
  t.is(sink.frames.length, 1);
  t.deepEqual(sink.frames[0], [
    { channel: 0, kind: 'servo', value: 1234 },
    { channel: 1, kind: 'servo', value: 2000 }, // clamped to the board's max
    { channel: 2, kind: 'digital', value: 1 },
  ]);
  set.safeAll();
  t.deepEqual(
    sink.frames.at(-1)!.map((e) => e.value),
    [1500, 1000, 0],
  );
  t.true(set.inSafeState);
});

test('bridge batch: unchanged commands are resent only as a keep-alive; changes and safe states go out at once', (t) => {
  const sink = new RecordingSink();
  let now = 0;
  const set = createActuators(sim.actuators, { bridge: sink, bridgeOptions: { keepAliveMs: 100, now: () => now } });
  set.apply([1200, 1200, 0]);
  t.is(sink.frames.length, 1);
  for (now = 1; now < 100; now++) set.apply([1200, 1200, 0]);
  t.is(sink.frames.length, 1, 'nothing changed within the keep-alive');
  set.apply([1200, 1200, 0]);
  t.is(sink.frames.length, 2, 'keep-alive at 100 ms');
  now += 1;
  set.apply([1201, 1200, 0]);
  t.is(sink.frames.length, 3, 'a change goes out at once');
  now += 1;
  set.safeAll();
  set.safeAll();
  t.is(sink.frames.length, 5, 'every safe-state command is sent');
  t.deepEqual(
    sink.frames[4]!.map((e) => e.value),
    [1500, 1000, 0],
  );
});

test('protocol conversion: pwm in 0.01 % units, servo within 500..2500, digital thresholded', (t) => {
  t.is(toProtocolValue('pwm', 0.12345), 1235);
  t.is(toProtocolValue('pwm', 2), 10000);
  t.is(toProtocolValue('servo', 100), 500);
  t.is(toProtocolValue('digital', 0.49), 0);
  const batch = new BridgeBatch(new RecordingSink());
  new BridgeActuator({ name: 'a', kind: 'servo', via: 'bridge', channel: 3, min: 1000, max: 2000, slewPerS: 1, safe: 1500, unit: 'us' }, batch);
  const err = t.throws(
    () => new BridgeActuator({ name: 'b', kind: 'servo', via: 'bridge', channel: 3, min: 1000, max: 2000, slewPerS: 1, safe: 1500, unit: 'us' }, batch),
  );
  t.regex(err.message, /share channel 3/);
});

test('GPIO digital output opens at its safe level and writes logical levels', (t) => {
  const gpio = new FakeGpio();
  const line = { chip: 'reflex-sim', line: 5, activeLow: true };
  const def: ActuatorDef = { name: 'led', kind: 'digital', via: 'gpio', line, min: 0, max: 1, slewPerS: Infinity, safe: 0, unit: 'bool' };
  const set = createActuators([def], { gpio });
  t.is(gpio.level(line), 0);
  t.is(gpio.writes[0]!.physical, 1, 'active-low: logical 0 is electrically high');
  set.apply([1]);
  t.is(gpio.level(line), 1);
  set.safeAll();
  t.is(gpio.level(line), 0);
});

test('sysfs PWM: duty from 0..1 or from servo µs, enabled at the safe value', (t) => {
  const pwm = new FakePwm();
  const defs: ActuatorDef[] = [
    {
      name: 'fan',
      kind: 'pwm',
      via: 'sysfs-pwm',
      pwm: { chip: 'reflex-sim-pwm', channel: 0, periodNs: 1_000_000 },
      min: 0,
      max: 1,
      slewPerS: 10,
      safe: 0,
      unit: 'duty',
    },
    {
      name: 'servo',
      kind: 'servo',
      via: 'sysfs-pwm',
      pwm: { chip: 'reflex-sim-pwm', channel: 1, periodNs: 20_000_000 },
      min: 1000,
      max: 2000,
      slewPerS: 4000,
      safe: 1500,
      unit: 'us',
    },
  ];
  const set = createActuators(defs, { pwm });
  const a = { chip: 'reflex-sim-pwm', channel: 0 };
  const b = { chip: 'reflex-sim-pwm', channel: 1 };
  t.deepEqual(pwm.state(a), { periodNs: 1_000_000, dutyNs: 0, enabled: true, open: true });
  t.is(pwm.state(b).dutyNs, 1_500_000);
  set.apply([0.25, 2999]);
  t.is(pwm.state(a).dutyNs, 250_000);
  t.is(pwm.state(b).dutyNs, 2_000_000);
  set.safeAll();
  t.is(pwm.state(b).dutyNs, 1_500_000);
  set.close();
  t.false(pwm.state(a).open);
});

test('simulated actuators record every command and whether it was the safe state', (t) => {
  const set = createActuators(sim.actuators, {}, { simulate: true });
  set.apply([1100, 1200, 1]);
  set.safeAll();
  const wrist = set.actuators[0] as SimActuator;
  t.deepEqual(wrist.history(), [1100, 1500]);
  t.true(wrist.inSafeState);
  t.is(wrist.count, 2);
});

test('missing backends and bad limits are configuration errors naming the actuator', (t) => {
  const e1 = t.throws(() => createActuators(sim.actuators, {}));
  t.is((e1 as { code?: string }).code, 'E_ACTUATOR_BACKEND');
  t.regex(e1.message, /"wrist"/);
  const bad = { ...sim.actuators[0]!, safe: 3000 };
  const e2 = t.throws(() => createActuators([bad], {}, { simulate: true }));
  t.is((e2 as { code?: string }).code, 'E_ACTUATOR_LIMITS');
});

test('safeAll tries every actuator even when one fails, then reports the failure', (t) => {
  const gpio = new FakeGpio();
  const d = (name: string, line: number): ActuatorDef => ({
    name,
    kind: 'digital',
    via: 'gpio',
    line: { chip: 'reflex-sim', line },
    min: 0,
    max: 1,
    slewPerS: Infinity,
    safe: 0,
    unit: 'bool',
  });
  const set = createActuators([d('a', 1), d('b', 2)], { gpio });
  set.apply([1, 1]);
  set.actuators[0]!.close(); // writes to a closed line throw
  const err = t.throws(() => set.safeAll());
  t.is((err as { code?: string }).code, 'E_SAFE_FAILED');
  t.regex(err.message, /a: /);
  t.is(gpio.level({ chip: 'reflex-sim', line: 2 }), 0, 'the other actuator still went safe');
});

test('output map: linear maps from named outputs, unmapped actuators hold safe, errors name the entry', (t) => {
  const m = new OutputMap(
    [
      { actuator: 'grip', output: 'grip', scale: 1000, offset: 1000 },
      { actuator: 'wrist', output: 'wrist_angle', scale: 10, offset: 1500 },
    ],
    sim.actuators,
    ['wrist_angle', 'grip'],
  );
  const targets = new Float64Array(3);
  m.map([-20, 0.5], targets);
  t.deepEqual(Array.from(targets), [1300, 1500, 0]);
  const e = t.throws(() => new OutputMap([{ actuator: 'elbow', output: 'grip' }], sim.actuators, ['grip']));
  t.is((e as { code?: string }).code, 'E_MAP_ACTUATOR');
  t.regex(e.message, /mapping\[0\]\.actuator "elbow"/);
  const e2 = t.throws(() => new OutputMap([{ actuator: 'grip', output: 'force' }], sim.actuators, ['grip']));
  t.is((e2 as { code?: string }).code, 'E_MAP_OUTPUT');
});
