import test from 'ava';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  listChardevChips,
  listSysfsGpioChips,
  mergeGpiodetect,
  parseGpiodetect,
  pickChardevChip,
  resolveChardevLine,
  resolveSysfsLine,
} from '../src/hal/gpio-resolve.js';
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
    { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, chardev: 1 },
  ]);
  return sys;
}

test('the same label + offset resolves to base + offset whatever the base (0, 512, 570)', (t) => {
  const oldSys = oldKernel(t);
  const newSys = newKernel(t);
  const led = { chip: 'pinctrl-bcm2711', line: 17 };
  t.is(resolveSysfsLine(led, { sysRoot: oldSys }), 17);
  t.is(resolveSysfsLine(led, { sysRoot: newSys }), 529);
  t.is(resolveSysfsLine({ chip: 'raspberrypi-exp-gpio', line: 2 }, { sysRoot: newSys }), 572, 'the Pi 4 expander sits at 512 + 58 = 570');
  t.deepEqual(
    listSysfsGpioChips({ sysRoot: newSys }).map((c) => [c.name, c.label, c.device, c.base, c.ngpio]),
    [
      ['gpiochip512', 'pinctrl-bcm2711', 'fe200000.gpio', 512, 58],
      ['gpiochip570', 'raspberrypi-exp-gpio', 'soc:firmware:gpio', 570, 8],
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
    { name: 'gpiochip0', devPath: '/dev/gpiochip0', label: 'pinctrl-bcm2711', device: 'fe200000.gpio', ngpio: 58 },
    { name: 'gpiochip1', devPath: '/dev/gpiochip1', label: 'raspberrypi-exp-gpio', device: 'soc:firmware:gpio', ngpio: 8 },
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
  t.deepEqual(chips, [{ name: 'gpiochip4', devPath: '/dev/gpiochip4', label: undefined, device: '1f000d0000.gpio', ngpio: undefined }]);
  const err = t.throws(() => resolveChardevLine({ chip: 'pinctrl-rp1', line: 17 }, { sysRoot: sys }));
  t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  const detected = parseGpiodetect('gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n');
  t.deepEqual(pickChardevChip(detected, { chip: 'pinctrl-rp1', line: 17 }, 'gpiodetect'), {
    chip: { name: 'gpiochip4', devPath: '/dev/gpiochip4', label: 'pinctrl-rp1', device: undefined, ngpio: 54 },
    offset: 17,
  });
  t.is((t.throws(() => pickChardevChip(detected, { chip: 'pinctrl-rp1', line: 54 }, 'gpiodetect')) as { code?: string }).code, 'E_GPIO_LINE_RANGE');
});

test('a chip named by its controller device resolves like its label, through sysfs and the chardev', (t) => {
  const sys = newKernel(t);
  t.is(resolveSysfsLine({ chip: 'soc:firmware:gpio', line: 2 }, { sysRoot: sys }), 572);
  t.is(resolveSysfsLine({ chip: 'fe200000.gpio', line: 17 }, { sysRoot: sys }), 529);
  const r = resolveChardevLine({ chip: 'soc:firmware:gpio', line: 3 }, { sysRoot: sys });
  t.deepEqual([r.chip.devPath, r.offset], ['/dev/gpiochip1', 3]);
  const range = t.throws(() => resolveChardevLine({ chip: 'soc:firmware:gpio', line: 8 }, { sysRoot: sys }));
  t.is((range as { code?: string }).code, 'E_GPIO_LINE_RANGE');
});

test('a device name that is not present: E_GPIO_CHIP_NOT_FOUND naming it and listing the devices present', (t) => {
  const sys = newKernel(t);
  for (const resolve of [
    () => resolveSysfsLine({ chip: '44e07000.gpio', line: 2 }, { sysRoot: sys }),
    () => resolveChardevLine({ chip: '44e07000.gpio', line: 2 }, { sysRoot: sys }),
  ]) {
    const err = t.throws(resolve);
    t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
    t.regex(err.message, /"44e07000\.gpio"/);
    t.regex(err.message, /devices: "fe200000\.gpio", "soc:firmware:gpio"/);
  }
});

test('a reference matching two chips is refused (E_GPIO_CHIP_AMBIGUOUS), by repeated label or label = other device', (t) => {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  makeGpioTree(sys, [
    { device: '30200000.gpio', label: 'gpio-bank', base: 512, ngpio: 32, chardev: 0 },
    { device: '30210000.gpio', label: 'gpio-bank', base: 544, ngpio: 32, chardev: 1 },
    { device: '30220000.gpio', label: '30200000.gpio', base: 576, ngpio: 32, chardev: 2 },
  ]);
  for (const chip of ['gpio-bank', '30200000.gpio']) {
    const sysfsErr = t.throws(() => resolveSysfsLine({ chip, line: 1 }, { sysRoot: sys }));
    t.is((sysfsErr as { code?: string }).code, 'E_GPIO_CHIP_AMBIGUOUS', `${chip} via sysfs`);
    t.regex(sysfsErr.message, /gpiochip512 .*gpiochip(544|576)/);
    const cdevErr = t.throws(() => resolveChardevLine({ chip, line: 1 }, { sysRoot: sys }));
    t.is((cdevErr as { code?: string }).code, 'E_GPIO_CHIP_AMBIGUOUS', `${chip} via chardev`);
  }
  t.is(resolveSysfsLine({ chip: '30210000.gpio', line: 1 }, { sysRoot: sys }), 545, 'a device name only one chip has still resolves');
});

test('a chip without a parent device has no device name: its gpiochipN is never matched as one', (t) => {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  const gdev = join(sys, 'devices', 'virtual', 'gpio', 'gpiochip7');
  mkdirSync(gdev, { recursive: true });
  const cls = join(sys, 'class', 'gpio', 'gpiochip600');
  mkdirSync(cls, { recursive: true });
  writeFileSync(join(cls, 'label'), 'gpio-sim\n');
  writeFileSync(join(cls, 'base'), '600\n');
  writeFileSync(join(cls, 'ngpio'), '4\n');
  symlinkSync(gdev, join(cls, 'device'));
  t.deepEqual(
    listSysfsGpioChips({ sysRoot: sys }).map((c) => [c.label, c.device]),
    [['gpio-sim', undefined]],
  );
  t.is((t.throws(() => resolveSysfsLine({ chip: 'gpiochip7', line: 0 }, { sysRoot: sys })) as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  t.is(resolveSysfsLine({ chip: 'gpio-sim', line: 3 }, { sysRoot: sys }), 603);
});

test('gpiodetect fills in the labels sysfs lacks, by gpiochipN; device names stay from sysfs', (t) => {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  makeGpioTree(sys, [{ device: '1f000d0000.gpio', label: 'pinctrl-rp1', base: 571, ngpio: 54, chardev: 0, noSysfs: true }]);
  const detected = parseGpiodetect('gpiochip0 [pinctrl-rp1] (54 lines)\ngpiochip10 [gpio-brcmstb@107d508500] (32 lines)\n');
  const merged = mergeGpiodetect(listChardevChips({ sysRoot: sys }), detected);
  t.deepEqual(merged, [
    { name: 'gpiochip0', devPath: '/dev/gpiochip0', label: 'pinctrl-rp1', device: '1f000d0000.gpio', ngpio: 54 },
    { name: 'gpiochip10', devPath: '/dev/gpiochip10', label: 'gpio-brcmstb@107d508500', device: undefined, ngpio: 32 },
  ]);
  t.is(pickChardevChip(merged, { chip: '1f000d0000.gpio', line: 17 }, 'merged').chip.name, 'gpiochip0');
  t.is(pickChardevChip(merged, { chip: 'pinctrl-rp1', line: 17 }, 'merged').chip.name, 'gpiochip0');
});
