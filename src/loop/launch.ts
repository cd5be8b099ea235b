/**
 * Starting the loop worker, apart from running it (loop.ts): check the options on the
 * caller's thread, lay out the shared memory, spawn the worker and wait until its
 * predictor is loaded. Worker messages go to a listener the ControlLoop attaches once it
 * exists; until then only the ready/failed outcome of start matters.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { createActuationBlock } from '../actuate/fd-bridge.js';
import { OutputMap } from '../actuate/mapping.js';
import { validateActuatorDef } from '../actuate/safety.js';
import { validateWorkerBackends } from '../actuate/worker-backends.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import { IN, IN_META, OUT_META, outputRecordStride, type PredictorReport, type WorkerInit, type WorkerMessage } from './messages.js';
import type { ControlLoopOptions } from './options.js';
import { OutputRing, ringCapacityFor } from './output-ring.js';
import { validateScheduleOptions } from './schedule.js';
import { createControl, SharedFrame } from './shared.js';
import { sizesOf, spawnWorker } from './spawn.js';
import { createStatsFrame } from './stats.js';
import { validateWatchdogOptions, type SafetyEvent } from './watchdog.js';
import { WriteLog } from './write-log.js';
import { LoopCodes } from './codes.js';

/** Validated settings, the shared memory both threads use, and the worker's init data. */
export interface LoopSetup {
  mode: 'worker' | 'main';
  inputSize: number;
  outputNames: string[];
  ctrl: Int32Array;
  input: SharedFrame;
  output: SharedFrame;
  stats: SharedFrame;
  /** Every cycle's output (the main thread's reading end). */
  outputRing: OutputRing;
  act: Int32Array;
  writeLog: WriteLog | null;
  /** Main's end of the swap port (the worker's end travels in init). */
  swapPort: MessagePort;
  init: WorkerInit;
}

/** Everything start() can refuse is refused here, before a thread exists. */
export function prepareLoop(opts: ControlLoopOptions): LoopSetup {
  const schedule = validateScheduleOptions(opts.schedule);
  validateWatchdogOptions(opts.watchdog);
  for (const a of opts.actuators) validateActuatorDef(a);
  if (opts.sink && opts.sink.defs.length !== opts.actuators.length) {
    throw new ConfigError(
      LoopCodes.sink,
      `the actuator sink drives ${opts.sink.defs.length} actuators, the loop ${opts.actuators.length}; build both from the same board`,
    );
  }
  const mode = opts.actuateIn ?? (opts.actuation ? 'worker' : 'main');
  if (mode !== 'worker' && mode !== 'main') throw new ConfigError(LoopCodes.actuateIn, `actuateIn must be "worker" or "main", got "${String(mode)}"`);
  if (mode === 'worker') {
    if (!opts.actuation)
      throw new ConfigError(
        LoopCodes.actuateIn,
        'actuateIn "worker" needs `actuation` (the backends the worker opens the actuators with); or use actuateIn "main" with a sink',
      );
    validateWorkerBackends(opts.actuators, opts.actuation);
    const owned = opts.sink?.defs.find((d) => d.via === 'gpio' || d.via === 'sysfs-pwm');
    if (owned)
      throw new ConfigError(
        LoopCodes.sink,
        `actuator "${owned.name}" (via ${owned.via}) is opened by the loop worker; ` +
          'the main-thread sink must not open it too (drop it from the sink, or use actuateIn "main")',
      );
  }
  const spinUs = opts.spinUs ?? 150;
  if (!(spinUs >= 0 && spinUs <= 5000)) throw new ConfigError(LoopCodes.spin, `spinUs must be 0..5000, got ${spinUs}`);
  const { inputSize, outputNames } = sizesOf(opts.predictor);
  // Mapping errors surface here, on the caller's thread, with the key named.
  new OutputMap(opts.mapping, opts.actuators, outputNames);
  const statsWindow = opts.statsWindow ?? 2048;
  const ctrl = createControl();
  const input = new SharedFrame({ meta: IN_META, f64: 0, f32: inputSize });
  const output = new SharedFrame({ meta: OUT_META, f64: opts.actuators.length, f32: outputNames.length });
  const stats = createStatsFrame(statsWindow);
  const outputRing = new OutputRing(
    ringCapacityFor(opts.outputRing ?? defaultRingCycles(schedule.rateHz)),
    outputRecordStride(opts.actuators.length, outputNames.length),
  );
  const act = createActuationBlock();
  const writeLog = mode === 'worker' && opts.writeLogSize ? new WriteLog(opts.writeLogSize) : null;
  input.meta[IN.publishedAtMs] = Number.NaN;
  const swap = new MessageChannel();
  const init: WorkerInit = {
    schedule,
    spinMs: spinUs / 1000,
    watchdog: opts.watchdog,
    startArmed: opts.startArmed ?? false,
    predictEveryCycle: opts.predictEveryCycle ?? false,
    actuators: opts.actuators.map((a) => ({ ...a })),
    mapping: opts.mapping.map((m) => ({ ...m })),
    predictor: opts.predictor,
    inputSize,
    outputSize: outputNames.length,
    statsWindow,
    ...(opts.priority ? { priority: { ...opts.priority } } : {}),
    ...(mode === 'worker' && { actuation: { ...opts.actuation! } }),
    buffers: {
      control: ctrl.buffer as SharedArrayBuffer,
      input: input.buffer,
      output: output.buffer,
      stats: stats.buffer,
      actuation: act.buffer as SharedArrayBuffer,
      ...(writeLog && { writeLog: writeLog.buffer }),
      outputRing: outputRing.buffer,
    },
    outputRingSize: outputRing.capacity,
    ...(writeLog && { writeLogSize: writeLog.size }),
    swapPort: swap.port2,
    ...(opts.log && { log: opts.log.settings() }),
  };
  return { mode, inputSize, outputNames, ctrl, input, output, stats, outputRing, act, writeLog, swapPort: swap.port1, init };
}

/**
 * Two seconds of cycles: the runtime drains the ring every 100 ms, so its main thread can be
 * busy (a GC pause, a slow disk under the recorder) for well over a second before a cycle is lost.
 */
function defaultRingCycles(rateHz: number): number {
  return Math.max(64, Math.ceil(2 * rateHz));
}

/** What a running worker reports after start, for the ControlLoop to act on. */
export interface WorkerListener {
  event(e: SafetyEvent): void;
  /** The worker failed (fatal message or crash); it cannot put anything safe any more. */
  failed(detail: string): void;
  exited(code: number): void;
  /** The worker's last word before it exits: live TensorFlow.js tensors, if it had a model. */
  stopped(tensors: number | undefined, gcs: number | undefined): void;
  /** A model swap's outcome (see ControlLoop.swapModel). */
  swap(m: Extract<WorkerMessage, { type: 'swapped' | 'swap-failed' }>): void;
}

export interface LaunchedWorker {
  worker: Worker;
  report: PredictorReport;
  /** Resolves when the worker thread has exited (for any reason). */
  exited: Promise<void>;
  /** Route the worker's messages from now on (safety events before this are not kept). */
  attach(listener: WorkerListener): void;
}

/** Spawn the worker and wait for 'ready'; a failure or timeout before that terminates it and rejects. */
export async function launchWorker(init: WorkerInit, startTimeoutMs: number): Promise<LaunchedWorker> {
  const worker = spawnWorker(init);
  let listener: WorkerListener | null = null;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const ready = new Promise<PredictorReport>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ReflexError(LoopCodes.start, `the loop worker did not become ready within ${startTimeoutMs} ms (predictor load + warm-up)`)),
      startTimeoutMs,
    );
    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'ready':
          clearTimeout(timer);
          resolve(m.predictor);
          return;
        case 'event':
          listener?.event(m.event);
          return;
        case 'fatal':
          clearTimeout(timer);
          // A bad model directory found in the worker is still bad input: keep it a ConfigError (exit 2).
          reject(m.config ? new ConfigError(m.code, m.message) : new ReflexError(m.code, m.message));
          listener?.failed(`loop worker failed (${m.code}): ${m.message}`);
          return;
        case 'swapped':
        case 'swap-failed':
          listener?.swap(m);
          return;
        case 'stopped':
          // The exit event follows; stop() waits for that.
          listener?.stopped(m.tensors, m.gcs);
          return;
      }
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
      listener?.failed(`loop worker crashed: ${err.message}`);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ReflexError(LoopCodes.start, `the loop worker exited (code ${code}) before it was ready`));
      listener?.exited(code);
    });
  });
  try {
    const report = await ready;
    return { worker, report, exited, attach: (l) => (listener = l) };
  } catch (err) {
    await worker.terminate();
    throw err;
  }
}
