/**
 * Choosing a GPIO backend for a line the board names by chip (label or device) + offset:
 * the simulated chip gets the in-process fake; a kernel that still has sysfs GPIO chips
 * gets onoff; otherwise the character device through libgpiod's tools (gpiod >= 2).
 * The choice is made per chip, so a board mixing the sim chip and a real one works.
 */
import type { LineRef } from '../boards/types.js';
import type { Logger } from '../core/log.js';
import { ChardevGpioProvider } from './gpio-chardev.js';
import { FakeGpio } from './gpio-fake.js';
import { OnoffGpioProvider } from './gpio-onoff.js';
import { listSysfsGpioChips } from './gpio-resolve.js';
import type { GpioProvider } from './gpio.js';

/** Label of the simulated board's GPIO chip (boards/sim.json). */
export const SIM_CHIP = 'reflex-sim';

export interface GpioSelection {
  /** Backend for `ref`; one instance per backend kind, shared by all lines on it. */
  providerFor(ref: LineRef): GpioProvider;
  /** The simulated chip, so tests and demos can drive its inputs. */
  readonly sim: FakeGpio;
}

export function selectGpio(opts: { sysRoot?: string; logger?: Logger } = {}): GpioSelection {
  const sim = new FakeGpio({ [SIM_CHIP]: 32 });
  let real: GpioProvider | undefined;
  return {
    sim,
    providerFor(ref: LineRef): GpioProvider {
      if (ref.chip === SIM_CHIP) return sim;
      real ??=
        listSysfsGpioChips({ ...(opts.sysRoot !== undefined && { sysRoot: opts.sysRoot }) }).length > 0
          ? new OnoffGpioProvider({ ...(opts.sysRoot !== undefined && { sysRoot: opts.sysRoot }), ...(opts.logger && { logger: opts.logger }) })
          : new ChardevGpioProvider({ ...(opts.sysRoot !== undefined && { sysRoot: opts.sysRoot }), ...(opts.logger && { logger: opts.logger }) });
      return real;
    },
  };
}
