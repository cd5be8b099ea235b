import test from 'ava';
import type { Level } from '../src/hal/gpio.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';

test('outputs: level() and the write log, activeLow applied', (t) => {
  const gpio = new FakeGpio();
  const ref = { chip: 'reflex-sim', line: 5, activeLow: true };
  const out = gpio.output(ref, 0);
  out.write(1);
  t.is(gpio.level(ref), 1);
  t.is(gpio.level({ chip: 'reflex-sim', line: 5 }), 0, 'electrically low');
  t.deepEqual(gpio.writes, [
    { chip: 'reflex-sim', line: 5, value: 0, physical: 1 },
    { chip: 'reflex-sim', line: 5, value: 1, physical: 0 },
  ]);
  t.is((t.throws(() => gpio.output(ref, 0)) as { code?: string }).code, 'E_GPIO_BUSY');
  out.close();
  t.is((t.throws(() => out.write(0)) as { code?: string }).code, 'E_GPIO_CLOSED');
  gpio.output(ref, 1).close();
});

test('inputs: drive() simulates edges of the requested kind, read() follows', (t) => {
  const gpio = new FakeGpio();
  const estop = { chip: 'reflex-sim', line: 3, activeLow: true };
  const rising = gpio.input(estop, 'rising');
  const seen: Level[] = [];
  rising.watch((v) => seen.push(v));
  t.is(rising.read(), 1, 'an unconnected active-low line reads active');
  gpio.drive(estop, 0);
  gpio.drive(estop, 0);
  gpio.drive(estop, 1);
  t.deepEqual(seen, [1], 'only the rising edge, once');
  t.is(rising.read(), 1);
  const button = { chip: 'reflex-sim', line: 4 };
  const both = gpio.input(button, 'both');
  const all: Level[] = [];
  both.watch((v) => all.push(v));
  gpio.drive(button, 1);
  gpio.drive(button, 0);
  t.deepEqual(all, [1, 0]);
});

test('label and range errors carry the real backends codes', (t) => {
  const gpio = new FakeGpio({ 'reflex-sim': 8 });
  const err = t.throws(() => gpio.output({ chip: 'pinctrl-bcm2711', line: 1 }, 0));
  t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  t.regex(err.message, /"reflex-sim"/);
  t.is((t.throws(() => gpio.input({ chip: 'reflex-sim', line: 8 }, 'both')) as { code?: string }).code, 'E_GPIO_LINE_RANGE');
});

test('edge times: now() by default, or the time drive() is given, even one before the last (an edge read late)', (t) => {
  let now = 5000;
  const gpio = new FakeGpio(undefined, { now: () => now });
  const drdy = { chip: 'reflex-sim', line: 25 };
  const line = gpio.input(drdy, 'falling');
  t.is(line.edgeClock, 'fake');
  const seen: Array<[Level, number]> = [];
  line.watch((v, at) => seen.push([v, at]));
  gpio.drive(drdy, 1);
  gpio.drive(drdy, 0);
  now = 5010;
  gpio.drive(drdy, 1, 5001);
  gpio.drive(drdy, 0, 5002.25);
  gpio.drive(drdy, 1);
  gpio.drive(drdy, 0, 5003);
  t.deepEqual(seen, [
    [0, 5000],
    [0, 5002.25],
    [0, 5003],
  ]);
});
