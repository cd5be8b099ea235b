/**
 * `reflex hil`: every step in order against the board's limits, then the report. Two
 * phases: the device steps on the board's source alone (nothing else drives its actuators),
 * then the runtime steps on a full runtime. A step that throws fails with the error's
 * message; a phase that cannot start fails its steps with the reason. An abort (SIGINT,
 * SIGTERM) ends the run: the error propagates after everything opened is closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoard } from '../boards/load.js';
import type { BoardDef, HilDef } from '../boards/types.js';
import type { Logger } from '../core/log.js';
import { defaultConfig, loadConfig, type RunConfig } from '../runtime/config.js';
import { Runtime } from '../runtime/runtime.js';
import { ControlClient } from '../telemetry/control-client.js';
import { monotonicMs } from '../time/monotonic.js';
import { consentToDrive } from './consent.js';
import { InputProbe } from './input-probe.js';
import { hilLimits } from './limits.js';
import type { Operator } from './operator.js';
import { type StepOutcome } from './outcome.js';
import { buildReport } from './report.js';
import { DeviceSession, LoopbackProbe } from './session.js';
import { isSimulated, phaseBoard, unplugMs } from './sim-board.js';
import { firmwareWatchdogStep, loopbackStep, rateStep, unplugStep, type DeviceStepEnv } from './steps-device.js';
import { estopControlStep, estopGpioStep, hostWatchdogStep, stallMs, type RuntimeStepEnv } from './steps-runtime.js';
import { HIL_STEP_NAMES, HIL_STEPS, type HilReport, type HilStepId, type HilStepResult } from './types.js';

export interface HilOptions {
  /** Board id or file. */
  board: string;
  /** Run configuration for the runtime steps (model, loop rate, staleMs); its board and endpoints are replaced. */
  config?: string;
  /** Seconds of the rate step. */
  rateDurationS: number;
  /** Commands in the loopback step. */
  loopbackSteps: number;
  /** Steps not to run, with the reason to report. */
  skip: ReadonlyMap<HilStepId, string>;
  operator: Operator;
  log: Logger;
  signal: AbortSignal;
  /** Longest wait for the source to stream, ms (default 20000). */
  connectMs?: number;
  /** `--outputs-unloaded`: the rig's owner states no load hangs on the actuator outputs (hardware, unattended). */
  outputsUnloaded?: boolean;
}

const DEVICE_STEPS: readonly HilStepId[] = ['rate', 'loopback', 'firmware_watchdog', 'unplug'];
const RUNTIME_STEPS: readonly HilStepId[] = ['host_watchdog', 'estop_control', 'estop_gpio'];
/** How long the simulated host stays silent for the firmware-watchdog step. */
const DEAF_MS = 1500;

export async function runHil(o: HilOptions): Promise<HilReport> {
  const board = loadBoard(o.board);
  const limits = hilLimits(board);
  // Checked before anything runs: a bad configuration is a usage error (exit 2), not a failed step.
  const cfg = o.config ? loadConfig(o.config) : defaultConfig();
  // Hardware: nothing is opened, let alone driven, before a person (or the flag) says the outputs carry no load.
  await consentToDrive(board, isSimulated(board), o.outputsUnloaded === true, o.operator, o.signal);
  const started = Date.now();
  const t0 = monotonicMs();
  const results = new Map<HilStepId, HilStepResult>();
  const dir = mkdtempSync(join(tmpdir(), 'reflex-hil-'));
  const record = (id: HilStepId, outcome: StepOutcome, ms: number): void => {
    results.set(id, { id, name: HIL_STEP_NAMES[id], ...outcome, durationMs: Math.round(ms) });
    o.operator.say(`${id}: ${outcome.status.toUpperCase()} ${outcome.reason}`);
  };
  const run = async (id: HilStepId, fn: () => Promise<StepOutcome>): Promise<void> => {
    const why = o.skip.get(id);
    if (why !== undefined) return record(id, { status: 'skip', reason: `skipped: ${why}`, measured: {}, limits: {} }, 0);
    const t = monotonicMs();
    try {
      record(id, await fn(), monotonicMs() - t);
    } catch (err) {
      if (o.signal.aborted) throw err;
      record(id, { status: 'fail', reason: (err as Error).message, measured: {}, limits: {} }, monotonicMs() - t);
    }
  };
  const failAll = (ids: readonly HilStepId[], reason: string): void => {
    for (const id of ids) {
      if (results.has(id)) continue;
      const why = o.skip.get(id);
      record(
        id,
        why !== undefined ? { status: 'skip', reason: `skipped: ${why}`, measured: {}, limits: {} } : { status: 'fail', reason, measured: {}, limits: {} },
        0,
      );
    }
  };
  try {
    // A phase every step of which is skipped is not started at all.
    if (DEVICE_STEPS.some((id) => !o.skip.has(id))) await devicePhase(o, board, limits, dir, run, failAll);
    else failAll(DEVICE_STEPS, 'not run');
    if (RUNTIME_STEPS.some((id) => !o.skip.has(id))) await runtimePhase(o, cfg, board, limits, dir, run, failAll);
    else failAll(RUNTIME_STEPS, 'not run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const steps = HIL_STEPS.map((id) => results.get(id)!);
  return buildReport(board, limits, isSimulated(board), started, Math.round(monotonicMs() - t0), steps);
}

type Run = (id: HilStepId, fn: () => Promise<StepOutcome>) => Promise<void>;
type FailAll = (ids: readonly HilStepId[], reason: string) => void;

async function devicePhase(o: HilOptions, board: BoardDef, limits: HilDef, dir: string, run: Run, failAll: FailAll): Promise<void> {
  const unplug = unplugMs(limits);
  const pb = phaseBoard(board, limits, 'device', dir, { usr1: `disconnect:${unplug}`, usr2: `deaf:${DEAF_MS}` });
  let session: DeviceSession;
  try {
    session = await DeviceSession.open(pb.board, o.log, o.connectMs ?? 20_000, o.signal);
  } catch (err) {
    if (o.signal.aborted) throw err;
    return failAll(DEVICE_STEPS, `the source did not stream: ${(err as Error).message}`);
  }
  let closeSink = (): void => undefined;
  try {
    const env: DeviceStepEnv = { session, limits, signal: o.signal, operator: o.operator, simulated: pb.simulated };
    const lb = limits.loopback;
    const act = lb && pb.board.actuators.find((a) => a.name === lb.actuator);
    const out = lb && act ? session.actuationSink() : null;
    closeSink = out?.close ?? closeSink;
    const probe = lb && act && out ? new LoopbackProbe(session, out.sink, act, lb.channel, out.failures) : null;
    await run('rate', () => rateStep(env, o.rateDurationS));
    await run('loopback', () => loopbackStep(env, probe, o.loopbackSteps));
    await run('firmware_watchdog', () => firmwareWatchdogStep(env, probe, pb.actuatorLog));
    await run('unplug', () => unplugStep(env, unplug));
  } finally {
    closeSink();
    await session.close();
  }
}

async function runtimePhase(o: HilOptions, cfg: RunConfig, board: BoardDef, limits: HilDef, dir: string, run: Run, failAll: FailAll): Promise<void> {
  const pb = phaseBoard(board, limits, 'runtime', dir, { usr1: `stall:${stallMs(cfg.loop.staleMs)}` });
  cfg.board = pb.file;
  cfg.runtimeId = 'reflex-hil';
  // Its own loopback endpoints, so a run already serving the usual ports does not clash.
  cfg.telemetry = { ...cfg.telemetry, endpoints: ['tcp://127.0.0.1:*'], control: 'tcp://127.0.0.1:*', keysDir: null, insecure: false };
  cfg.durationS = null;
  let rt: Runtime;
  try {
    rt = await Runtime.start(cfg, { log: o.log, guardProcess: false, arm: true, signal: o.signal });
  } catch (err) {
    if (o.signal.aborted) throw err;
    return failAll(RUNTIME_STEPS, `the runtime did not start: ${(err as Error).message}`);
  }
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 10_000 });
  try {
    if (!rt.loop) return failAll(RUNTIME_STEPS, 'the runtime has no control loop: hil needs a model (--config with "model")');
    const env: RuntimeStepEnv = {
      rt,
      ctl,
      input: new InputProbe(rt.loop),
      limits,
      signal: o.signal,
      operator: o.operator,
      simulated: pb.simulated,
      firmwarePid: () => {
        const src = rt.status().source as Record<string, unknown> | null;
        return typeof src?.firmware_pid === 'number' ? src.firmware_pid : 0;
      },
    };
    await run('host_watchdog', () => hostWatchdogStep(env));
    await run('estop_control', () => estopControlStep(env));
    await run('estop_gpio', () => estopGpioStep(env));
  } finally {
    await ctl.close();
    await rt.stop();
  }
}
