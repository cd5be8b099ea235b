import { createRequire } from 'node:module';
import type { LineRef } from '../boards/types.js';
import { Counters } from '../core/counters.js';
import { ReflexError } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { monotonicMs } from '../time/monotonic.js';
import type { Edge, GpioInputLine, GpioOutputLine, GpioProvider, Level } from './gpio.js';
import { resolveSysfsLine } from './gpio-resolve.js';
import { GpioCodes } from './codes.js';

/** The part of onoff's `Gpio` this backend uses (same shapes as onoff 6's typings). */
export interface OnoffGpioLike {
  readSync(): Level;
  writeSync(value: Level): void;
  watch(callback: (err: Error | null | undefined, value: Level) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type OnoffGpioCtor = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: 'none' | 'rising' | 'falling' | 'both',
  options?: { activeLow?: boolean; debounceTimeout?: number; reconfigureDirection?: boolean },
) => OnoffGpioLike;

export interface OnoffGpioOptions {
  /** sysfs root for label resolution; default "/sys". */
  sysRoot?: string;
  /** onoff's Gpio class; injectable for tests. Default: `require('onoff').Gpio`, loaded on first use. */
  Gpio?: OnoffGpioCtor;
  counters?: Counters<'gpio_watch_errors'>;
  logger?: Logger;
}

/**
 * GPIO over the sysfs interface via `onoff`. Lines are resolved from chip (label or device) + offset to
 * the global number at open time (`gpio-resolve.ts`). activeLow is handed to onoff, which
 * sets the kernel's `active_low`, so values and edges are logical both ways.
 *
 * sysfs edges carry no kernel timestamp: an edge's time is when onoff's epoll callback ran
 * (`edgeClock: 'read'`), late by the event loop's latency. Use the chardev backend where the
 * edge time matters (an ADC's data-ready line).
 *
 * A real run needs a kernel with sysfs GPIO (CONFIG_GPIO_SYSFS, `/sys/class/gpio/export`)
 * and write access to it (group `gpio` on Raspberry Pi OS). Newer kernels drop it: use
 * the chardev backend there (docs/hal.md).
 */
export class OnoffGpioProvider implements GpioProvider {
  readonly name = 'onoff';
  readonly #sysRoot: string | undefined;
  #Gpio: OnoffGpioCtor | undefined;
  readonly #counters: Counters<'gpio_watch_errors'>;
  readonly #log: Logger;

  constructor(opts: OnoffGpioOptions = {}) {
    this.#sysRoot = opts.sysRoot;
    this.#Gpio = opts.Gpio;
    this.#counters = opts.counters ?? new Counters<'gpio_watch_errors'>();
    this.#log = opts.logger ?? new Logger();
  }

  get counters(): Counters<'gpio_watch_errors'> {
    return this.#counters;
  }

  output(ref: LineRef, initial: Level): GpioOutputLine {
    const n = resolveSysfsLine(ref, { sysRoot: this.#sysRoot });
    // sysfs "high"/"low" directions set the raw electrical level, before active_low applies:
    // ask for the electrical level that is logically `initial`, so the pin never glitches.
    const physical = ref.activeLow ? 1 - initial : initial;
    const gpio = this.#open(n, physical ? 'high' : 'low', undefined, ref);
    gpio.writeSync(initial);
    let closed = false;
    return {
      ref,
      write: (value) => {
        if (closed) throw new ReflexError(GpioCodes.closed, `write to closed GPIO ${ref.chip}:${ref.line}: open it again`);
        gpio.writeSync(value);
      },
      close: () => {
        if (closed) return;
        closed = true;
        gpio.unexport();
      },
    };
  }

  input(ref: LineRef, edge: Edge): GpioInputLine {
    const n = resolveSysfsLine(ref, { sysRoot: this.#sysRoot });
    const gpio = this.#open(n, 'in', edge, ref);
    let closed = false;
    return {
      ref,
      edgeClock: 'read',
      read: () => {
        if (closed) throw new ReflexError(GpioCodes.closed, `read of closed GPIO ${ref.chip}:${ref.line}: open it again`);
        return gpio.readSync();
      },
      watch: (listener) => {
        gpio.watch((err, value) => {
          if (err) {
            this.#counters.inc('gpio_watch_errors');
            this.#log.limited('error', `onoff-watch-${n}`, `GPIO ${ref.chip}:${ref.line} (sysfs ${n}) edge watch failed: ${err.message}`);
            return;
          }
          listener(value, monotonicMs());
        });
      },
      close: () => {
        if (closed) return;
        closed = true;
        gpio.unwatchAll();
        gpio.unexport();
      },
    };
  }

  #open(n: number, direction: 'in' | 'high' | 'low', edge: Edge | undefined, ref: LineRef): OnoffGpioLike {
    const Gpio = (this.#Gpio ??= loadOnoff());
    try {
      return new Gpio(n, direction, edge, { activeLow: ref.activeLow === true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint =
        code === 'EACCES'
          ? 'add the user to group "gpio" (Raspberry Pi OS) or see docs/hal.md for a udev rule'
          : code === 'EBUSY'
            ? 'another process or driver holds this line'
            : 'see docs/hal.md';
      throw new ReflexError(GpioCodes.open, `cannot open GPIO ${ref.chip}:${ref.line} (sysfs ${n}): ${(err as Error).message}; ${hint}`, { cause: err });
    }
  }
}

function loadOnoff(): OnoffGpioCtor {
  const require = createRequire(import.meta.url);
  return (require('onoff') as { Gpio: OnoffGpioCtor }).Gpio;
}
