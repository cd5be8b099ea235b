/**
 * The steps that need the whole runtime (docs/hil.md): the host's stale-input watchdog and
 * the two e-stops. The runtime runs as `reflex run` would (source, clock, units, aligner,
 * the loop worker with its model, telemetry, control), armed; the check talks to it through
 * the control client like an operator's workstation, and reads the loop's safety events.
 */
import type { HilDef } from '../boards/types.js';
import type { SafetyEvent } from '../loop/watchdog.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ControlClient } from '../telemetry/control-client.js';
import { monotonicMs } from '../time/monotonic.js';
import type { InputProbe } from './input-probe.js';
import { r3 } from './limits.js';
import { NON_INTERACTIVE_REASON, type Operator } from './operator.js';
import { judged, skip, type StepOutcome } from './outcome.js';
import { HilTimeout, pause, within } from './wait.js';

export interface RuntimeStepEnv {
  rt: Runtime;
  ctl: ControlClient;
  input: InputProbe;
  limits: HilDef;
  signal: AbortSignal;
  operator: Operator;
  simulated: boolean;
  /** The simulated firmware's pid (0 on hardware). */
  firmwarePid: () => number;
}

function loopOf(env: RuntimeStepEnv): NonNullable<Runtime['loop']> {
  const loop = env.rt.loop;
  if (!loop) throw new Error('the runtime has no control loop: hil needs a model (--config with "model", or the default model)');
  return loop;
}

/** The next safety event of `reason` detected at or after `since`. */
function nextSafety(env: RuntimeStepEnv, reason: SafetyEvent['reason'], since: number, ms: number): Promise<SafetyEvent> {
  const loop = loopOf(env);
  const p = within<SafetyEvent>(
    ms,
    env.signal,
    (done) => loop.onSafetyEvent((e) => e.reason === reason && e.timeMs >= since && done(e)),
    `a ${reason} safety event`,
  );
  p.catch(() => undefined); // awaited by the caller after it triggers the event
  return p;
}

/**
 * Waits for a fresh input window (so the input probe has seen one), then leaves the safe state
 * the way an operator does (control `release`), so the next trip has something to put safe.
 * Returns a problem, or null when armed.
 */
async function arm(env: RuntimeStepEnv, freshMs: number): Promise<string | null> {
  const loop = loopOf(env);
  const before = env.input.count;
  try {
    await within<void>(freshMs, env.signal, (done) => env.input.onPush(() => env.input.count > before && done()), 'fresh input');
  } catch (err) {
    if (!(err instanceof HilTimeout)) throw err;
    return `no input reached the loop within ${freshMs} ms, so it could not be released for the check`;
  }
  if (!loop.safe) return null;
  const reply = (await env.ctl.request('release')) as { safe?: boolean; outcome?: string };
  // The reply carries the state as the loop applied it; a trip after that (late input on a
  // loaded machine) is the loop working, and the step's own event still comes.
  return reply.safe === false ? null : `control "release" left the loop safe (${JSON.stringify(reply)})`;
}

/** How long the simulated firmware stalls its stream for the host-watchdog step (longer than staleMs). */
export function stallMs(staleMs: number): number {
  return Math.max(400, Math.ceil(staleMs) + 300);
}

/**
 * Host watchdog: the input stops (simulated board: SIGUSR1 stalls the firmware's stream,
 * --fault-on-usr1 stall:MS; hardware: the person pulls the cable) and the loop must trip on
 * stale input within hil.hostWatchdogPeriods loop periods of the input going stale (its last
 * window's publication + loop.staleMs), with every actuator commanded to its safe value.
 */
export async function hostWatchdogStep(env: RuntimeStepEnv): Promise<StepOutcome> {
  const { rt, limits, signal, operator } = env;
  const periodMs = 1000 / rt.config.loop.rateHz;
  const staleMs = rt.config.loop.staleMs;
  const allowed = limits.hostWatchdogPeriods * periodMs;
  const lim = { late_max_ms: r3(allowed), stale_ms: staleMs, period_ms: r3(periodMs) };
  if (!env.simulated && !operator.interactive) return skip(NON_INTERACTIVE_REASON, lim);
  const loop = loopOf(env);
  const armProblem = await arm(env, 5000);
  if (armProblem) return judged([armProblem], '', {}, lim);
  const since = monotonicMs();
  const trip = nextSafety(env, 'stale_input', since, staleMs + (env.simulated ? 5000 : 120_000));
  if (env.simulated) {
    const pid = env.firmwarePid();
    if (!pid) return judged(['the simulated firmware is not running'], '', {}, lim);
    process.kill(pid, 'SIGUSR1');
  } else {
    await operator.confirm("Unplug the bridge's USB cable now (the input goes stale), then plug it back in", signal);
  }
  let e: SafetyEvent;
  try {
    e = await trip;
  } catch (err) {
    if (!(err instanceof HilTimeout)) throw err;
    return judged([`the input stopped but the loop did not trip on stale input (${err.message}); loop.staleMs is ${staleMs}`], '', {}, lim);
  }
  const lastInput = env.input.lastBefore(e.timeMs);
  const lateMs = e.timeMs - (lastInput + staleMs);
  // The loop's output at or after the tripping cycle: what it commands every actuator now.
  let out = rt.latest();
  for (let i = 0; i < 20 && out && out.cycle < e.cycle; i++) {
    await pause(periodMs, signal);
    out = rt.latest();
  }
  const safeValues = loop.safeCommands;
  const notSafe = out ? Array.from(out.commands).filter((v, i) => v !== safeValues[i]).length : Number.NaN;
  const names = out ? loop.actuatorNames.filter((_n, i) => out.commands[i] !== safeValues[i]) : [];
  const measured = { late_ms: r3(lateMs), input_age_ms: r3(e.timeMs - lastInput), actuators_not_safe: notSafe };
  const result = judged(
    [
      !Number.isFinite(lastInput) && 'no input window was seen before the trip',
      lateMs > allowed && `the loop tripped ${r3(lateMs)} ms after the input went stale, over ${limits.hostWatchdogPeriods} loop periods (${r3(allowed)} ms)`,
      !loop.safe && 'the loop is not in the safe state after the trip',
      notSafe !== 0 && `actuators not commanded safe after the trip: ${names.join(', ') || 'no loop output to check'}`,
    ],
    `tripped ${r3(lateMs)} ms after the input went stale (${r3(e.timeMs - lastInput)} ms after the last window); every actuator safe`,
    measured,
    lim,
  );
  // Let the input come back before the next step needs it.
  const before = env.input.count;
  await within<void>(stallMs(staleMs) + 5000, signal, (done) => env.input.onPush(() => env.input.count > before && done()), 'input after the stall').catch(
    (err: Error) => {
      if (!(err instanceof HilTimeout)) throw err;
      result.status = 'fail';
      result.reason += `; input did not come back after the stall (${err.message})`;
    },
  );
  return result;
}

/** E-stop by control command: from the request sent to the loop's e-stop event. */
export async function estopControlStep(env: RuntimeStepEnv): Promise<StepOutcome> {
  const { limits } = env;
  const lim = { estop_max_ms: limits.estopMaxMs };
  const loop = loopOf(env);
  const armProblem = await arm(env, 5000);
  if (armProblem) return judged([armProblem], '', {}, lim);
  const t0 = monotonicMs();
  const ev = nextSafety(env, 'estop', t0, limits.estopMaxMs + 5000);
  await env.ctl.request('estop', { reason: 'reflex hil' });
  const replyMs = monotonicMs() - t0;
  let e: SafetyEvent;
  try {
    e = await ev;
  } catch (err) {
    if (!(err instanceof HilTimeout)) throw err;
    return judged([`control "estop" was answered but the loop reported no e-stop (${err.message})`], '', { reply_ms: r3(replyMs) }, lim);
  }
  const ms = e.timeMs - t0;
  return judged(
    [
      ms > limits.estopMaxMs && `safe ${r3(ms)} ms after the command was sent, over ${limits.estopMaxMs} ms`,
      !loop.safe && 'the loop is not in the safe state after the e-stop',
    ],
    `safe ${r3(ms)} ms after the command was sent (reply after ${r3(replyMs)} ms)`,
    { estop_ms: r3(ms), reply_ms: r3(replyMs) },
    lim,
  );
}

/**
 * E-stop by the board's GPIO input (pins.estop). Simulated board: the runtime's fake GPIO
 * chip drives the line to pressed (Runtime.simGpio.drive(pin, 1)) and back; the loop must be
 * safe, and stay safe after the button is let go. Hardware: the person presses it.
 */
export async function estopGpioStep(env: RuntimeStepEnv): Promise<StepOutcome> {
  const { rt, limits, operator, signal } = env;
  const lim = { estop_max_ms: limits.estopMaxMs };
  const pin = rt.board.pins?.estop;
  if (!pin) return skip('the board has no e-stop input (pins.estop)', lim);
  const gpio = rt.simGpio;
  if (!gpio && !operator.interactive) return skip(NON_INTERACTIVE_REASON, lim);
  const loop = loopOf(env);
  const armProblem = await arm(env, 5000);
  if (armProblem) return judged([armProblem], '', {}, lim);
  const t0 = monotonicMs();
  const ev = nextSafety(env, 'estop', t0, gpio ? limits.estopMaxMs + 5000 : 120_000);
  if (gpio) gpio.drive(pin, 1);
  else await operator.confirm('Press the e-stop button, then let it go', signal);
  let e: SafetyEvent;
  try {
    e = await ev;
  } catch (err) {
    if (!(err instanceof HilTimeout)) throw err;
    return judged([`the e-stop input (${pin.chip} line ${pin.line}) was pressed but the loop reported no e-stop (${err.message})`], '', {}, lim);
  } finally {
    gpio?.drive(pin, 0);
  }
  // The press time is known only when the check pressed it.
  const ms = gpio ? e.timeMs - t0 : Number.NaN;
  return judged(
    [
      ms > limits.estopMaxMs && `safe ${r3(ms)} ms after the press, over ${limits.estopMaxMs} ms`,
      !loop.safe && 'the loop left the safe state when the button was let go',
    ],
    gpio ? `safe ${r3(ms)} ms after the press; still safe after it was let go` : 'safe after the press; still safe after it was let go',
    { estop_ms: r3(ms) },
    lim,
  );
}
