/**
 * `npm run bench -- hil [--duration S] [--loopback-steps N]`: `reflex hil` on the simulated
 * board with its shipped limits (boards/sim.json "hil"): the firmware's host build on a
 * pseudo-terminal with the loopback jumper, the real link, clock model and runtime.
 *
 * Keys: loopback_p99_ms (command written to its effect in the samples, by the samples' host
 * time; target <= 5 ms), reconnect_ms (samples again after the injected 300 ms unplug, from
 * the device's return; target <= 2000 ms), rate_error_ppm (clock model drift against the
 * host over `--duration` s, default 10). Baselines measured in the same run: the loopback
 * latency as seen on arrival (what the host process experiences, transport and scheduling
 * included) and the event loop's delay p99 while the check ran (how loaded the machine was).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Logger } from '../src/core/log.js';
import { nonInteractiveOperator } from '../src/hil/operator.js';
import { runHil } from '../src/hil/runner.js';
import { benchArgs, log, machine } from './_util.js';

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 10 });
  const steps = values['loopback-steps'] === undefined ? 500 : Number(values['loopback-steps']);
  if (!Number.isInteger(steps) || steps < 10) throw new Error('--loopback-steps must be an integer >= 10');
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const report = await runHil({
    board: 'sim',
    rateDurationS: duration,
    loopbackSteps: steps,
    skip: new Map(),
    operator: nonInteractiveOperator(log),
    log: new Logger({ component: 'bench', level: 'warn' }),
    signal: new AbortController().signal,
  });
  lag.disable();
  const m = (id: string): Record<string, number> => report.steps.find((s) => s.id === id)?.measured ?? {};
  const loop = m('loopback');
  const num = (v: number | undefined): number => (typeof v === 'number' ? v : Number.NaN);
  const p99 = num(loop.loopback_p99_ms);
  const reconnect = num(m('unplug').reconnect_ms);
  return {
    bench: 'hil',
    board: 'sim',
    loopback_p99_ms: p99,
    loopback_p50_ms: num(loop.loopback_p50_ms),
    loopback_max_ms: num(loop.loopback_max_ms),
    loopback_steps: num(loop.steps),
    reconnect_ms: reconnect,
    gap_ms: num(m('unplug').gap_ms),
    rate_error_ppm: num(m('rate').rate_error_ppm),
    counted_error_ppm: num(m('rate').counted_error_ppm),
    firmware_watchdog_ms: num(m('firmware_watchdog').safe_after_ms),
    host_watchdog_late_ms: num(m('host_watchdog').late_ms),
    estop_control_ms: num(m('estop_control').estop_ms),
    estop_gpio_ms: num(m('estop_gpio').estop_ms),
    baseline_seen_p99_ms: num(loop.seen_p99_ms),
    ratio_seen_to_sample_p99: num(loop.seen_p99_ms) / p99,
    event_loop_delay_p99_ms: lag.percentile(99) / 1e6,
    targets: { loopback_p99_ms: 5, reconnect_ms: 2000 },
    meets_targets: p99 <= 5 && reconnect <= 2000,
    steps: Object.fromEntries(report.steps.map((s) => [s.id, s.status])),
    rate_duration_s: duration,
    machine: machine(),
  };
}
