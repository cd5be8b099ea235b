import test from 'ava';
import { join } from 'node:path';
import { nullLogger } from '../src/core/log.js';
import type { Level } from '../src/hal/gpio.js';
import { OnoffGpioProvider, type OnoffGpioCtor, type OnoffGpioLike } from '../src/hal/gpio-onoff.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { makeGpioTree, tmpRoot } from './fixtures/sysfs/tree.js';

/** Stands in for onoff's Gpio class (same method shapes), recording what the backend asks of it. */
function fakeOnoff() {
  const calls: unknown[][] = [];
  const instances: FakeGpio[] = [];
  class FakeGpio implements OnoffGpioLike {
    value: Level = 0;
    watchers: Array<(err: Error | null | undefined, value: Level) => void> = [];
    constructor(
      readonly gpio: number,
      readonly direction: string,
      readonly edge?: string,
      readonly options?: { activeLow?: boolean },
    ) {
      calls.push(['new', gpio, direction, edge, options]);
      instances.push(this);
    }
    readSync(): Level {
      calls.push(['readSync', this.gpio]);
      return this.value;
    }
    writeSync(value: Level): void {
      calls.push(['writeSync', this.gpio, value]);
      this.value = value;
    }
    watch(cb: (err: Error | null | undefined, value: Level) => void): void {
      calls.push(['watch', this.gpio]);
      this.watchers.push(cb);
    }
    unwatchAll(): void {
      calls.push(['unwatchAll', this.gpio]);
    }
    unexport(): void {
      calls.push(['unexport', this.gpio]);
    }
  }
  return { Gpio: FakeGpio as unknown as OnoffGpioCtor, calls, instances };
}

function sys(t: { teardown: (fn: () => void) => void }): string {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const s = join(root, 'sys');
  makeGpioTree(s, [
    { device: 'fe200000.gpio', label: 'pinctrl-bcm2711', base: 512, ngpio: 58, chardev: 0 },
    { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 571, ngpio: 8, chardev: 1 },
  ]);
  return s;
}

test('outputs open the resolved global number; activeLow goes to onoff and the initial level is glitch-free', (t) => {
  const f = fakeOnoff();
  const p = new OnoffGpioProvider({ sysRoot: sys(t), Gpio: f.Gpio, logger: nullLogger() });
  const led = p.output({ chip: 'pinctrl-bcm2711', line: 17 }, 0);
  const relay = p.output({ chip: 'raspberrypi-exp-gpio', line: 2, activeLow: true }, 0);
  led.write(1);
  relay.write(1);
  led.close();
  relay.close();
  led.close();
  t.deepEqual(f.calls, [
    ['new', 529, 'low', undefined, { activeLow: false }],
    ['writeSync', 529, 0],
    // Logical 0 on an active-low line is electrically high: ask sysfs for "high".
    ['new', 573, 'high', undefined, { activeLow: true }],
    ['writeSync', 573, 0],
    ['writeSync', 529, 1],
    ['writeSync', 573, 1],
    ['unexport', 529],
    ['unexport', 573],
  ]);
  t.is((t.throws(() => led.write(0)) as { code?: string }).code, 'E_GPIO_CLOSED');
});

test('inputs: edge kind passed to onoff, watch delivers values at read time (no kernel stamp), errors are counted not thrown', (t) => {
  const f = fakeOnoff();
  const p = new OnoffGpioProvider({ sysRoot: sys(t), Gpio: f.Gpio, logger: nullLogger() });
  const estop = p.input({ chip: 'pinctrl-bcm2711', line: 4, activeLow: true }, 'falling');
  t.is(estop.edgeClock, 'read', 'sysfs edges carry no timestamp');
  const seen: Level[] = [];
  const times: number[] = [];
  estop.watch((v, at) => {
    seen.push(v);
    times.push(at);
  });
  const g = f.instances[0]!;
  g.value = 1;
  t.is(estop.read(), 1);
  const before = monotonicMs();
  g.watchers[0]!(null, 0);
  const after = monotonicMs();
  g.watchers[0]!(new Error('EPOLLERR'), 0);
  t.deepEqual(seen, [0]);
  t.true(times[0]! >= before && times[0]! <= after, 'stamped when the callback ran');
  t.is(p.counters.get('gpio_watch_errors'), 1);
  estop.close();
  t.deepEqual(f.calls, [
    ['new', 516, 'in', 'falling', { activeLow: true }],
    ['watch', 516],
    ['readSync', 516],
    ['unwatchAll', 516],
    ['unexport', 516],
  ]);
});

test('a wrong label fails before onoff is touched; constructor errors become E_GPIO_OPEN with a hint', (t) => {
  const f = fakeOnoff();
  const p = new OnoffGpioProvider({ sysRoot: sys(t), Gpio: f.Gpio, logger: nullLogger() });
  t.is((t.throws(() => p.output({ chip: 'pinctrl-rp1', line: 1 }, 0)) as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  t.deepEqual(f.calls, []);
  const Throwing = class {
    constructor() {
      throw Object.assign(new Error("EACCES: permission denied, open '/sys/class/gpio/export'"), { code: 'EACCES' });
    }
  } as unknown as OnoffGpioCtor;
  const q = new OnoffGpioProvider({ sysRoot: sys(t), Gpio: Throwing, logger: nullLogger() });
  const err = t.throws(() => q.output({ chip: 'pinctrl-bcm2711', line: 1 }, 0));
  t.is((err as { code?: string }).code, 'E_GPIO_OPEN');
  t.regex(err.message, /group "gpio"/);
});
