/**
 * Starting a run's control loop: the model must fit the board's channels, and each actuator is
 * driven where nothing opens it twice (the loop worker for GPIO and sysfs-PWM lines, and for
 * bridge ACTUATE frames when the source offers the port's fd; the main thread otherwise).
 */
import type { OutputMap } from '../actuate/mapping.js';
import type { ActuatorSet } from '../actuate/set.js';
import type { BoardDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { listSysfsGpioChips } from '../hal/gpio-resolve.js';
import { SIM_CHIP } from '../hal/gpio-select.js';
import { ControlLoop } from '../loop/loop.js';
import type { PredictorSpec } from '../loop/messages.js';
import { verifyModelAtStart } from '../loop/model-verify.js';
import { scalingOf } from '../predict/scaling.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import { checkModelDir } from '../predict/model-dir.js';
import { emgChannels } from './board-facts.js';
import type { RunConfig } from './config.js';
import type { Source } from './source.js';
import { RuntimeCodes } from './codes.js';
import { ModelCodes } from '../predict/errors.js';

/** GPIO and sysfs-PWM lines are opened by the loop worker (it drives them inside its cycle). */
export function hasLineActuators(board: BoardDef): boolean {
  return board.actuators.some((a) => a.via === 'gpio' || a.via === 'sysfs-pwm');
}

/** The run configuration's output map, restricted to the actuators this board has. */
export function outputMapping(config: RunConfig, board: BoardDef): OutputMap['entries'] {
  return config.outputs.filter((m) => board.actuators.some((a) => a.name === m.actuator));
}

/** One GPIO backend for the board's actuator lines, chosen like the e-stop's (hal/gpio-select.ts). */
function gpioBackend(board: BoardDef): 'onoff' | 'chardev' | 'fake' {
  const chips = new Set(board.actuators.filter((a) => a.via === 'gpio').map((a) => a.line!.chip));
  if (chips.size > 1 && chips.has(SIM_CHIP)) {
    throw new ConfigError(
      RuntimeCodes.boardGpio,
      `board ${board.id}: GPIO actuators mix the simulated chip with real ones (${[...chips].join(', ')}); use one or the other`,
    );
  }
  if (chips.has(SIM_CHIP)) return 'fake';
  return listSysfsGpioChips().length > 0 ? 'onoff' : 'chardev';
}

/**
 * The model directory's metadata, after every file in it was checked (model-dir.ts: one line
 * naming the file, a ConfigError); throws E_MODEL_SHAPE when its channels are not the board's.
 */
export function readFittingModel(dir: string, board: BoardDef): ReflexModelMeta {
  const { meta } = checkModelDir(dir);
  if (meta.input.channels !== emgChannels(board)) {
    throw new ConfigError(
      ModelCodes.shape,
      `${dir}: the model expects ${meta.input.channels} channels, board ${board.id} streams ${emgChannels(board)}: ` +
        'pick a model trained for this board, or run with --no-model',
    );
  }
  return meta;
}

/**
 * A `model` command's outcome: the loop now running it, the cycle it was swapped in at and the
 * time then left before that cycle's deadline (both null when a new loop was started instead).
 */
export interface ModelSwitch {
  loop: ControlLoop;
  cycle: number | null;
  marginMs: number | null;
}

export interface LoopLaunchOptions {
  config: RunConfig;
  board: BoardDef;
  source: Source;
  /** The main thread's actuator set; null when the loop worker opens the lines (hasLineActuators). */
  actuators: ActuatorSet | null;
  /** Start driving actuators at once rather than safe. */
  arm: boolean;
  log: Logger;
}

export interface LaunchedLoop {
  loop: ControlLoop;
  /** True when the loop worker drives the actuators itself. */
  inWorker: boolean;
  /** The source that offers its serial fd for ACTUATE frames, or null. */
  fdSource: Source | null;
}

export async function launchLoop(dir: string, o: LoopLaunchOptions): Promise<LaunchedLoop> {
  // The loop worker writes bridge ACTUATE frames to the port's fd itself when the source
  // offers one and every actuator is bridge or sim; the main-thread sink stays as the
  // second safe-state path. Otherwise the main-thread dispatcher drives the sink.
  const fdSource = o.source.onActuatorFd ? o.source : null;
  const lines = hasLineActuators(o.board);
  const inWorker = lines || (fdSource !== null && o.board.actuators.every((a) => a.via === 'bridge' || a.via === 'sim'));
  const actuation = {
    ...(fdSource && { bridge: {} }),
    ...(o.board.actuators.some((a) => a.via === 'gpio') && { gpio: gpioBackend(o.board) }),
    ...(o.board.actuators.some((a) => a.via === 'sysfs-pwm') && { pwm: 'sysfs' as const }),
  };
  const loop = await ControlLoop.start({
    ...(inWorker ? { actuateIn: 'worker' as const, actuation } : { actuateIn: 'main' as const }),
    schedule: { rateHz: o.config.loop.rateHz, policy: o.config.loop.overrun },
    watchdog: { staleMs: o.config.loop.staleMs, overrunStreak: o.config.loop.overrunStreak },
    predictor: await predictorFor(dir),
    actuators: o.board.actuators,
    mapping: outputMapping(o.config, o.board),
    ...(o.actuators && { sink: o.actuators }),
    startArmed: o.arm,
    ...(o.config.loop.priority && { priority: o.config.loop.priority }),
    log: o.log,
  });
  return { loop, inWorker, fdSource };
}

/**
 * The model verified in a short-lived worker and handed to the loop as its compiled kernel, so
 * the loop worker never loads TensorFlow.js and its heap leaves with the verifier; a model whose
 * kernel does not compile is loaded by the loop worker through TensorFlow.js as before.
 */
async function predictorFor(dir: string): Promise<PredictorSpec> {
  const v = await verifyModelAtStart(dir);
  if (!v) return { kind: 'model', dir };
  return { kind: 'kernel', dir: v.dir, spec: v.spec, scaling: scalingOf(v.meta), info: v.info };
}

/**
 * Keep a worker that writes ACTUATE frames itself pointed at the port's current fd; returns
 * the unsubscribe, or null when there is nothing to follow: the main thread drives the
 * actuators, or the worker drives GPIO/PWM lines and the source has no serial fd (a Cyton).
 */
export function followActuatorFd(launched: Pick<LaunchedLoop, 'inWorker' | 'fdSource'>, loop: Pick<ControlLoop, 'setBridgeFd'>): (() => void) | null {
  const source = launched.fdSource;
  if (!launched.inWorker || !source?.onActuatorFd) return null;
  return source.onActuatorFd((fd) => loop.setBridgeFd(fd));
}

/** The `model` event's message and data for a started loop. */
export function describeLoop(dir: string, loop: ControlLoop): [string, Record<string, string>] {
  const p = loop.predictor.model;
  const refused = p && !p.compiled.ok ? ` (compiled kernel refused: ${p.compiled.reason ?? 'unknown'})` : '';
  return [
    `model ${dir}: ${p ? `${p.backend.name} backend, ${p.path} path${refused}` : loop.predictor.kind}`,
    {
      dir,
      ...(p && { backend: p.backend.name, mode: p.path }),
    },
  ];
}
