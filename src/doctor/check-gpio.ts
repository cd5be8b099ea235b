/**
 * The GPIO chips the board names are present (resolved by label or device through
 * src/hal/gpio-resolve.ts, as the runtime resolves them), every line is in range, and the
 * backend the runtime will pick (sysfs through onoff, else the character device through
 * libgpiod's tools) is usable by the user.
 */
import type { LineRef } from '../boards/types.js';
import { ReflexError } from '../core/errors.js';
import { SIM_CHIP } from '../hal/gpio-select.js';
import { listSysfsGpioChips, resolveChardevLine, resolveSysfsLine } from '../hal/gpio-resolve.js';
import { accessFix, describeOwner, principal, readAccounts, readWrite, writable, type Accounts, type Principal } from './accounts.js';
import { boardLines, hostLines, type NamedLine } from './needs.js';
import type { HostTree } from './tree.js';
import { fail, ok, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

const GPIOD_TOOLS = ['gpioset', 'gpioget', 'gpiomon'];

function which(tree: HostTree, tool: string): string | undefined {
  return ['/usr/bin', '/bin', '/usr/local/bin'].map((d) => `${d}/${tool}`).find((p) => tree.exists(p));
}

function byChip(lines: NamedLine[]): Map<string, NamedLine[]> {
  const m = new Map<string, NamedLine[]>();
  for (const l of lines) m.set(l.ref.chip, [...(m.get(l.ref.chip) ?? []), l]);
  return m;
}

function chipFix(ctx: DoctorContext): string[] {
  return [
    'reflex boards  # pick the board file made for this host',
    `gpiodetect; readlink -f /sys/bus/gpio/devices/gpiochip*  # then fix "chip" in ${ctx.board.file ?? 'the board file'}`,
  ];
}

/** One chip: every line resolves; returns the chardev the lines are on (chardev backend) or the sysfs numbers. */
function resolveChip(ctx: DoctorContext, chip: string, lines: NamedLine[], sysfs: boolean): CheckResult & { dev?: string } {
  const id = `gpio:${chip}`;
  const sysRoot = ctx.tree.at('/sys');
  const refs: LineRef[] = lines.map((l) => l.ref);
  try {
    if (sysfs) {
      const numbers = refs.map((r) => resolveSysfsLine(r, { sysRoot }));
      return ok(id, `${chip}: ${lines.length} line(s) resolve to sysfs GPIO ${[...new Set(numbers)].sort((a, b) => a - b).join(', ')}`);
    }
    const resolved = refs.map((r) => resolveChardevLine(r, { sysRoot, devRoot: '/dev' }));
    const dev = resolved[0]!.chip.devPath;
    return { ...ok(id, `${chip}: ${dev}, lines ${[...new Set(refs.map((r) => r.line))].sort((a, b) => a - b).join(', ')} in range`), dev };
  } catch (err) {
    if (err instanceof ReflexError) return fail(id, `${chip} (${lines.length} line(s), first ${lines[0]!.at}): ${err.message} [${err.code}]`, chipFix(ctx));
    // A broken link or unreadable file in sysfs: the host's problem to report, not the doctor's to crash on.
    return fail(id, `${chip}: cannot read the GPIO chips in ${ctx.tree.at('/sys')}: ${(err as Error).message}`, [
      'ls -l /sys/bus/gpio/devices/  # is sysfs mounted?',
    ]);
  }
}

function nodeAccess(ctx: DoctorContext, acc: Accounts, who: Principal, id: string, path: string, write: boolean): CheckResult | undefined {
  const st = ctx.tree.stat(path);
  if (!st) return fail(id, `${path} is missing`, ['ls -l /dev/gpiochip*  # the kernel creates one node per chip; udev may not have run']);
  const a = write ? writable(st, who, acc) : readWrite(st, who, acc);
  if (a.ok) return undefined;
  return fail(
    id,
    `${path} (${describeOwner(st, acc)}) is not ${write ? 'writable' : 'readable and writable'} by ${who.user} (${a.via})`,
    accessFix(path, st, who, acc, 'gpio'),
  );
}

function run(ctx: DoctorContext): CheckResult[] {
  const lines = hostLines(ctx.board);
  if (lines.length === 0) {
    const sim = boardLines(ctx.board).some((l) => l.ref.chip === SIM_CHIP);
    return [ok('gpio', sim ? `only the simulated chip "${SIM_CHIP}", which needs nothing from the host` : 'the board names no GPIO lines')];
  }
  let sysfsChips: number;
  try {
    sysfsChips = listSysfsGpioChips({ sysRoot: ctx.tree.at('/sys') }).length;
  } catch (err) {
    if (err instanceof ReflexError) return [fail('gpio', `${err.message} [${err.code}]`, ['ls /sys/class/gpio  # is sysfs mounted?'])];
    throw err;
  }
  const acc = readAccounts(ctx.tree);
  const who = principal(ctx, acc);
  const out: CheckResult[] = [];
  const sysfs = sysfsChips > 0;
  if (sysfs) {
    out.push(
      nodeAccess(ctx, acc, who, 'gpio-backend', '/sys/class/gpio/export', true) ?? ok('gpio-backend', 'sysfs GPIO (onoff): /sys/class/gpio/export is writable'),
    );
  } else {
    const missing = GPIOD_TOOLS.filter((t) => which(ctx.tree, t) === undefined);
    out.push(
      missing.length === 0
        ? ok('gpio-backend', `no sysfs GPIO: character devices through ${GPIOD_TOOLS.join(', ')} (needs gpiod >= 2: gpioset --version)`)
        : fail('gpio-backend', `no sysfs GPIO, and ${missing.join(', ')} not installed (the chardev backend runs them)`, [
            'sudo apt-get install gpiod  # version 2 or later',
          ]),
    );
  }
  for (const [chip, on] of byChip(lines)) {
    const r = resolveChip(ctx, chip, on, sysfs);
    const { dev, ...result } = r;
    out.push((dev !== undefined && nodeAccess(ctx, acc, who, result.id, dev, false)) || result);
  }
  return out;
}

export const gpioCheck: DoctorCheck = { id: 'gpio', title: 'every GPIO chip the board names is present, its lines in range, and the GPIO backend usable', run };
