import type { OutputMapEntry } from '../actuate/mapping.js';
import type { ActuatorSet } from '../actuate/set.js';
import type { WorkerActuatorBackends } from '../actuate/worker-backends.js';
import type { ActuatorDef } from '../boards/types.js';
import type { Logger } from '../core/log.js';
import type { PredictorSpec } from './messages.js';
import type { ThreadPriority } from './priority.js';
import type { ScheduleOptions } from './schedule.js';
import type { SafetyReason, WatchdogOptions } from './watchdog.js';

export interface ControlLoopOptions {
  schedule: ScheduleOptions;
  /** Spin (instead of sleeping) for this long before each deadline, µs. Default 150. */
  spinUs?: number;
  watchdog: WatchdogOptions;
  /** Takes the pushed windows as they are: TIME-MAJOR [samples x channels] (see ControlLoop.pushWindow). */
  predictor: PredictorSpec;
  actuators: readonly ActuatorDef[];
  mapping: readonly OutputMapEntry[];
  /**
   * Where commands are applied. 'worker' (the default when `actuation` is given): the loop
   * worker opens the board's actuators from `actuation` and drives them in the cycle that
   * computed the command. 'main': a dispatcher on this thread applies each published
   * command set to `sink` when the event loop gets to it (the fallback).
   */
  actuateIn?: 'worker' | 'main';
  /** Backends the worker opens the actuators with, described as data (see worker-backends.ts). */
  actuation?: WorkerActuatorBackends;
  /** Worker path: keep a ring of this many (input host time, write time) pairs (writeLog). Default off. */
  writeLogSize?: number;
  /**
   * actuateIn 'main': where commands go on this thread; omit to only read them (readLatest).
   * actuateIn 'worker': an optional second, main-thread path used only to put actuators
   * safe (e-stop, guard, stop), e.g. bridge actuators through BridgeLink; it must not hold
   * GPIO or PWM outputs, which the worker owns.
   */
  sink?: ActuatorSet;
  /** Drive actuators from the first cycle (default false: start safe, wait for release()). */
  startArmed?: boolean;
  /** Predict every cycle, not only when a new window arrived (default false). */
  predictEveryCycle?: boolean;
  /**
   * Cycles the output ring keeps for ControlLoop.nextCycle() between two reads, at least (its
   * capacity is the power of two above, one slot being the writer's). Default: 2 s of cycles, at
   * least 64, so a main thread busy for a second loses none. Older cycles are overwritten and
   * counted (outputRingOverruns), never waited for.
   */
  outputRing?: number;
  /** Cycles the lateness/compute percentiles cover. Default 2048. */
  statsWindow?: number;
  log?: Logger;
  /** Scheduling priority of the loop thread (SCHED_FIFO via chrt, or nice); needs root or CAP_SYS_NICE. */
  priority?: ThreadPriority;
  /** Give up waiting for the worker to load its predictor after this long. Default 60 s. */
  startTimeoutMs?: number;
}

/** The latest cycle's outputs and commands, copied into caller-owned arrays. */
export interface LoopOutput {
  cycle: number;
  timeMs: number;
  safe: boolean;
  reason: SafetyReason | null;
  inputsSeen: number;
  /** hostTimeMs given with the newest window the loop has taken (NaN if none). */
  inputHostTimeMs: number;
  outputs: Float32Array;
  commands: Float64Array;
}
