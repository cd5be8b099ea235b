/**
 * The loop worker: a thin driver around DeadlineSchedule (when), ControlCore (what)
 * and the shared frames (hand-off). It sleeps with Atomics.wait until shortly before
 * each deadline and spins the rest, so the main thread's serial, ZeroMQ and logging
 * work cannot delay a cycle. Nothing here allocates per cycle. Windows reach the predictor
 * exactly as ControlLoop.pushWindow got them: time-major [samples x channels].
 */
import { writeSync } from 'node:fs';
import { GCProfiler } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { OutputMap } from '../actuate/mapping.js';
import { SafetyLimiter } from '../actuate/safety.js';
import { ConfigError, isReflexError } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { monotonicMs } from '../time/monotonic.js';
import { buildWorkerActuators } from '../actuate/worker-backends.js';
import { ControlCore, type CorePredictor } from './core.js';
import { WorkerDriver } from './drive.js';
import { WriteLog } from './write-log.js';
import { IN_META, OUT_META, outputRecordStride, type PredictorReport, type WorkerInit, type WorkerMessage } from './messages.js';
import { applyThreadPriority } from './priority.js';
import { LoopRunner } from './runner.js';
import { DeadlineSchedule, sleepBudgetMs } from './schedule.js';
import { Spinner } from './spin.js';
import { ModelSwapper } from './swap.js';
import { kernelFromSpec } from '../predict/kernel-spec.js';
import { KernelPredictor } from '../predict/scaling.js';
import { OutputRing } from './output-ring.js';
import { CTRL, SharedFrame } from './shared.js';
import { createStatsFrame, StatsWriter } from './stats.js';
import { reasonCode, type SafetyEvent } from './watchdog.js';

const port = parentPort;
if (!port) throw new Error('src/loop/worker is a worker_threads entry point; start it through ControlLoop.start()');
const init = workerData as WorkerInit;
const post = (m: WorkerMessage): void => port.postMessage(m);
/**
 * Straight to fd 2: a worker's process.stderr relays each write through this thread's event
 * loop, which never runs while the loop cycles, so a line logged then came out only when the
 * worker ended. If the synchronous write fails, the relay still gets the line out later.
 */
function writeLine(line: string): void {
  try {
    writeSync(2, line + '\n');
  } catch {
    process.stderr.write(line + '\n');
  }
}
/** The parent's format and level (its sink object cannot cross threads), tagged [loop]. */
const workerLog = Logger.fromSettings(init.log ?? { format: 'text', level: new Logger().level }, 'loop', writeLine);

async function loadPredictor(): Promise<{ p: CorePredictor; report: PredictorReport }> {
  const spec = init.predictor;
  const t0 = monotonicMs();
  if (spec.kind === 'model') {
    const { Predictor } = await import('../predict/predictor.js');
    const p = await Predictor.load(spec.dir, { mode: spec.mode, backends: spec.backends, warmUp: spec.warmUp, log: workerLog });
    const tf = await import('@tensorflow/tfjs');
    tensorCount = () => tf.memory().numTensors;
    return { p, report: { kind: 'model', model: p.info, warmUpMs: monotonicMs() - t0, tensors: tensorCount() } };
  }
  if (spec.kind === 'kernel') {
    // Verified by model-verify-worker.ts; built here from data, so this thread never loads TensorFlow.js.
    const p = new KernelPredictor(spec.scaling, kernelFromSpec(spec.spec));
    const x = new Float32Array(p.inputSize);
    const y = new Float32Array(p.outputSize);
    for (let i = 0; i < (spec.warmUp ?? 50); i++) p.predict(x, y);
    const info = spec.info;
    workerLog.info(
      `predictor: ${info.dir} on compiled (verified on ${info.backend.name}), input [${info.inputShape.join(', ')}], outputs ${info.outputNames.join(', ')}`,
    );
    return { p, report: { kind: 'model', model: info, warmUpMs: monotonicMs() - t0 } };
  }
  const mod = (await import(spec.url)) as { createPredictor(o: unknown): CorePredictor | Promise<CorePredictor> };
  const p = await mod.createPredictor(spec.options);
  return { p, report: { kind: 'module', warmUpMs: monotonicMs() - t0 } };
}

/** Live TensorFlow.js tensors, once a model is loaded (reported at ready and at stop). */
let tensorCount: (() => number) | null = null;

/** For the fatal path: whatever the worker opened goes safe before the worker reports and ends. */
let opened: WorkerDriver | null = null;

async function openActuators(i: WorkerInit, act: Int32Array): Promise<WorkerDriver> {
  const { set, bridge } = await buildWorkerActuators(i.actuators, i.actuation!, act);
  const log = i.buffers.writeLog ? new WriteLog(i.writeLogSize!, i.buffers.writeLog) : null;
  const d = new WorkerDriver(set, bridge, act, log);
  if (!d.safe()) {
    set.close();
    throw new Error(`could not put the actuators in the safe state at start: ${d.lastError}`);
  }
  return d;
}

async function main(): Promise<void> {
  const ctrl = new Int32Array(init.buffers.control);
  const input = new SharedFrame({ meta: IN_META, f64: 0, f32: init.inputSize }, init.buffers.input);
  const output = new SharedFrame({ meta: OUT_META, f64: init.actuators.length, f32: init.outputSize }, init.buffers.output);
  const statsFrame = createStatsFrame(init.statsWindow, init.buffers.stats);
  const ring = new OutputRing(init.outputRingSize, outputRecordStride(init.actuators.length, init.outputSize), init.buffers.outputRing);

  const { p, report } = await loadPredictor();
  if (p.inputSize !== init.inputSize || p.outputSize !== init.outputSize) {
    throw new RangeError(
      `predictor takes ${p.inputSize} inputs and gives ${p.outputSize} outputs; the loop was set up for ${init.inputSize} and ${init.outputSize}`,
    );
  }
  const act = new Int32Array(init.buffers.actuation);
  // Opened at their safe values before the first cycle; a backend that fails here fails start().
  const driver = init.actuation ? await openActuators(init, act) : null;
  opened = driver;
  const limiter = new SafetyLimiter(init.actuators);
  const map = new OutputMap(init.mapping, init.actuators, init.predictor.kind === 'module' ? init.predictor.outputNames : report.model!.outputNames);
  const pending: SafetyEvent[] = [];
  const flush = (): void => {
    for (const event of pending) post({ type: 'event', event });
    pending.length = 0;
  };
  const core = new ControlCore({
    predictor: p,
    map,
    limiter,
    watchdog: init.watchdog,
    startArmed: init.startArmed,
    predictEveryCycle: init.predictEveryCycle,
    // Posted after the cycle's frame is published, so main never hears of a safe state it cannot read yet.
    onEvent: (event) => {
      Atomics.store(ctrl, CTRL.reason, reasonCode(event.reason));
      pending.push(event);
    },
  });
  if (init.priority) {
    report.priority = applyThreadPriority(init.priority);
    for (const f of report.priority.failed) workerLog.warn(`thread priority not applied: ${f}`);
  }
  // Calibrated here, at the thread's final priority, before the grid starts (it burns a few ms).
  const spinner = new Spinner({ clock: monotonicMs });
  // The grid starts after all set-up (priority change spawns chrt), so no first cycle starts late.
  const sched = new DeadlineSchedule(init.schedule, monotonicMs());
  const runner = new LoopRunner({
    core,
    sched,
    input,
    output,
    stats: new StatsWriter(statsFrame, sched.periodMs),
    ctrl,
    streakLimit: init.watchdog.overrunStreak,
    ring,
    ...(driver && { drive: { driver, act } }),
  });
  const swapper = new ModelSwapper({
    port: init.swapPort ?? null,
    ctrl,
    core,
    actuators: init.actuators,
    mapping: init.mapping,
    spinMs: init.spinMs,
    post,
    clock: monotonicMs,
    log: workerLog,
    retire: (old) => {
      (old as { dispose?: () => void }).dispose?.();
      return tensorCount?.();
    },
  });
  // Safe (or armed) commands are on the wire before the first cycle.
  runner.publish(-1, monotonicMs());
  post({ type: 'ready', predictor: report });
  Atomics.store(ctrl, CTRL.running, 1);
  // Counted from here: set-up allocates, cycles must not. GCProfiler records inside the GC
  // callbacks; a PerformanceObserver would never run, since this thread never yields to its event loop.
  const gcProfiler = new GCProfiler();
  gcProfiler.start();

  const spin = init.spinMs;
  for (;;) {
    const wake = Atomics.load(ctrl, CTRL.wake);
    const stop = runner.control(monotonicMs());
    if (pending.length > 0) flush();
    if (stop) break;
    // After the last cycle's commands are out: a pending model swap is built here if the gap allows.
    swapper.poll();
    if (swapper.pending && swapper.step(sched.deadline, sched.index)) continue;
    const deadline = sched.deadline;
    let now = monotonicMs();
    const sleep = sleepBudgetMs(now, deadline, spin);
    if (sleep > 0) {
      // Returns early when main posts a request (e-stop, release, stop).
      Atomics.wait(ctrl, CTRL.wake, wake, sleep);
      continue;
    }
    now = spinner.until(deadline);
    runner.cycle(now, monotonicMs);
    if (pending.length > 0) flush();
  }
  Atomics.store(ctrl, CTRL.running, 0);
  // The stop request already put them safe (runner.control); closing releases the lines.
  driver?.close();
  const gcs = gcProfiler.stop()?.statistics.length ?? 0;
  post({ type: 'stopped', gcs, ...(tensorCount && { tensors: tensorCount() }) });
}

main().catch((err: unknown) => {
  opened?.safe();
  post({
    type: 'fatal',
    code: isReflexError(err) ? err.code : 'E_LOOP_WORKER',
    message: err instanceof Error ? err.message : String(err),
    config: err instanceof ConfigError,
  });
});
