import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LineRef } from '../boards/types.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import { GpioCodes } from './codes.js';

/**
 * Chip reference + line offset -> what a backend needs: the global sysfs GPIO number (onoff)
 * or the /dev/gpiochipN character device (libgpiod). Board files never hold global numbers:
 * the kernel assigns chip bases dynamically (0 on older Pi kernels, 512 since 6.6), so a
 * hard-coded number silently drives the wrong pin.
 *
 * A reference is a chip label or the name of the chip's controller device (e.g.
 * "44e07000.gpio"). Labels are not always stable: gpio-omap labels the BeagleBone's banks
 * gpio-0-31, gpio-32-63, ... in probe order, so which bank is "gpio-0-31" differs between
 * kernels; the device name is the controller's address and does not move. A reference must
 * match exactly one chip by label or device name, else it is refused.
 */
export interface SysfsGpioChip {
  /** Directory name under class/gpio, e.g. "gpiochip512" (named after the base, not the chardev). */
  name: string;
  label: string;
  /** Controller device (last part of the entry's `device` link), e.g. "44e07000.gpio". */
  device: string | undefined;
  base: number;
  ngpio: number;
}

export interface ChardevGpioChip {
  /** e.g. "gpiochip0": what libgpiod's `-c` accepts. */
  name: string;
  /** e.g. "/dev/gpiochip0". */
  devPath: string;
  /** Chip label when sysfs tells it (a `label` file, or the matching class/gpio entry). */
  label: string | undefined;
  /** Controller device the chardev sits under in sysfs, e.g. "44e07000.gpio". */
  device: string | undefined;
  ngpio: number | undefined;
}

export interface ResolveOptions {
  /** Root of sysfs; tests point it at a fake tree. Default "/sys". */
  sysRoot?: string;
  /** Root of device nodes. Default "/dev". */
  devRoot?: string;
}

function readTrim(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

function readInt(path: string): number {
  const s = readTrim(path);
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) {
    throw new ReflexError(GpioCodes.sysfs, `${path} holds "${s}", expected a non-negative integer: is this a sysfs tree?`);
  }
  return n;
}

/**
 * Name of the controller device at `dir` (a resolved sysfs device directory), or undefined
 * when `dir` is not one: a chip registered without a parent device has its class entry
 * linked to the gpiochipN device itself, whose number is not stable, or sits directly under
 * `<sysRoot>/devices`.
 */
function controllerName(dir: string, sysRoot: string): string | undefined {
  const name = basename(dir);
  if (/^gpiochip\d+$/.test(name)) return undefined;
  const top = join(sysRoot, 'devices');
  if (existsSync(top) && dir === realpathSync(top)) return undefined;
  return name;
}

/** Every chip under `<sysRoot>/class/gpio` (empty when the kernel has no sysfs GPIO). */
export function listSysfsGpioChips(opts: ResolveOptions = {}): SysfsGpioChip[] {
  const root = opts.sysRoot ?? '/sys';
  const dir = join(root, 'class', 'gpio');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^gpiochip\d+$/.test(n))
    .map((name) => {
      const d = join(dir, name);
      const link = join(d, 'device');
      const device = existsSync(link) ? controllerName(realpathSync(link), root) : undefined;
      return { name, label: readTrim(join(d, 'label')), device, base: readInt(join(d, 'base')), ngpio: readInt(join(d, 'ngpio')) };
    })
    .sort((a, b) => a.base - b.base);
}

interface NamedChip {
  name: string;
  label: string | undefined;
  device: string | undefined;
}

function describe(c: NamedChip): string {
  return `${c.name} (label "${c.label ?? '?'}", device ${c.device ?? '?'})`;
}

/** The one chip whose label or controller device name is `ref.chip`. */
function pickChip<T extends NamedChip>(chips: T[], ref: LineRef, where: string): T {
  const matches = chips.filter((c) => c.label === ref.chip || c.device === ref.chip);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new ConfigError(
      GpioCodes.chipAmbiguous,
      `"${ref.chip}" matches ${matches.length} GPIO chips in ${where}: ${matches.map(describe).join(', ')}. ` +
        'Name the chip in the board file by something only one of them has (its device name, if the label repeats)',
    );
  }
  const quoted = (xs: Array<string | undefined>): string => {
    const set = [...new Set(xs.filter((x): x is string => x !== undefined))];
    return set.length ? set.map((x) => `"${x}"`).join(', ') : 'none';
  };
  throw new ConfigError(
    GpioCodes.chipNotFound,
    `no GPIO chip labelled or named "${ref.chip}" in ${where}; ` +
      `${chips.length ? `labels present: ${quoted(chips.map((c) => c.label))}; devices: ${quoted(chips.map((c) => c.device))}` : 'no chips present'}. ` +
      'Fix the "chip" of this line in the board file ' +
      '(gpiodetect lists labels; readlink -f /sys/bus/gpio/devices/gpiochip* shows each chip under its device)',
  );
}

function checkRange(ref: LineRef, ngpio: number | undefined): void {
  if (!Number.isInteger(ref.line) || ref.line < 0 || (ngpio !== undefined && ref.line >= ngpio)) {
    throw new ConfigError(
      GpioCodes.lineRange,
      `line ${ref.line} is out of range for chip "${ref.chip}"${ngpio !== undefined ? ` (it has lines 0..${ngpio - 1})` : ''}: fix "line" in the board file`,
    );
  }
}

/** Global sysfs GPIO number of `ref` (base of its chip + offset). */
export function resolveSysfsLine(ref: LineRef, opts: ResolveOptions = {}): number {
  const root = opts.sysRoot ?? '/sys';
  const chips = listSysfsGpioChips(opts);
  if (chips.length === 0) {
    throw new ReflexError(
      GpioCodes.noSysfs,
      `${join(root, 'class', 'gpio')} has no gpiochip entries: this kernel has no sysfs GPIO, use the chardev backend (Debian package gpiod >= 2)`,
    );
  }
  const chip = pickChip(chips, ref, join(root, 'class', 'gpio'));
  checkRange(ref, chip.ngpio);
  return chip.base + ref.line;
}

/**
 * Character devices from `<sysRoot>/bus/gpio/devices/gpiochipN`, each under its controller
 * device (the entry links into that device's directory, e.g. .../44e07000.gpio/gpiochip0),
 * with their labels where sysfs has them: a `label` file in the entry, or the class/gpio
 * chip whose `device` link points at the same parent device as the chardev.
 */
export function listChardevChips(opts: ResolveOptions = {}): ChardevGpioChip[] {
  const root = opts.sysRoot ?? '/sys';
  const devRoot = opts.devRoot ?? '/dev';
  const dir = join(root, 'bus', 'gpio', 'devices');
  if (!existsSync(dir)) return [];
  const byParent = new Map<string, SysfsGpioChip>();
  const classDir = join(root, 'class', 'gpio');
  for (const c of listSysfsGpioChips(opts)) {
    const link = join(classDir, c.name, 'device');
    if (existsSync(link)) byParent.set(realpathSync(link), c);
  }
  return readdirSync(dir)
    .filter((n) => /^gpiochip\d+$/.test(n))
    .map((name) => {
      const entry = join(dir, name);
      const own = join(entry, 'label');
      const parent = dirname(realpathSync(entry));
      const sysfs = byParent.get(parent);
      const label = existsSync(own) ? readTrim(own) : sysfs?.label;
      const ngpioFile = join(entry, 'ngpio');
      const ngpio = existsSync(ngpioFile) ? readInt(ngpioFile) : sysfs?.ngpio;
      return { name, devPath: join(devRoot, name), label, device: controllerName(parent, root), ngpio };
    })
    .sort((a, b) => Number(a.name.slice(8)) - Number(b.name.slice(8)));
}

/** The chardev chip and offset of `ref`, from sysfs (see `listChardevChips`). */
export function resolveChardevLine(ref: LineRef, opts: ResolveOptions = {}): { chip: ChardevGpioChip; offset: number } {
  const chips = listChardevChips(opts);
  const chip = pickChip(chips, ref, join(opts.sysRoot ?? '/sys', 'bus', 'gpio', 'devices'));
  checkRange(ref, chip.ngpio);
  return { chip, offset: ref.line };
}

/** Parse `gpiodetect` output ("gpiochip0 [pinctrl-bcm2711] (58 lines)") into chips (it names no devices). */
export function parseGpiodetect(text: string, devRoot = '/dev'): ChardevGpioChip[] {
  const out: ChardevGpioChip[] = [];
  for (const line of text.split('\n')) {
    const m = /^(gpiochip\d+)\s+\[(.*)\]\s+\((\d+) lines?\)/.exec(line.trim());
    if (m) out.push({ name: m[1]!, devPath: join(devRoot, m[1]!), label: m[2]!, device: undefined, ngpio: Number(m[3]) });
  }
  return out;
}

/**
 * Chardev chips from sysfs with the labels sysfs lacks filled in from parsed gpiodetect
 * output (matched by gpiochipN, the same chardev), plus chips only gpiodetect lists.
 */
export function mergeGpiodetect(fromSysfs: ChardevGpioChip[], detected: ChardevGpioChip[]): ChardevGpioChip[] {
  const byName = new Map(detected.map((c) => [c.name, c]));
  const merged = fromSysfs.map((c) => {
    const d = byName.get(c.name);
    return d ? { ...c, label: c.label ?? d.label, ngpio: c.ngpio ?? d.ngpio } : c;
  });
  const known = new Set(fromSysfs.map((c) => c.name));
  return [...merged, ...detected.filter((c) => !known.has(c.name))];
}

/** Pick `ref`'s chip (by label or device name) from a list, e.g. merged gpiodetect output, with the same errors. */
export function pickChardevChip(chips: ChardevGpioChip[], ref: LineRef, where: string): { chip: ChardevGpioChip; offset: number } {
  const chip = pickChip(chips, ref, where);
  checkRange(ref, chip.ngpio);
  return { chip, offset: ref.line };
}
