import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChardevGpioProvider } from '../src/hal/gpio-chardev.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';
import { OnoffGpioProvider } from '../src/hal/gpio-onoff.js';
import { selectGpio, SIM_CHIP } from '../src/hal/gpio-select.js';

function sysTree(withSysfsChip: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'reflex-gpio-select-'));
  mkdirSync(join(root, 'class', 'gpio'), { recursive: true });
  if (withSysfsChip) {
    const chip = join(root, 'class', 'gpio', 'gpiochip512');
    mkdirSync(chip);
    writeFileSync(join(chip, 'label'), 'pinctrl-bcm2711\n');
    writeFileSync(join(chip, 'base'), '512\n');
    writeFileSync(join(chip, 'ngpio'), '58\n');
  }
  return root;
}

test('the simulated chip always gets the in-process fake, shared across lines', (t) => {
  const sel = selectGpio({ sysRoot: sysTree(false) });
  const p = sel.providerFor({ chip: SIM_CHIP, line: 3 });
  t.true(p instanceof FakeGpio);
  t.is(p, sel.sim);
  t.is(sel.providerFor({ chip: SIM_CHIP, line: 4 }), p);
});

test('a kernel with sysfs GPIO chips gets onoff; one without gets the chardev tools', (t) => {
  const withSysfs = selectGpio({ sysRoot: sysTree(true) });
  const a = withSysfs.providerFor({ chip: 'pinctrl-bcm2711', line: 17 });
  t.true(a instanceof OnoffGpioProvider);
  t.is(withSysfs.providerFor({ chip: 'pinctrl-bcm2711', line: 27 }), a, 'one instance per backend');
  const without = selectGpio({ sysRoot: sysTree(false) });
  t.true(without.providerFor({ chip: 'pinctrl-rp1', line: 17 }) instanceof ChardevGpioProvider);
});
