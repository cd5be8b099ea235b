import test from 'ava';
import { join } from 'node:path';
import { listChardevChips, listSysfsGpioChips, parseGpiodetect, pickChardevChip, resolveChardevLine, resolveSysfsLine } from '../src/hal/gpio-resolve.js';
import { makeGpioTree, tmpRoot } from './fixtures/sysfs/tree.js';

function oldKernel(t: { teardown: (fn: () => void) => void }): string {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  makeGpioTree(sys, [{ device: 'fe200000.gpio', label: 'pinctrl-bcm2711', base: 0, ngpio: 58, chardev: 0 }]);
  return sys;
}

function newKernel(t: { teardown: (fn: () => void) => void }): string {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  makeGpioTree(sys, [
    { device: 'fe200000.gpio', label: 'pinctrl-bcm2711', base: 512, ngpio: 58, chardev: 0 },
    { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 571, ngpio: 8, chardev: 1 },
  ]);
  return sys;
}

test('the same label + offset resolves to base + offset whatever the base (0, 512, 571)', (t) => {
  const oldSys = oldKernel(t);
  const newSys = newKernel(t);
  const led = { chip: 'pinctrl-bcm2711', line: 17 };
  t.is(resolveSysfsLine(led, { sysRoot: oldSys }), 17);
  t.is(resolveSysfsLine(led, { sysRoot: newSys }), 529);
  t.is(resolveSysfsLine({ chip: 'raspberrypi-exp-gpio', line: 2 }, { sysRoot: newSys }), 573);
  t.deepEqual(
    listSysfsGpioChips({ sysRoot: newSys }).map((c) => [c.name, c.label, c.base, c.ngpio]),
    [
      ['gpiochip512', 'pinctrl-bcm2711', 512, 58],
      ['gpiochip571', 'raspberrypi-exp-gpio', 571, 8],
    ],
  );
});

test('unknown label: E_GPIO_CHIP_NOT_FOUND listing the labels present; bad offset: E_GPIO_LINE_RANGE', (t) => {
  const sys = newKernel(t);
  const err = t.throws(() => resolveSysfsLine({ chip: 'pinctrl-rp1', line: 4 }, { sysRoot: sys }));
  t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  t.regex(err.message, /"pinctrl-bcm2711", "raspberrypi-exp-gpio"/);
  const range = t.throws(() => resolveSysfsLine({ chip: 'raspberrypi-exp-gpio', line: 8 }, { sysRoot: sys }));
  t.is((range as { code?: string }).code, 'E_GPIO_LINE_RANGE');
  t.regex(range.message, /0\.\.7/);
  t.is((t.throws(() => resolveSysfsLine({ chip: 'pinctrl-bcm2711', line: -1 }, { sysRoot: sys })) as { code?: string }).code, 'E_GPIO_LINE_RANGE');
});

test('no sysfs GPIO at all: a clear E_GPIO_NO_SYSFS pointing at the chardev backend', (t) => {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const err = t.throws(() => resolveSysfsLine({ chip: 'x', line: 0 }, { sysRoot: root }));
  t.is((err as { code?: string }).code, 'E_GPIO_NO_SYSFS');
  t.regex(err.message, /chardev/);
});

test('chardev: /dev/gpiochipN found through bus/gpio/devices, labelled via the class entry', (t) => {
  const sys = newKernel(t);
  const chips = listChardevChips({ sysRoot: sys, devRoot: '/dev' });
  t.deepEqual(chips, [
    { name: 'gpiochip0', devPath: '/dev/gpiochip0', label: 'pinctrl-bcm2711', ngpio: 58 },
    { name: 'gpiochip1', devPath: '/dev/gpiochip1', label: 'raspberrypi-exp-gpio', ngpio: 8 },
  ]);
  const r = resolveChardevLine({ chip: 'raspberrypi-exp-gpio', line: 3 }, { sysRoot: sys });
  t.is(r.chip.devPath, '/dev/gpiochip1');
  t.is(r.offset, 3);
});

test('chardev without sysfs GPIO: no label from sysfs, gpiodetect output resolves it', (t) => {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  makeGpioTree(sys, [{ device: '1f000d0000.gpio', label: 'pinctrl-rp1', base: 571, ngpio: 54, chardev: 4, noSysfs: true }]);
  const chips = listChardevChips({ sysRoot: sys });
  t.deepEqual(chips, [{ name: 'gpiochip4', devPath: '/dev/gpiochip4', label: undefined, ngpio: undefined }]);
  const err = t.throws(() => resolveChardevLine({ chip: 'pinctrl-rp1', line: 17 }, { sysRoot: sys }));
  t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  const detected = parseGpiodetect('gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n');
  t.deepEqual(pickChardevChip(detected, { chip: 'pinctrl-rp1', line: 17 }, 'gpiodetect'), {
    chip: { name: 'gpiochip4', devPath: '/dev/gpiochip4', label: 'pinctrl-rp1', ngpio: 54 },
    offset: 17,
  });
  t.is((t.throws(() => pickChardevChip(detected, { chip: 'pinctrl-rp1', line: 54 }, 'gpiodetect')) as { code?: string }).code, 'E_GPIO_LINE_RANGE');
});
