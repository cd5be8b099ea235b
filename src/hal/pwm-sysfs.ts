import { accessSync, constants, existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, ReflexError } from '../core/errors.js';
import type { PwmChannel, PwmProvider, PwmRef } from './pwm.js';
import { PwmCodes } from './codes.js';

export interface SysfsPwmOptions {
  /** sysfs root; default "/sys". Tests point it at a fake tree. */
  sysRoot?: string;
  /** How every attribute is written; default fs.writeFileSync. A test's fake kernel wraps it. */
  writeFile?: (path: string, data: string) => void;
  /**
   * After `export`, how long to wait for pwmM's attributes to become writable, ms (default
   * 1000). udev fixes their group a moment after the kernel creates them.
   */
  exportSettleMs?: number;
}

/**
 * PWM channels through Linux sysfs: `<sysRoot>/class/pwm/pwmchipN/{export,unexport,npwm}` and
 * `pwmM/{period,duty_cycle,enable}` in nanoseconds.
 *
 * A chip is named (PwmRef.chip) by its device name, the last part of pwmchipN's `device`
 * link (e.g. "1f00098000.pwm" on a Pi 5, "fe20c000.pwm" on a Pi 4), which unlike N is
 * stable; "pwmchipN" itself or an absolute path to the pwmchip directory also work.
 *
 * The kernel rejects duty_cycle > period at every single write, so `configure` orders its
 * writes: period first when the period grows, duty first when it shrinks.
 */
export class SysfsPwmProvider implements PwmProvider {
  readonly name = 'sysfs-pwm';
  readonly #sysRoot: string;
  readonly #write: (path: string, data: string) => void;
  readonly #settleMs: number;

  constructor(opts: SysfsPwmOptions = {}) {
    this.#sysRoot = opts.sysRoot ?? '/sys';
    this.#write = opts.writeFile ?? ((p, d) => writeFileSync(p, d));
    this.#settleMs = opts.exportSettleMs ?? 1000;
  }

  /** The pwmchip directory for `chip` (device name, "pwmchipN", or absolute path). */
  resolveChip(chip: string): string {
    if (chip.startsWith('/')) {
      if (!existsSync(join(chip, 'export'))) {
        throw new ConfigError(PwmCodes.chipNotFound, `${chip} is not a pwmchip directory (no "export" in it): fix the pwm chip in the board file`);
      }
      return chip;
    }
    const dir = join(this.#sysRoot, 'class', 'pwm');
    const names = existsSync(dir) ? readdirSync(dir).filter((n) => /^pwmchip\d+$/.test(n)) : [];
    const seen: string[] = [];
    for (const n of names) {
      const device = join(dir, n, 'device');
      const devName = existsSync(device) ? basename(realpathSync(device)) : undefined;
      if (n === chip || devName === chip) return join(dir, n);
      seen.push(devName ? `"${devName}" (${n})` : n);
    }
    throw new ConfigError(
      PwmCodes.chipNotFound,
      `no PWM chip "${chip}" in ${dir}; chips present: ${seen.length ? seen.join(', ') : 'none (is a PWM overlay enabled, e.g. dtoverlay=pwm-2chan?)'}`,
    );
  }

  open(ref: PwmRef): SysfsPwmChannel {
    const chipDir = this.resolveChip(ref.chip);
    const npwm = Number(readFileSync(join(chipDir, 'npwm'), 'utf8').trim());
    if (!Number.isInteger(ref.channel) || ref.channel < 0 || ref.channel >= npwm) {
      throw new ConfigError(PwmCodes.channelRange, `PWM channel ${ref.channel} is out of range for ${ref.chip} (channels 0..${npwm - 1}): fix the board file`);
    }
    const chanDir = join(chipDir, `pwm${ref.channel}`);
    if (!existsSync(chanDir)) {
      this.#attempt(() => this.#write(join(chipDir, 'export'), String(ref.channel)), `export channel ${ref.channel} of ${ref.chip}`);
      this.#awaitWritable(chanDir, ref);
    }
    return new SysfsPwmChannel(ref, chipDir, chanDir, this.#write, (fn, what) => this.#attempt(fn, what));
  }

  #awaitWritable(chanDir: string, ref: PwmRef): void {
    const files = ['period', 'duty_cycle', 'enable'].map((f) => join(chanDir, f));
    const deadline = performance.now() + this.#settleMs;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      try {
        for (const f of files) accessSync(f, constants.W_OK);
        return;
      } catch (err) {
        if (performance.now() >= deadline) {
          throw new ReflexError(
            PwmCodes.export,
            `exported PWM channel ${ref.channel} of ${ref.chip} but ${chanDir} is not writable after ${this.#settleMs} ms ` +
              `(${(err as Error).message}): see docs/hal.md for the udev rule`,
            { cause: err },
          );
        }
        // A synchronous nap: open() is synchronous by contract and this runs once per channel.
        Atomics.wait(nap, 0, 0, 10);
      }
    }
  }

  #attempt(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint =
        code === 'EACCES'
          ? ': add the user to group "gpio" and install the udev rule in docs/hal.md'
          : code === 'EINVAL'
            ? ': the kernel rejected the value (duty above period, or enable before a period was set)'
            : code === 'EBUSY'
              ? ': another driver or process holds this channel'
              : '';
      throw new ReflexError(PwmCodes.write, `cannot ${what}: ${(err as Error).message}${hint}`, { cause: err });
    }
  }
}

export class SysfsPwmChannel implements PwmChannel {
  readonly ref: PwmRef;
  readonly #chipDir: string;
  readonly #write: (path: string, data: string) => void;
  readonly #attempt: (fn: () => void, what: string) => void;
  readonly #period: string;
  readonly #duty: string;
  readonly #enable: string;
  #periodNs: number;
  #dutyNs: number;
  #enabled: boolean;
  #closed = false;

  constructor(ref: PwmRef, chipDir: string, chanDir: string, write: (path: string, data: string) => void, attempt: (fn: () => void, what: string) => void) {
    this.ref = ref;
    this.#chipDir = chipDir;
    this.#write = write;
    this.#attempt = attempt;
    this.#period = join(chanDir, 'period');
    this.#duty = join(chanDir, 'duty_cycle');
    this.#enable = join(chanDir, 'enable');
    // Start from what the kernel has (a previous run may have left the channel configured).
    this.#periodNs = Number(readFileSync(this.#period, 'utf8').trim()) || 0;
    this.#dutyNs = Number(readFileSync(this.#duty, 'utf8').trim()) || 0;
    this.#enabled = readFileSync(this.#enable, 'utf8').trim() === '1';
  }

  get periodNs(): number {
    return this.#periodNs;
  }
  get dutyNs(): number {
    return this.#dutyNs;
  }
  get enabled(): boolean {
    return this.#enabled;
  }

  setPeriodNs(ns: number): void {
    checkNs(ns, 'period', 1);
    if (ns < this.#dutyNs) {
      throw new ReflexError(
        PwmCodes.range,
        `period ${ns} ns is below the current duty ${this.#dutyNs} ns of ${label(this.ref)}: lower the duty first, or use configure(period, duty)`,
      );
    }
    this.configure(ns, this.#dutyNs);
  }

  setDutyNs(ns: number): void {
    checkNs(ns, 'duty', 0);
    if (ns > this.#periodNs) {
      throw new ReflexError(PwmCodes.range, `duty ${ns} ns is above the period ${this.#periodNs} ns of ${label(this.ref)}: set the period first`);
    }
    this.#writeDuty(ns);
  }

  /** Set both, in the order the kernel accepts (duty <= period after every write). */
  configure(periodNs: number, dutyNs: number): void {
    checkNs(periodNs, 'period', 1);
    checkNs(dutyNs, 'duty', 0);
    if (dutyNs > periodNs) throw new ReflexError(PwmCodes.range, `duty ${dutyNs} ns is above period ${periodNs} ns for ${label(this.ref)}`);
    this.#live();
    if (periodNs >= this.#periodNs) {
      // Growing: the old duty fits the new period, the new duty needs it.
      this.#writePeriod(periodNs);
      this.#writeDuty(dutyNs);
    } else {
      // Shrinking: bring the duty under the new period first (it is under the old one too).
      this.#writeDuty(dutyNs);
      this.#writePeriod(periodNs);
    }
  }

  enable(on: boolean): void {
    this.#live();
    if (on && this.#periodNs === 0) {
      throw new ReflexError(PwmCodes.noPeriod, `enable ${label(this.ref)} before any period was set: call setPeriodNs first`);
    }
    if (on === this.#enabled) return;
    this.#attempt(() => this.#write(this.#enable, on ? '1' : '0'), `${on ? 'enable' : 'disable'} ${label(this.ref)}`);
    this.#enabled = on;
  }

  /** Disable, then unexport. Idempotent. */
  close(): void {
    if (this.#closed) return;
    if (this.#enabled) this.enable(false);
    this.#closed = true;
    this.#attempt(() => this.#write(join(this.#chipDir, 'unexport'), String(this.ref.channel)), `unexport ${label(this.ref)}`);
  }

  #writePeriod(ns: number): void {
    this.#live();
    if (ns === this.#periodNs) return;
    this.#attempt(() => this.#write(this.#period, String(ns)), `set period ${ns} ns on ${label(this.ref)}`);
    this.#periodNs = ns;
  }

  #writeDuty(ns: number): void {
    this.#live();
    if (ns === this.#dutyNs) return;
    this.#attempt(() => this.#write(this.#duty, String(ns)), `set duty ${ns} ns on ${label(this.ref)}`);
    this.#dutyNs = ns;
  }

  #live(): void {
    if (this.#closed) throw new ReflexError(PwmCodes.closed, `${label(this.ref)} is closed: open it again`);
  }
}

function checkNs(ns: number, what: string, min: number): void {
  if (!Number.isSafeInteger(ns) || ns < min) throw new RangeError(`PWM ${what} must be an integer number of ns >= ${min}, got ${ns}`);
}

function label(ref: PwmRef): string {
  return `PWM ${ref.chip}/${ref.channel}`;
}
