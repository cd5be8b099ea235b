import test from 'ava';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { nullLogger } from '../src/core/log.js';
import type { Level } from '../src/hal/gpio.js';
import { ChardevGpioProvider, type GpioHelperEvent } from '../src/hal/gpio-chardev.js';
import { writeFakeGpioTools } from './fixtures/gpio-tools.js';
import { makeGpioTree, tmpRoot } from './fixtures/sysfs/tree.js';

function setup(t: { teardown: (fn: () => void) => void }, env: Record<string, string> = {}) {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const { bin, log, fifo, env: toolEnv } = writeFakeGpioTools(root);
  const events: GpioHelperEvent[] = [];
  const waiters: Array<{ pred: (e: GpioHelperEvent) => boolean; resolve: () => void }> = [];
  const provider = new ChardevGpioProvider({
    binDir: bin,
    sysRoot: join(root, 'sys'), // empty: labels come from gpiodetect
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...toolEnv, ...env },
    logger: nullLogger(),
    onHelper: (e) => {
      events.push(e);
      for (const w of waiters.splice(0)) {
        if (w.pred(e)) w.resolve();
        else waiters.push(w);
      }
    },
  });
  const waitFor = (pred: (e: GpioHelperEvent) => boolean, what: string): Promise<void> => {
    if (events.some(pred)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(events)}`)), 5000);
      waiters.push({
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  };
  const logLines = () => readFileSync(log, 'utf8').trim().split('\n');
  return { provider, events, waitFor, logLines, fifo, sys: join(root, 'sys') };
}

const ready = (tool: string, lastArg: string) => (e: GpioHelperEvent) => e.tool === tool && e.event === 'ready' && e.args.at(-1) === lastArg;

test('output: label resolved with gpiodetect, gpioset held per value, respawned on change, killed on close', async (t) => {
  const { provider, events, waitFor, logLines } = setup(t);
  const line = provider.output({ chip: 'pinctrl-bcm2711', line: 17, activeLow: true }, 0);
  await waitFor(ready('gpioset', '17=0'), 'gpioset 17=0');
  line.write(1);
  await waitFor(ready('gpioset', '17=1'), 'gpioset 17=1');
  line.write(1); // unchanged: nothing new
  line.close();
  await waitFor((e) => e.tool === 'gpioset' && e.event === 'exit' && e.args.at(-1) === '17=1', 'exit of 17=1');
  t.deepEqual(logLines(), ['gpiodetect --version', 'gpiodetect ', 'gpioset --banner -c gpiochip0 -l 17=0', 'gpioset --banner -c gpiochip0 -l 17=1']);
  t.deepEqual(
    events.filter((e) => e.event === 'exit').map((e) => e.detail),
    ['killed by SIGTERM', 'killed by SIGTERM'],
  );
  t.is(provider.counters.get('gpio_helper_failures'), 0);
  t.is((t.throws(() => line.write(0)) as { code?: string }).code, 'E_GPIO_CLOSED');
});

test('input: gpioget for the initial level, gpiomon on both edges, listener gets the requested kind with its kernel time', async (t) => {
  const { provider, waitFor, logLines, fifo } = setup(t, { FAKE_GPIO_LEVEL: 'active' });
  const estop = provider.input({ chip: 'raspberrypi-exp-gpio', line: 4 }, 'falling');
  t.is(estop.read(), 1);
  t.is(estop.edgeClock, 'kernel');
  const seen: Array<[Level, number]> = [];
  const fell = new Promise<void>((resolve) =>
    estop.watch((v, at) => {
      seen.push([v, at]);
      if (seen.length === 2) resolve();
    }),
  );
  await waitFor(ready('gpiomon', '4'), 'gpiomon banner');
  const w = await open(fifo, 'w');
  // Both falling edges arrive in one read, well after they happened: each keeps its own stamp.
  await w.write('4 1 8123.000000500\n4 2 8123.000499999\n4 2 8123.001000000\n');
  await fell;
  t.is(seen.length, 2, 'the rising edge updated the level but was not delivered');
  t.is(seen[0]![0], 0);
  t.true(Math.abs(seen[0]![1] - 8123000.499999) < 1e-6, `${seen[0]![1]}`);
  t.deepEqual(seen[1], [0, 8123001]);
  t.is(estop.read(), 0);
  await w.write('4 1 8123.002000000\n4 1\n');
  await w.close(); // gpiomon (cat) ends: the monitor is dead
  await waitFor((e) => e.tool === 'gpiomon' && e.event === 'exit', 'gpiomon exit');
  const err = t.throws(() => estop.read());
  t.is((err as { code?: string }).code, 'E_GPIO_HELPER', 'a stale level is never returned as current');
  t.is(provider.counters.get('gpio_helper_failures'), 1);
  t.is(provider.counters.get('gpiomon_unparsed'), 1, 'an event line without its timestamp is counted, not guessed');
  estop.close();
  t.deepEqual(logLines().slice(2), ['gpioget -c gpiochip1 4', 'gpiomon --banner -c gpiochip1 -e both -F %o %e %S 4']);
});

test('libgpiod v1 tools are refused with a clear error; a missing tool says what to install', (t) => {
  const { provider } = setup(t, { FAKE_GPIOD_VERSION: 'v1.6.3' });
  const err = t.throws(() => provider.output({ chip: 'pinctrl-bcm2711', line: 17 }, 0));
  t.is((err as { code?: string }).code, 'E_GPIO_CHARDEV_VERSION');
  t.regex(err.message, /gpiod >= 2/);
  const none = new ChardevGpioProvider({ binDir: '/nonexistent-reflex-bin', logger: nullLogger() });
  const missing = t.throws(() => none.input({ chip: 'x', line: 0 }, 'both'));
  t.is((missing as { code?: string }).code, 'E_GPIO_HELPER');
  t.regex(missing.message, /gpiod >= 2/);
});

test('unknown labels list what gpiodetect found', (t) => {
  const { provider } = setup(t);
  const err = t.throws(() => provider.output({ chip: 'pinctrl-rp1', line: 17 }, 0));
  t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  t.regex(err.message, /"pinctrl-bcm2711", "raspberrypi-exp-gpio"/);
});

test('a chip named by its controller device: the device from /sys/bus/gpio, labels sysfs lacks from gpiodetect', (t) => {
  const { provider, sys, logLines } = setup(t);
  makeGpioTree(sys, [
    { device: 'fe200000.gpio', label: 'pinctrl-bcm2711', base: 512, ngpio: 58, chardev: 0, noSysfs: true },
    { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, chardev: 1, noSysfs: true },
  ]);
  const r = provider.resolve({ chip: 'soc:firmware:gpio', line: 3 });
  t.deepEqual([r.chip.name, r.chip.label, r.chip.device, r.offset], ['gpiochip1', 'raspberrypi-exp-gpio', 'soc:firmware:gpio', 3]);
  t.is(provider.resolve({ chip: 'pinctrl-bcm2711', line: 17 }).chip.name, 'gpiochip0');
  t.is((t.throws(() => provider.resolve({ chip: 'soc:firmware:gpio', line: 8 })) as { code?: string }).code, 'E_GPIO_LINE_RANGE');
  t.true(logLines().includes('gpiodetect '), 'labels came from gpiodetect');
});

test("a reference that is one chip's device and another's gpiodetect label is refused, not resolved by lookup order", (t) => {
  const { provider, sys } = setup(t);
  makeGpioTree(sys, [
    { device: 'raspberrypi-exp-gpio', label: 'pinctrl-bcm2711', base: 512, ngpio: 58, chardev: 0, noSysfs: true },
    { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, chardev: 1, noSysfs: true },
  ]);
  const err = t.throws(() => provider.resolve({ chip: 'raspberrypi-exp-gpio', line: 1 }));
  t.is((err as { code?: string }).code, 'E_GPIO_CHIP_AMBIGUOUS');
  t.regex(err.message, /gpiochip0 .*gpiochip1/);
});
