import type { OutputMapEntry } from '../actuate/mapping.js';
import type { WorkerActuatorBackends } from '../actuate/worker-backends.js';
import type { ActuatorDef } from '../boards/types.js';
import type { ErrorCode } from '../core/codes.js';
import type { LogSettings } from '../core/log.js';
import type { MessagePort } from 'node:worker_threads';
import type { BackendName } from '../predict/backend.js';
import type { KernelSpec } from '../predict/kernel-spec.js';
import type { ModelScaling } from '../predict/scaling.js';
import type { PredictorInfo, PredictorMode } from '../predict/predictor.js';
import type { PriorityReport, ThreadPriority } from './priority.js';
import type { ScheduleOptions } from './schedule.js';
import type { SafetyEvent, WatchdogOptions } from './watchdog.js';

/**
 * Which predictor the worker runs.
 * - model: a model directory (model.json + weights + reflex-model.json), see predict/predictor.ts.
 * - kernel: a model directory verified off the loop thread, handed over as its compiled kernel.
 * - module: an ES module exporting `createPredictor(options)` returning a CorePredictor
 *   (custom predictors, replay of recorded outputs, fault-injection in tests). Either way the
 *   predictor gets each window time-major [samples x channels], as ControlLoop.pushWindow takes it.
 */
export type PredictorSpec =
  | { kind: 'model'; dir: string; mode?: PredictorMode; backends?: BackendName[]; warmUp?: number }
  | { kind: 'module'; url: string; inputSize: number; outputNames: string[]; options?: unknown }
  /**
   * A model already loaded and verified elsewhere (model-verify.ts), as its compiled kernel and
   * scaling: the worker runs it without importing TensorFlow.js. `info` is the verifier's report.
   */
  | { kind: 'kernel'; dir: string; spec: KernelSpec; scaling: ModelScaling; info: PredictorInfo; warmUp?: number };

/** Output frame meta slots. */
export const OUT = { cycle: 0, timeMs: 1, safe: 2, reason: 3, inputsSeen: 4, inputHostTimeMs: 5 } as const;
export const OUT_META = 6;
/**
 * One output ring record (output-ring.ts): the OUT meta slots, then the commands (one per
 * actuator), then the predictor outputs (widened from float32: exact).
 */
export function outputRecordStride(actuators: number, outputs: number): number {
  return OUT_META + actuators + outputs;
}
/** Input frame meta slots (its f32 payload: the window, time-major). */
export const IN = { publishedAtMs: 0, hostTimeMs: 1 } as const;
export const IN_META = 2;

export interface WorkerInit {
  schedule: ScheduleOptions;
  spinMs: number;
  watchdog: WatchdogOptions;
  startArmed: boolean;
  predictEveryCycle: boolean;
  actuators: ActuatorDef[];
  mapping: OutputMapEntry[];
  predictor: PredictorSpec;
  inputSize: number;
  outputSize: number;
  statsWindow: number;
  priority?: ThreadPriority;
  /** Present when the worker drives the actuators itself (see ControlLoopOptions.actuateIn). */
  actuation?: WorkerActuatorBackends;
  buffers: {
    control: SharedArrayBuffer;
    input: SharedArrayBuffer;
    output: SharedArrayBuffer;
    stats: SharedArrayBuffer;
    actuation: SharedArrayBuffer;
    writeLog?: SharedArrayBuffer;
    /** Every cycle's output, for the main thread to drain (output-ring.ts). */
    outputRing: SharedArrayBuffer;
  };
  /** Records the output ring holds (a power of two). */
  outputRingSize: number;
  writeLogSize?: number;
  /** Where model swaps arrive (SwapRequest), read with receiveMessageOnPort when CTRL.swap moves. */
  swapPort?: MessagePort;
  /** The main thread's log format and level: the worker's lines look like the rest (core/log.ts). */
  log?: LogSettings;
}

/**
 * Main -> worker on the swap port: a verified model as data (the kernel and its scaling), to
 * be put in place of the running predictor between two cycles.
 */
export interface SwapRequest {
  id: number;
  dir: string;
  spec: KernelSpec;
  scaling: ModelScaling;
  outputNames: string[];
  /** Run the trial prediction only in a gap at least this long before the next deadline (spin excluded). */
  needMs: number;
  /** Refuse (E_SWAP_NO_GAP) if no such gap came within this long of receiving the request. */
  giveUpMs: number;
}

export interface PredictorReport {
  kind: 'model' | 'module';
  /** For models: backend, compiled or tfjs path and why. */
  model?: PredictorInfo;
  warmUpMs: number;
  /** What the worker got of the requested thread priority (absent when none was asked). */
  priority?: PriorityReport;
  /** TensorFlow.js tensors alive in the worker after warm-up (models only): a leak shows as growth by stop. */
  tensors?: number;
}

export type WorkerMessage =
  | { type: 'ready'; predictor: PredictorReport }
  | { type: 'event'; event: SafetyEvent }
  /** config: the error was bad input (a ConfigError, e.g. a bad model directory), not a failure. */
  | { type: 'fatal'; code: ErrorCode; message: string; config?: boolean }
  /** The swap `id` took effect: cycle `cycle` was the first run on the new model. */
  | { type: 'swapped'; id: number; cycle: number; buildMs: number; marginMs: number; tensors?: number }
  /** The swap `id` was refused; the old model keeps running. */
  | { type: 'swap-failed'; id: number; code: ErrorCode; message: string }
  /** gcs: garbage collections of the worker's heap while the loop ran (0 when nothing allocates per cycle). */
  | { type: 'stopped'; tensors?: number; gcs?: number };
