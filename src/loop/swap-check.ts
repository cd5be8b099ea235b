/**
 * What a model must have to replace the running one without restarting anything: the loop's
 * shared frames, the board, the main thread's feature chain and the run's output mapping are
 * all fixed for the run. Pure: checked from the metadata alone, each refusal naming the file
 * and the mismatch.
 */
import { OutputMap, type OutputMapEntry } from '../actuate/mapping.js';
import type { ActuatorDef } from '../boards/types.js';
import { ConfigError, isReflexError } from '../core/errors.js';
import { ModelCodes, modelError } from '../predict/errors.js';
import type { ReflexModelMeta } from '../predict/metadata.js';

export interface SwapRequirements {
  /** Values in the loop's input frame (channels x samples of the running model). */
  inputSize: number;
  /** Values in the loop's output frame (the running model's output count). */
  outputCount: number;
  actuators: readonly ActuatorDef[];
  mapping: readonly OutputMapEntry[];
  /** The board's EMG channels, when the loop is fed by a board. */
  board?: { id: string; channels: number };
  /** The running model's window and feature pipeline, as the main thread's chain runs them. */
  running?: { input: { samples: number; channels: number; rateHz: number; windowMs: number }; features?: unknown };
}

export function checkSwap(meta: ReflexModelMeta, file: string, req: SwapRequirements): void {
  const { channels: C, samples: S } = meta.input;
  const restart = 'restart with --model to run it';
  if (req.board && C !== req.board.channels) {
    throw modelError(
      ModelCodes.shape,
      `${file}: the model expects ${C} channels, board ${req.board.id} streams ${req.board.channels}: pick a model trained for this board`,
    );
  }
  if (C * S !== req.inputSize) {
    throw modelError(
      ModelCodes.shape,
      `${file}: the model's window is ${S} samples x ${C} channels = ${C * S} values, the running loop takes ${req.inputSize}; ${restart}`,
    );
  }
  if (meta.outputs.length !== req.outputCount) {
    throw modelError(ModelCodes.shape, `${file}: the model has ${meta.outputs.length} outputs, the running loop ${req.outputCount}; ${restart}`);
  }
  const run = req.running;
  if (run) {
    for (const key of ['samples', 'channels', 'rateHz', 'windowMs'] as const) {
      if (meta.input[key] !== run.input[key]) {
        throw modelError(
          ModelCodes.features,
          `${file}: input.${key} is ${meta.input[key]}, the running model's is ${run.input[key]}: the features feeding the loop would not fit it; ${restart}`,
        );
      }
    }
    if (canonical(meta.features) !== canonical(run.features)) {
      throw modelError(
        ModelCodes.features,
        `${file}: "features" differs from the feature pipeline running now (${canonical(run.features) ?? 'none'}); ` +
          `the loop would get features the model was not trained on; ${restart}`,
      );
    }
  }
  try {
    new OutputMap(
      req.mapping,
      req.actuators,
      meta.outputs.map((o) => o.name),
    );
  } catch (err) {
    if (!isReflexError(err)) throw err;
    throw new ConfigError(err.code, `${file}: ${err.message} (the run's output mapping needs it)`, { cause: err });
  }
}

/** JSON with object keys sorted, so two equal settings compare equal whatever their key order. */
function canonical(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
