import { ConfigError, ReflexError } from '../core/errors.js';
import type { PwmChannel, PwmProvider, PwmRef } from './pwm.js';
import { FakeCodes, PwmCodes } from './codes.js';

export interface FakePwmState {
  periodNs: number;
  dutyNs: number;
  enabled: boolean;
  open: boolean;
}

/** One operation on a fake channel, in order. */
export type FakePwmOp =
  | { chip: string; channel: number; op: 'period' | 'duty'; ns: number }
  | { chip: string; channel: number; op: 'enable'; on: boolean }
  | { chip: string; channel: number; op: 'close' };

/**
 * In-process PWM for tests and the sim board. It enforces what the kernel enforces (duty
 * never above period, enabling needs a period, a channel open once), so a driver that would
 * fail on hardware fails here too. `state(ref)` reads a channel, `ops` lists every call.
 */
export class FakePwm implements PwmProvider {
  readonly name = 'fake-pwm';
  readonly #chips: Map<string, number>;
  readonly #state = new Map<string, FakePwmState>();
  readonly ops: FakePwmOp[] = [];

  /** `chips`: chip name -> number of channels. Default one 2-channel chip "reflex-sim-pwm". */
  constructor(chips: Record<string, number> = { 'reflex-sim-pwm': 2 }) {
    this.#chips = new Map(Object.entries(chips));
  }

  state(ref: PwmRef): FakePwmState {
    const s = this.#state.get(keyOf(ref));
    if (!s) throw new ReflexError(FakeCodes.notOpen, `fake PWM ${keyOf(ref)} was never opened: let the driver open it first`);
    return { ...s };
  }

  open(ref: PwmRef): PwmChannel {
    const n = this.#chips.get(ref.chip);
    if (n === undefined) {
      throw new ConfigError(
        PwmCodes.chipNotFound,
        `no PWM chip "${ref.chip}" in the fake; chips present: ${[...this.#chips.keys()].map((c) => `"${c}"`).join(', ')}`,
      );
    }
    if (!Number.isInteger(ref.channel) || ref.channel < 0 || ref.channel >= n) {
      throw new ConfigError(PwmCodes.channelRange, `PWM channel ${ref.channel} is out of range for fake chip "${ref.chip}" (0..${n - 1})`);
    }
    const key = keyOf(ref);
    const prev = this.#state.get(key);
    if (prev?.open) throw new ReflexError(PwmCodes.busy, `fake PWM ${key} is already open: close it first`);
    const s: FakePwmState = { periodNs: 0, dutyNs: 0, enabled: false, open: true };
    this.#state.set(key, s);
    const base = { chip: ref.chip, channel: ref.channel };
    const live = (): void => {
      if (!s.open) throw new ReflexError(PwmCodes.closed, `fake PWM ${key} is closed: open it again`);
    };
    return {
      ref,
      setPeriodNs: (ns) => {
        live();
        if (!Number.isSafeInteger(ns) || ns < 1) throw new RangeError(`PWM period must be an integer number of ns >= 1, got ${ns}`);
        if (ns < s.dutyNs) throw new ReflexError(PwmCodes.range, `period ${ns} ns is below the duty ${s.dutyNs} ns of fake PWM ${key}`);
        s.periodNs = ns;
        this.ops.push({ ...base, op: 'period', ns });
      },
      setDutyNs: (ns) => {
        live();
        if (!Number.isSafeInteger(ns) || ns < 0) throw new RangeError(`PWM duty must be an integer number of ns >= 0, got ${ns}`);
        if (ns > s.periodNs) throw new ReflexError(PwmCodes.range, `duty ${ns} ns is above the period ${s.periodNs} ns of fake PWM ${key}`);
        s.dutyNs = ns;
        this.ops.push({ ...base, op: 'duty', ns });
      },
      enable: (on) => {
        live();
        if (on && s.periodNs === 0) throw new ReflexError(PwmCodes.noPeriod, `enable fake PWM ${key} before any period was set`);
        s.enabled = on;
        this.ops.push({ ...base, op: 'enable', on });
      },
      close: () => {
        if (!s.open) return;
        s.enabled = false;
        s.open = false;
        this.ops.push({ ...base, op: 'close' });
      },
    };
  }
}

function keyOf(ref: PwmRef): string {
  return `${ref.chip}/${ref.channel}`;
}
