/**
 * Every GPIO line and PWM channel a shipped board names resolves against a fake sysfs tree laid
 * out as that board's kernel shows it (labels, controller devices, bases and line counts from
 * the sources cited in each board file's "notes"), on an older kernel (fixed bases) and a
 * newer one (bases from 512), through sysfs and through the character devices; for the
 * BeagleBone also with its banks probed, and so labelled, in either order.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBoard } from '../src/boards/load.js';
import type { BoardDef, LineRef } from '../src/boards/types.js';
import {
  listChardevChips,
  listSysfsGpioChips,
  mergeGpiodetect,
  parseGpiodetect,
  pickChardevChip,
  resolveChardevLine,
  resolveSysfsLine,
} from '../src/hal/gpio-resolve.js';
import { SysfsPwmProvider } from '../src/hal/pwm-sysfs.js';
import { makeGpioTree, makePwmTree, tmpRoot, type FakeGpioChip, type FakePwmChip } from './fixtures/sysfs/tree.js';

interface Kernel {
  what: string;
  gpio: FakeGpioChip[];
  pwm: FakePwmChip[];
}

const pi4Pwm: FakePwmChip[] = [{ device: 'fe20c000.pwm', n: 0, npwm: 2 }];
/** AM335x GPIO0..3 controllers (AM335x TRM memory map). */
const bbbDevices = ['44e07000.gpio', '4804c000.gpio', '481ac000.gpio', '481ae000.gpio'];
/**
 * The four banks as gpio-omap registers them: the k-th bank probed gets label gpio-(32k)-(32k+31),
 * the k-th base and /dev/gpiochip(k), whichever bank it is. `probeOrder` lists bank numbers.
 */
const bbbBanks = (bases: number[], probeOrder: number[]): FakeGpioChip[] =>
  probeOrder.map((bank, k) => ({
    device: bbbDevices[bank]!,
    label: `gpio-${k * 32}-${k * 32 + 31}`,
    base: bases[k]!,
    ngpio: 32,
    chardev: k,
  }));
/** BeagleBoard.org images: GPIO0 probed first (elinux.org EBC Exercise 51). */
const bbbOrgOrder = [0, 1, 2, 3];
/**
 * Mainline: Bootlin's labs find GPIO1 on gpio-0-31; GPIO0 (wakeup domain) last is this
 * test's assumption for the rest: any order other than 0..3 shows the same hazard.
 */
const mainlineOrder = [1, 2, 3, 0];

const kernels: Record<string, Kernel[]> = {
  rpi4: [
    {
      what: 'kernel before 6.6 (base 0)',
      gpio: [
        { device: 'fe200000.gpio', label: 'pinctrl-bcm2711', base: 0, ngpio: 58, chardev: 0 },
        { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8, chardev: 1 },
      ],
      pwm: pi4Pwm,
    },
    {
      what: 'kernel 6.6+ (bases 512 and 570)',
      gpio: [
        { device: 'fe200000.gpio', label: 'pinctrl-bcm2711', base: 512, ngpio: 58, chardev: 0 },
        { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, chardev: 1 },
      ],
      pwm: pi4Pwm,
    },
  ],
  rpi5: [
    {
      what: 'early image: RP1 on gpiochip4, base 571 after the brcmstb chips',
      gpio: [
        { device: '107d508500.gpio', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32, chardev: 0 },
        { device: '107d508520.gpio', label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4, chardev: 1 },
        { device: '107d517c00.gpio', label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17, chardev: 2 },
        { device: '107d517c20.gpio', label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6, chardev: 3 },
        { device: '1f000d0000.gpio', label: 'pinctrl-rp1', base: 571, ngpio: 54, chardev: 4 },
      ],
      pwm: [
        { device: '1f0009c000.pwm', n: 0, npwm: 4 },
        { device: '1f00098000.pwm', n: 1, npwm: 4 },
      ],
    },
    {
      what: 'kernel 6.6.47+: RP1 moved to gpiochip0, the brcmstb chips after it',
      gpio: [
        { device: '1f000d0000.gpio', label: 'pinctrl-rp1', base: 571, ngpio: 54, chardev: 0 },
        { device: '107d508500.gpio', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32, chardev: 10 },
        { device: '107d508520.gpio', label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4, chardev: 11 },
        { device: '107d517c00.gpio', label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17, chardev: 12 },
        { device: '107d517c20.gpio', label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6, chardev: 13 },
      ],
      pwm: [{ device: '1f00098000.pwm', n: 0, npwm: 4 }],
    },
  ],
  'rpi-zero2w': [
    {
      what: 'kernel before 6.6 (base 0)',
      gpio: [{ device: '3f200000.gpio', label: 'pinctrl-bcm2835', base: 0, ngpio: 54, chardev: 0 }],
      pwm: [{ device: '3f20c000.pwm', n: 0, npwm: 2 }],
    },
    {
      what: 'kernel 6.6+ (base 512)',
      gpio: [{ device: '3f200000.gpio', label: 'pinctrl-bcm2835', base: 512, ngpio: 54, chardev: 0 }],
      pwm: [{ device: '3f20c000.pwm', n: 0, npwm: 2 }],
    },
  ],
  'beaglebone-black': [
    {
      what: 'fixed bases, GPIO0 probed first (BeagleBoard.org 5.10 kernels)',
      gpio: bbbBanks([0, 32, 64, 96], bbbOrgOrder),
      pwm: [{ device: '48302200.pwm', n: 2, npwm: 2 }],
    },
    {
      what: 'dynamic bases from 512, GPIO0 probed first (6.x)',
      gpio: bbbBanks([512, 544, 576, 608], bbbOrgOrder),
      pwm: [{ device: '48302200.pwm', n: 4, npwm: 2 }],
    },
    {
      what: 'fixed bases, GPIO1 probed first: labels shifted (mainline)',
      gpio: bbbBanks([0, 32, 64, 96], mainlineOrder),
      pwm: [{ device: '48302200.pwm', n: 0, npwm: 2 }],
    },
    {
      what: 'dynamic bases from 512, GPIO1 probed first: labels shifted (mainline 6.x)',
      gpio: bbbBanks([512, 544, 576, 608], mainlineOrder),
      pwm: [{ device: '48302200.pwm', n: 0, npwm: 2 }],
    },
  ],
  'jetson-orin-nano': [
    {
      what: 'JetPack 6 (bases allocated down from 512)',
      gpio: [
        { device: '2200000.gpio', label: 'tegra234-gpio', base: 348, ngpio: 164, chardev: 0 },
        { device: 'c2f0000.gpio', label: 'tegra234-gpio-aon', base: 316, ngpio: 32, chardev: 1 },
      ],
      pwm: [
        { device: '3280000.pwm', n: 0, npwm: 1 },
        { device: '32c0000.pwm', n: 1, npwm: 1 },
        { device: '32e0000.pwm', n: 2, npwm: 1 },
      ],
    },
    {
      what: 'a kernel with bases from 512',
      gpio: [
        { device: '2200000.gpio', label: 'tegra234-gpio', base: 512, ngpio: 164, chardev: 0 },
        { device: 'c2f0000.gpio', label: 'tegra234-gpio-aon', base: 676, ngpio: 32, chardev: 1 },
      ],
      pwm: [
        { device: '3280000.pwm', n: 0, npwm: 1 },
        { device: '32c0000.pwm', n: 1, npwm: 1 },
      ],
    },
  ],
};

/** Every line a board names, with where in the file it is. */
function linesOf(b: BoardDef): Array<[string, LineRef]> {
  const out: Array<[string, LineRef]> = Object.entries(b.pins ?? {}).map(([role, ref]) => [`pins.${role}`, ref]);
  if (b.spi) for (const [k, ref] of Object.entries(b.spi.lines)) out.push([`spi.lines.${k}`, ref]);
  if (b.uart) out.push(['uart.tx', b.uart.tx], ['uart.rx', b.uart.rx]);
  b.actuators.forEach((a, i) => a.line && out.push([`actuators[${i}].line`, a.line]));
  return out;
}

function tree(t: { teardown: (fn: () => void) => void }, k: Kernel): string {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  makeGpioTree(sys, k.gpio);
  makePwmTree(sys, k.pwm);
  return sys;
}

for (const [id, variants] of Object.entries(kernels)) {
  for (const k of variants) {
    test(`${id}: every line and PWM channel resolves: ${k.what}`, (t) => {
      const board = loadBoard(id);
      const sys = tree(t, k);
      const lines = linesOf(board);
      t.true(lines.some(([at]) => at === 'pins.estop') && lines.some(([at]) => at === 'pins.dataReady'), 'has an e-stop and a data-ready line');
      t.is(board.spi?.dataReady, 'dataReady');
      for (const [at, ref] of lines) {
        const chip = k.gpio.find((c) => c.label === ref.chip || c.device === ref.chip);
        if (!chip) return t.fail(`${id} ${at}: chip "${ref.chip}" is not in this board's fake tree`);
        t.is(resolveSysfsLine(ref, { sysRoot: sys }), chip.base + ref.line, `${at} via sysfs`);
        const cdev = resolveChardevLine(ref, { sysRoot: sys, devRoot: '/dev' });
        t.deepEqual([cdev.chip.devPath, cdev.offset], [`/dev/gpiochip${chip.chardev}`, ref.line], `${at} via chardev`);
      }
      const pwm = new SysfsPwmProvider({ sysRoot: sys });
      const pwmActuators = board.actuators.filter((a) => a.via === 'sysfs-pwm');
      t.true(pwmActuators.length > 0);
      for (const a of pwmActuators) {
        const dir = pwm.resolveChip(a.pwm!.chip);
        const n = k.pwm.find((c) => c.device === a.pwm!.chip)!.n;
        t.is(dir, join(sys, 'class', 'pwm', `pwmchip${n}`), `${a.name}: chip by device name, not by pwmchip number`);
        t.true(a.pwm!.channel < Number(readFileSync(join(dir, 'npwm'), 'utf8')), `${a.name}: channel in range`);
      }
    });
  }
}

test('the chips and bases the fake trees list are what sysfs then reports (base 571 for the RP1)', (t) => {
  const sys = tree(t, kernels.rpi5![0]!);
  const rp1 = listSysfsGpioChips({ sysRoot: sys }).find((c) => c.label === 'pinctrl-rp1');
  t.deepEqual(rp1 && [rp1.base, rp1.ngpio], [571, 54]);
  t.is(resolveSysfsLine(loadBoard('rpi5').pins!.estop!, { sysRoot: sys }), 588, 'GPIO17 on a Pi 5 is sysfs 571 + 17');
});

test('a board file on the wrong board fails by label, naming the chips present, instead of driving the wrong pin', (t) => {
  const pi4 = tree(t, kernels.rpi4![1]!);
  const err = t.throws(() => resolveSysfsLine(loadBoard('rpi5').pins!.estop!, { sysRoot: pi4 }));
  t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
  t.regex(err.message, /"pinctrl-bcm2711"/);
  const pwmErr = t.throws(() => new SysfsPwmProvider({ sysRoot: pi4 }).resolveChip(loadBoard('rpi5').actuators[0]!.pwm!.chip));
  t.is((pwmErr as { code?: string }).code, 'E_PWM_CHIP_NOT_FOUND');
});

test('a kernel without sysfs GPIO: sysfs refuses, the chardev resolves with the labels gpiodetect prints', (t) => {
  const k: Kernel = { what: 'no sysfs', gpio: kernels['jetson-orin-nano']![0]!.gpio.map((c) => ({ ...c, noSysfs: true })), pwm: [] };
  const sys = tree(t, k);
  const estop = loadBoard('jetson-orin-nano').pins!.estop!;
  t.is((t.throws(() => resolveSysfsLine(estop, { sysRoot: sys })) as { code?: string }).code, 'E_GPIO_NO_SYSFS');
  const detected = parseGpiodetect('gpiochip0 [tegra234-gpio] (164 lines)\ngpiochip1 [tegra234-gpio-aon] (32 lines)\n');
  const chips = mergeGpiodetect(listChardevChips({ sysRoot: sys }), detected);
  const expected = { chip: { name: 'gpiochip0', devPath: '/dev/gpiochip0', label: 'tegra234-gpio', device: '2200000.gpio', ngpio: 164 }, offset: 105 };
  t.deepEqual(pickChardevChip(chips, estop, 'gpiodetect'), expected);
  t.deepEqual(pickChardevChip(chips, { ...estop, chip: '2200000.gpio' }, 'gpiodetect'), expected, 'the same chip by its device name');
});

/** Bank of each BeagleBone header pin the board uses (Adafruit_BBIO pin table, cited in the board's notes). */
const bbbPinBank: Record<string, [bank: number, line: number]> = {
  P9_12: [1, 28],
  P9_15: [1, 16],
  P9_23: [1, 17],
  P9_27: [3, 19],
  P9_17: [0, 5],
  P9_18: [0, 4],
  P9_21: [0, 3],
  P9_22: [0, 2],
  P9_11: [0, 30],
  P9_13: [0, 31],
};

test('beaglebone-black: every pin lands on its own bank whichever bank the kernel labels gpio-0-31', (t) => {
  const board = loadBoard('beaglebone-black');
  const lines = linesOf(board);
  t.is(lines.length, Object.keys(bbbPinBank).length, 'every pin of the board is in the table');
  for (const k of kernels['beaglebone-black']!) {
    const sys = tree(t, k);
    for (const [at, ref] of lines) {
      const [bank, line] = bbbPinBank[ref.header ?? '']!;
      const expected = k.gpio.find((c) => c.device === bbbDevices[bank])!;
      t.deepEqual([ref.chip, ref.line], [bbbDevices[bank], line], `${at} (${ref.header}) names GPIO${bank}_${line} by device`);
      t.is(resolveSysfsLine(ref, { sysRoot: sys }), expected.base + line, `${at} via sysfs: ${k.what}`);
      const cdev = resolveChardevLine(ref, { sysRoot: sys });
      t.deepEqual([cdev.chip.name, cdev.chip.device, cdev.offset], [`gpiochip${expected.chardev}`, bbbDevices[bank], line], `${at} via chardev: ${k.what}`);
    }
  }
});

test('beaglebone-black: the gpio-A-B labels move between kernels, which is why the board names devices', (t) => {
  const [bbOrg, mainline] = [kernels['beaglebone-black']![0]!, kernels['beaglebone-black']![2]!];
  const estopByLabel = { chip: 'gpio-32-63', line: 28 };
  const bank = (k: Kernel): string | undefined => {
    const sys = tree(t, k);
    return resolveChardevLine(estopByLabel, { sysRoot: sys }).chip.device;
  };
  t.is(bank(bbOrg), '4804c000.gpio', 'GPIO1 on BeagleBoard.org images');
  t.is(bank(mainline), '481ac000.gpio', 'GPIO2 on a mainline kernel: the wrong bank, and no error');
});

test('beaglebone-black: a bank whose device is not present is refused on both backends, naming what exists', (t) => {
  const k: Kernel = { what: 'GPIO3 missing', gpio: bbbBanks([512, 544, 576], [1, 2, 0]), pwm: [] };
  const sys = tree(t, k);
  const dataReady = loadBoard('beaglebone-black').pins!.dataReady!;
  for (const resolve of [() => resolveSysfsLine(dataReady, { sysRoot: sys }), () => resolveChardevLine(dataReady, { sysRoot: sys })]) {
    const err = t.throws(resolve);
    t.is((err as { code?: string }).code, 'E_GPIO_CHIP_NOT_FOUND');
    t.regex(err.message, /"481ae000\.gpio"/);
    t.regex(err.message, /devices: "4804c000\.gpio", "481ac000\.gpio", "44e07000\.gpio"/);
  }
});
