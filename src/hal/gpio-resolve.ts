import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LineRef } from '../boards/types.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import { GpioCodes } from './codes.js';

/**
 * Chip label + line offset -> what a backend needs: the global sysfs GPIO number (onoff)
 * or the /dev/gpiochipN character device (libgpiod). Board files never hold global numbers:
 * the kernel assigns chip bases dynamically (0 on older Pi kernels, 512 since 6.6, 571 for
 * the second chip on some), so a hard-coded number silently drives the wrong pin.
 */
export interface SysfsGpioChip {
  /** Directory name under class/gpio, e.g. "gpiochip512" (named after the base, not the chardev). */
  name: string;
  label: string;
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

/** Every chip under `<sysRoot>/class/gpio` (empty when the kernel has no sysfs GPIO). */
export function listSysfsGpioChips(opts: ResolveOptions = {}): SysfsGpioChip[] {
  const dir = join(opts.sysRoot ?? '/sys', 'class', 'gpio');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^gpiochip\d+$/.test(n))
    .map((name) => {
      const d = join(dir, name);
      return { name, label: readTrim(join(d, 'label')), base: readInt(join(d, 'base')), ngpio: readInt(join(d, 'ngpio')) };
    })
    .sort((a, b) => a.base - b.base);
}

function pickByLabel<T extends { label: string | undefined }>(chips: T[], ref: LineRef, where: string): T {
  const matches = chips.filter((c) => c.label === ref.chip);
  if (matches.length === 1) return matches[0]!;
  const labels = [...new Set(chips.map((c) => c.label ?? '(no label)'))];
  if (matches.length > 1) {
    throw new ConfigError(GpioCodes.chipAmbiguous, `${matches.length} GPIO chips in ${where} are labelled "${ref.chip}": this backend cannot tell them apart`);
  }
  throw new ConfigError(
    GpioCodes.chipNotFound,
    `no GPIO chip labelled "${ref.chip}" in ${where}; chips present: ${labels.length ? labels.map((l) => `"${l}"`).join(', ') : 'none'}. Fix the "chip" of this line in the board file (gpiodetect lists labels)`,
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
  const chip = pickByLabel(chips, ref, join(root, 'class', 'gpio'));
  checkRange(ref, chip.ngpio);
  return chip.base + ref.line;
}

/**
 * Character devices from `<sysRoot>/bus/gpio/devices/gpiochipN`, with their labels where
 * sysfs has them: a `label` file in the entry, or the class/gpio chip whose `device` link
 * points at the same parent device as the chardev.
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
      const sysfs = byParent.get(dirname(realpathSync(entry)));
      const label = existsSync(own) ? readTrim(own) : sysfs?.label;
      const ngpioFile = join(entry, 'ngpio');
      const ngpio = existsSync(ngpioFile) ? readInt(ngpioFile) : sysfs?.ngpio;
      return { name, devPath: join(devRoot, name), label, ngpio };
    })
    .sort((a, b) => Number(a.name.slice(8)) - Number(b.name.slice(8)));
}

/** The chardev chip and offset of `ref`, from sysfs (see `listChardevChips`). */
export function resolveChardevLine(ref: LineRef, opts: ResolveOptions = {}): { chip: ChardevGpioChip; offset: number } {
  const chips = listChardevChips(opts);
  const chip = pickByLabel(chips, ref, join(opts.sysRoot ?? '/sys', 'bus', 'gpio', 'devices'));
  checkRange(ref, chip.ngpio);
  return { chip, offset: ref.line };
}

/** Parse `gpiodetect` output ("gpiochip0 [pinctrl-bcm2711] (58 lines)") into chips. */
export function parseGpiodetect(text: string, devRoot = '/dev'): ChardevGpioChip[] {
  const out: ChardevGpioChip[] = [];
  for (const line of text.split('\n')) {
    const m = /^(gpiochip\d+)\s+\[(.*)\]\s+\((\d+) lines?\)/.exec(line.trim());
    if (m) out.push({ name: m[1]!, devPath: join(devRoot, m[1]!), label: m[2]!, ngpio: Number(m[3]) });
  }
  return out;
}

/** Pick `ref`'s chip from a list (e.g. parsed gpiodetect output), with the same errors. */
export function pickChardevChip(chips: ChardevGpioChip[], ref: LineRef, where: string): { chip: ChardevGpioChip; offset: number } {
  const chip = pickByLabel(chips, ref, where);
  checkRange(ref, chip.ngpio);
  return { chip, offset: ref.line };
}
