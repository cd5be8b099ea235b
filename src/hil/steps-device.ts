/**
 * The device-level steps (docs/hil.md): sample rate, loopback latency, the firmware's own
 * watchdog, unplug and replug. Each measures on a DeviceSession and judges against the
 * board's hil limits; a failure's reason says what was measured, the limit, and what to check.
 */
import { readFileSync } from 'node:fs';
import type { HilDef } from '../boards/types.js';
import { monotonicMs } from '../time/monotonic.js';
import { countedRate, latencyStats, r3 } from './limits.js';
import type { Operator } from './operator.js';
import { NON_INTERACTIVE_REASON } from './operator.js';
import { judged, skip, type StepOutcome } from './outcome.js';
import type { DeviceSession, LoopbackProbe } from './session.js';
import { HilTimeout, pause, within } from './wait.js';

export interface DeviceStepEnv {
  session: DeviceSession;
  limits: HilDef;
  signal: AbortSignal;
  operator: Operator;
  simulated: boolean;
}

/** Longest wait for the clock model to lock before the rate is measured. */
const LOCK_WAIT_MS = 15_000;

/**
 * Rate: over `durationS` of host time, the clock model's drift (device clock against the
 * host's) and the samples counted per host second (countedRate: between the least-delayed
 * blocks near either end, so transport and scheduling delays drop out) must both be within
 * hil.ratePpm of the declared rate (the count gets its resolution, one block over the span,
 * on top); a lost frame counts against it. The clock model clamps its drift at ±2000 ppm
 * (src/time/clock-types.ts), so beyond that only the count tells the size of the error.
 */
export async function rateStep(env: DeviceStepEnv, durationS: number): Promise<StepOutcome> {
  const { session, limits, signal } = env;
  const clock = session.source.clock;
  const lim = { rate_ppm: limits.ratePpm, duration_s: durationS };
  if (clock.state !== 'locked') {
    try {
      await within<void>(LOCK_WAIT_MS, signal, (done) => session.onBlock(() => clock.state === 'locked' && done()), 'clock model lock');
    } catch (err) {
      if (!(err instanceof HilTimeout)) throw err;
      return judged([`the clock model did not lock within ${LOCK_WAIT_MS} ms (state ${clock.state}): the device's timestamps are not usable`], '', {}, lim);
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  let total = 0;
  let nominal = Number.NaN;
  let gaps = 0;
  let missing = 0;
  const offBlock = session.onBlock((b, arrivalMs) => {
    nominal = b.rate;
    total += b.samples;
    x.push(arrivalMs);
    y.push(total);
  });
  const offGap = session.onGap((g) => {
    gaps++;
    if (Number.isFinite(g.missingSamples)) missing += g.missingSamples;
  });
  try {
    await pause(durationS * 1000, signal);
  } finally {
    offBlock();
    offGap();
  }
  const c = countedRate(x, y, nominal);
  const countedHz = c.hz;
  const countedPpm = (countedHz / nominal - 1) * 1e6;
  const uncertaintyPpm = c.resolutionPpm;
  const drift = clock.driftPpm;
  const tol = limits.ratePpm;
  const spanS = x.length > 1 ? (x[x.length - 1]! - x[0]!) / 1000 : 0;
  const measured = {
    rate_error_ppm: r3(drift),
    counted_error_ppm: r3(countedPpm),
    counted_resolution_ppm: r3(uncertaintyPpm),
    counted_rate_hz: r3(countedHz),
    nominal_rate_hz: nominal,
    samples: total,
    blocks: x.length,
    host_span_s: r3(spanS),
    gaps,
    missing_samples: missing,
  };
  const slowFast = (p: number): string => (p < 0 ? 'slow' : 'fast');
  return judged(
    [
      x.length < 3 && `only ${x.length} blocks arrived in ${durationS} s: the source is not streaming`,
      Math.abs(drift) > tol &&
        `the clock model puts the device clock ${Math.abs(r3(drift))} ppm ${slowFast(drift)} against the host (limit ±${tol} ppm): ` +
          "the sample clock is off; check the board's oscillator and its rate configuration",
      Math.abs(countedPpm) - uncertaintyPpm > tol &&
        `${total} samples in ${r3(spanS)} s of host time is ${r3(countedHz)} Hz, ${Math.abs(r3(countedPpm))} ppm ${slowFast(countedPpm)} of ${nominal} Hz ` +
          `(resolution ${r3(uncertaintyPpm)} ppm; limit ±${tol} ppm)`,
      gaps > 0 && `${gaps} gaps (${missing} samples lost) while measuring: the link drops frames`,
    ],
    `${r3(drift)} ppm by the clock model, ${r3(countedPpm)} ppm (resolution ${r3(uncertaintyPpm)}) counted over ${r3(spanS)} s`,
    measured,
    lim,
  );
}

/**
 * Settled levels of the loopback input at the actuator's min and max. Each level is taken
 * once the input has moved away from the previous one (so a command still on its way is not
 * mistaken for "no effect"), over the next few blocks; a problem when it never moves.
 */
async function calibrate(probe: LoopbackProbe, signal: AbortSignal): Promise<{ low: number; high: number; problem?: string }> {
  const settle = async (high: boolean, from: { median: number; spread: number }): Promise<{ median: number; spread: number } | null> => {
    const away = Math.max(20 * from.spread, 1);
    const moved = probe.first((v) => Math.abs(v - from.median) > away, 2000, signal, 'the loopback input moving');
    probe.write(high);
    try {
      await moved;
    } catch (err) {
      if (!(err instanceof HilTimeout)) throw err;
      return null;
    }
    return probe.level(4, 2000, signal);
  };
  probe.write(false);
  const start = await probe.level(4, 2000, signal);
  const high = await settle(true, start);
  const low = high && (await settle(false, high));
  if (!high || !low) {
    const at = high ? `${probe.actuator.name}=${probe.actuator.min}` : `${probe.actuator.name}=${probe.actuator.max}`;
    return {
      low: start.median,
      high: high?.median ?? start.median,
      problem:
        `channel ${probe.channel} stayed at ${r3(high?.median ?? start.median)} within 2000 ms of ${at}: ` +
        'it does not follow the actuator; check the loopback jumper (docs/hil.md)',
    };
  }
  return { low: low.median, high: high.median };
}

/**
 * Loopback latency: `steps` alternating commands to the jumpered actuator; each latency is
 * from the command handed to the link to the host time (clock model) of the first sample
 * past the midpoint of the two levels. A random 1-6 ms dwell between steps keeps the
 * commands from locking to the sampling phase.
 */
export async function loopbackStep(env: DeviceStepEnv, probe: LoopbackProbe | null, steps: number): Promise<StepOutcome> {
  const { limits, signal } = env;
  const lim = { p99_ms: limits.loopbackP99Ms, max_ms: limits.loopbackMaxMs, steps };
  if (!probe) return skip('the board has no hil.loopback wiring (an actuator jumpered to an input: docs/hil.md)', lim);
  const cal = await calibrate(probe, signal);
  if (cal.problem) return judged([cal.problem], '', { low_level: r3(cal.low), high_level: r3(cal.high) }, lim);
  const mid = (cal.low + cal.high) / 2;
  const up = cal.high > cal.low;
  const waitMs = Math.max(1000, limits.loopbackMaxMs * 4);
  const lat: number[] = [];
  const seen: number[] = [];
  let lost = 0;
  let high = false;
  for (let i = 0; i < steps; i++) {
    high = !high;
    const goal = high === up;
    const hit = probe.first((v) => (goal ? v > mid : v < mid), waitMs, signal, 'the loopback input following the command');
    const t = probe.write(high);
    try {
      const h = await hit;
      lat.push(h.sampleMs - t);
      seen.push(h.arrivalMs - t);
    } catch (err) {
      if (!(err instanceof HilTimeout)) throw err;
      lost++;
      // Put the output back where the next step expects it before going on.
      high = !high;
      probe.write(high);
      await pause(waitMs, signal);
    }
    await pause(1 + Math.random() * 5, signal);
  }
  probe.write(false);
  const s = latencyStats(lat);
  const a = latencyStats(seen);
  const measured = {
    loopback_p50_ms: r3(s.p50),
    loopback_p99_ms: r3(s.p99),
    loopback_max_ms: r3(s.max),
    loopback_min_ms: r3(s.min),
    seen_p50_ms: r3(a.p50),
    seen_p99_ms: r3(a.p99),
    steps: s.count,
    lost_steps: lost,
    write_failures: probe.writeFailures(),
    low_level: r3(cal.low),
    high_level: r3(cal.high),
  };
  return judged(
    [
      lost > 0 && `${lost} of ${steps} commands showed no effect within ${waitMs} ms`,
      s.p99 > limits.loopbackP99Ms && `p99 ${r3(s.p99)} ms over the limit of ${limits.loopbackP99Ms} ms`,
      s.max > limits.loopbackMaxMs && `max ${r3(s.max)} ms over the limit of ${limits.loopbackMaxMs} ms`,
    ],
    `p50 ${r3(s.p50)} ms, p99 ${r3(s.p99)} ms, max ${r3(s.max)} ms over ${s.count} steps`,
    measured,
    lim,
  );
}

/** Device time (ms) from the host's last byte (`t_us silent`) to the next `t_us safe` line of a host-firmware actuator log. */
export function safeAfterSilence(log: string): number {
  let silent = Number.NaN;
  let safeAt = Number.NaN;
  for (const line of log.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === 'silent') {
      silent = Number(f[0]);
      safeAt = Number.NaN;
    } else if (f[1] === 'safe' && Number.isFinite(silent) && Number.isNaN(safeAt)) safeAt = Number(f[0]);
  }
  return (safeAt - silent) / 1000;
}

/** The firmware polls: its watchdog acts at the first poll past the deadline. */
export const FIRMWARE_POLL_SLACK_MS = 5;

/**
 * The firmware's watchdog. The loopback output is set to its max (not safe); then the host
 * stops talking: on the simulated board SIGUSR2 makes the firmware drop all host input
 * (--fault-on-usr2 deaf:MS), so neither ACTUATE nor the link's PINGs feed it while the stream,
 * and so the loopback input, goes on. Judged on the firmware's actuator log (device time from
 * the last byte heard to the safe state, within hil.firmwareWatchdogMs plus its polling slack);
 * the loopback input must show the safe level too. On hardware the link's PINGs keep feeding
 * the watchdog while the stream is read, so the step is skipped there.
 */
export async function firmwareWatchdogStep(env: DeviceStepEnv, probe: LoopbackProbe | null, actuatorLog: string | null): Promise<StepOutcome> {
  const { limits, signal, session } = env;
  const allowed = limits.firmwareWatchdogMs + FIRMWARE_POLL_SLACK_MS;
  const lim = { safe_within_ms: allowed, firmware_watchdog_ms: limits.firmwareWatchdogMs };
  if (!env.simulated || actuatorLog === null) {
    return skip(
      "on hardware the link's PINGs feed the firmware's watchdog while the stream is read; check HEARTBEAT bit1 or the output with a scope (docs/hil.md)",
      lim,
    );
  }
  if (!probe) return skip('the board has no hil.loopback wiring, through which the outputs are seen (docs/hil.md)', lim);
  if (probe.actuator.safe === probe.actuator.max)
    return skip(`the loopback actuator's safe value is its max (${probe.actuator.max}): a safe state would not show`, lim);
  const cal = await calibrate(probe, signal);
  if (cal.problem) return judged([cal.problem], '', {}, lim);
  const mid = (cal.low + cal.high) / 2;
  const up = cal.high > cal.low;
  const on = probe.first((v) => (up ? v > mid : v < mid), 2000, signal, 'the loopback output on');
  probe.write(true);
  await on;
  const pid = session.firmwarePid();
  if (!pid) return judged(['the simulated firmware is not running'], '', {}, lim);
  const waitMs = allowed + 1000;
  const safe = probe.first((v) => (up ? v < mid : v > mid), waitMs, signal, 'the safe level');
  const silentAt = monotonicMs();
  process.kill(pid, 'SIGUSR2');
  let seenMs = Number.NaN;
  let problem: string | false = false;
  try {
    seenMs = (await safe).sampleMs - silentAt;
  } catch (err) {
    if (!(err instanceof HilTimeout)) throw err;
    problem =
      `the output was still on ${waitMs} ms after the host stopped talking: ` +
      `the firmware's watchdog did not put it safe (limit ${limits.firmwareWatchdogMs} ms)`;
  }
  const deviceMs = safeAfterSilence(readFileSync(actuatorLog, 'utf8'));
  const measured = { safe_after_ms: r3(deviceMs), safe_seen_ms: r3(seenMs) };
  return judged(
    [
      problem,
      !problem &&
        !Number.isFinite(deviceMs) &&
        `the loopback input went safe but the firmware logged no safe state after the host went silent (${actuatorLog})`,
      deviceMs > allowed &&
        `the firmware went safe ${r3(deviceMs)} ms after it last heard the host, over ${limits.firmwareWatchdogMs} ms (+${FIRMWARE_POLL_SLACK_MS} ms polling)`,
    ],
    `safe ${r3(deviceMs)} ms after the host was last heard (device clock); seen in the loopback input ${r3(seenMs)} ms after the host went silent`,
    measured,
    lim,
  );
}

/**
 * Unplug and replug: on the simulated board SIGUSR1 makes the host firmware pull its pty
 * (--fault-on-signal disconnect:MS) for hil.unplugMs; on hardware the person pulls the cable.
 * reconnect_ms: from the device being back (the end of the simulated unplug, or the person's
 * Enter after plugging in) to the first samples; gap_ms: between the blocks either side.
 */
export async function unplugStep(env: DeviceStepEnv, unplugMs: number): Promise<StepOutcome> {
  const { session, limits, signal, operator } = env;
  const lim = { reconnect_max_ms: limits.reconnectMaxMs };
  if (!env.simulated && !operator.interactive) return skip(NON_INTERACTIVE_REASON, lim);
  let lastBefore = Number.NaN;
  let gapMs = Number.NaN;
  const offBlock = session.onBlock((_b, at) => (lastBefore = at));
  const offGap = session.onGap((g) => {
    if (Number.isFinite(g.hostSpanMs)) gapMs = g.hostSpanMs;
  });
  try {
    const lost = within<string>(
      env.simulated ? 5000 : 120_000,
      signal,
      (done) => session.onState((s) => s !== 'streaming' && done(s)),
      'the link noticing the unplug',
    );
    lost.catch(() => undefined); // awaited below; an early return must not leave it unhandled
    let unpluggedAt: number;
    if (env.simulated) {
      const pid = session.firmwarePid();
      if (!pid) return judged(['the simulated firmware is not running'], '', {}, lim);
      unpluggedAt = monotonicMs();
      process.kill(pid, 'SIGUSR1');
    } else {
      await operator.confirm("Unplug the bridge's USB cable now", signal);
      unpluggedAt = monotonicMs();
    }
    try {
      await lost;
    } catch (err) {
      if (!(err instanceof HilTimeout)) throw err;
      return judged([`the stream went on: the link never noticed the unplug (${err.message})`], '', {}, lim);
    }
    const noticedMs = monotonicMs() - unpluggedAt;
    offBlock();
    const lastSample = lastBefore;
    const back = within<number>(unplugMs + limits.reconnectMaxMs + 5000, signal, (done) => session.onBlock((_b, at) => done(at)), 'samples after the replug');
    back.catch(() => undefined); // awaited below, after the person's confirmation
    let backAt: number;
    if (env.simulated) backAt = unpluggedAt + unplugMs;
    else {
      await operator.confirm('Plug it back in', signal);
      backAt = monotonicMs();
    }
    let firstAfter: number;
    try {
      firstAfter = await back;
    } catch (err) {
      if (!(err instanceof HilTimeout)) throw err;
      return judged(
        [`no samples ${Math.round(monotonicMs() - backAt)} ms after the device came back: the link did not reconnect (limit ${limits.reconnectMaxMs} ms)`],
        '',
        { noticed_ms: r3(noticedMs) },
        lim,
      );
    }
    const reconnectMs = firstAfter - backAt;
    if (!Number.isFinite(gapMs)) gapMs = firstAfter - lastSample;
    const measured = {
      reconnect_ms: r3(reconnectMs),
      gap_ms: r3(gapMs),
      unplugged_ms: env.simulated ? unplugMs : r3(backAt - unpluggedAt),
      noticed_ms: r3(noticedMs),
    };
    return judged(
      [
        reconnectMs > limits.reconnectMaxMs &&
          `samples flowed again ${r3(reconnectMs)} ms after the device came back, over the limit of ${limits.reconnectMaxMs} ms`,
      ],
      `reconnected ${r3(reconnectMs)} ms after the device came back; ${r3(gapMs)} ms without samples`,
      measured,
      lim,
    );
  } finally {
    offBlock();
    offGap();
  }
}
