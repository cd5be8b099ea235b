/**
 * The HIL report (docs/hil.md, "Report"): one entry per step, pass/fail/skip against the
 * board's `hil` limits. Plain JSON: written as is by `reflex hil --report`, read back by
 * validateReport.
 */
import type { HilDef } from '../boards/types.js';

export const HIL_REPORT_SCHEMA = 'reflex.hil/1';

/** The steps, in the order they run. */
export const HIL_STEPS = ['rate', 'loopback', 'firmware_watchdog', 'unplug', 'host_watchdog', 'estop_control', 'estop_gpio'] as const;
export type HilStepId = (typeof HIL_STEPS)[number];

export const HIL_STEP_NAMES: Readonly<Record<HilStepId, string>> = {
  rate: 'sample rate against the host clock',
  loopback: 'loopback latency, command to effect in the samples',
  firmware_watchdog: 'firmware watchdog: outputs safe when the host stops talking',
  unplug: 'unplug and replug: reconnect time and gap',
  host_watchdog: 'host watchdog: stale input puts every actuator safe',
  estop_control: 'e-stop by control command',
  estop_gpio: 'e-stop by GPIO input',
};

export type HilStatus = 'pass' | 'fail' | 'skip';

export interface HilStepResult {
  id: HilStepId;
  name: string;
  status: HilStatus;
  /** Why it failed or was skipped; for a pass, what was measured in one line. */
  reason: string;
  /** Wall time the step took, ms. */
  durationMs: number;
  /** Measured values, units in the key's suffix (_ms, _ppm, _hz, count...). */
  measured: Record<string, number>;
  /** The limits the step was judged against, same keys style. */
  limits: Record<string, number>;
}

export interface HilReport {
  schema: typeof HIL_REPORT_SCHEMA;
  board: { id: string; name: string; file: string; simulated: boolean };
  /** ISO 8601 UTC start time. */
  startedAt: string;
  durationMs: number;
  host: { hostname: string; platform: string; arch: string; node: string };
  limits: HilDef;
  steps: HilStepResult[];
  summary: { passed: number; failed: number; skipped: number };
  /** No step failed (skipped steps do not fail a run). */
  ok: boolean;
}
