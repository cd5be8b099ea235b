/**
 * Start-up consistency checks between the run configuration, the board and the model's
 * metadata: pure functions, run before any endpoint is bound or any device opened, each
 * throwing a ConfigError (exit 2) that names the key to fix. The one check that needs the
 * device, `checkDevice`, takes what its HELLO said.
 */
import { join } from 'node:path';
import type { BoardDef } from '../boards/types.js';
import { ConfigError, type ErrorCode } from '../core/errors.js';
import { META_FILE, type ReflexModelMeta } from '../predict/metadata.js';
import { buildPipeline, Decimate } from '../units/index.js';
import { emgChannels, emgRateHz } from './board-facts.js';
import { DEFAULT_OUTPUTS, type OutputMap, type RunConfig } from './config.js';
import type { SourceDevice } from './source.js';
import { ModelCodes } from '../predict/errors.js';
import { RuntimeCodes } from './codes.js';
import { ActuateCodes } from '../actuate/codes.js';

/** Relative tolerance for rates computed through decimation factors. */
const RATE_EPS = 1e-9;

function sameRate(a: number, b: number): boolean {
  return Math.abs(a - b) <= RATE_EPS * Math.max(Math.abs(a), Math.abs(b));
}

/** The pipeline list and the source it was trained on, from `features` in reflex-model.json (either form). */
function featureParts(meta: ReflexModelMeta): { specs: unknown; sourceRateHz?: unknown; channels?: unknown } | null {
  const f = meta.features;
  if (f === undefined) return null;
  if (typeof f === 'object' && f !== null && !Array.isArray(f) && 'pipeline' in f) {
    const h = f as { pipeline: unknown; sourceRateHz?: unknown; channels?: unknown };
    return { specs: h.pipeline, sourceRateHz: h.sourceRateHz, channels: h.channels };
  }
  return { specs: f };
}

/**
 * The model's sample rates and window against the board: `features.sourceRateHz` (and
 * `features.channels`) must be what the board streams, the feature pipeline's output rate must be
 * `input.rateHz`, and `input.windowMs` must hold `input.samples` samples at that rate (the
 * aligner cuts windows by time, the model takes a fixed sample count).
 * `dir`: the model directory, named in the messages. Channels against the board are checked by
 * readFittingModel.
 */
export function checkModelFit(meta: ReflexModelMeta, board: BoardDef, dir: string): void {
  const file = join(dir, META_FILE);
  const boardRate = emgRateHz(board);
  const boardChannels = emgChannels(board);
  const fail: (code: ErrorCode, key: string, msg: string) => never = (code, key, msg) => {
    throw new ConfigError(code, `${file}: "${key}" ${msg}`);
  };
  const parts = featureParts(meta);
  if (parts?.sourceRateHz !== undefined) {
    if (typeof parts.sourceRateHz !== 'number' || !(parts.sourceRateHz > 0))
      fail(ModelCodes.meta, 'features.sourceRateHz', `must be a positive number, got ${JSON.stringify(parts.sourceRateHz)}`);
    if (!sameRate(parts.sourceRateHz, boardRate)) {
      fail(
        RuntimeCodes.modelRate,
        'features.sourceRateHz',
        `is ${parts.sourceRateHz} Hz, but board ${board.id} streams ${boardRate} Hz: the feature pipeline would run at the wrong rate. ` +
          `Run with --no-model, or use a model trained for ${boardRate} Hz`,
      );
    }
  }
  if (parts?.channels !== undefined && parts.channels !== boardChannels) {
    fail(
      ModelCodes.shape,
      'features.channels',
      `is ${JSON.stringify(parts.channels)}, but board ${board.id} streams ${boardChannels} channels: use a model trained for this board`,
    );
  }
  // The rate the model's input arrives at: the board's, divided by every decimation on the way.
  let featureRate = boardRate;
  if (parts) {
    const pipeline = buildPipeline(parts.specs, { at: `${file}: features`, input: { rate: boardRate, channels: boardChannels } });
    for (const u of pipeline.units) {
      if (u instanceof Decimate) featureRate /= u.settings.factor;
    }
  }
  const inp = meta.input;
  if (!sameRate(inp.rateHz, featureRate)) {
    fail(
      RuntimeCodes.modelRate,
      'input.rateHz',
      parts
        ? `is ${inp.rateHz} Hz, but the model's feature pipeline turns the board's ${boardRate} Hz into ${featureRate} Hz: ` +
            "fix input.rateHz or the pipeline's decimation"
        : `is ${inp.rateHz} Hz, but the model has no feature pipeline, so its input is board ${board.id}'s raw ${boardRate} Hz: ` +
            `use a model trained for ${boardRate} Hz`,
    );
  }
  // As the aligner counts them (EmgRing.windowSamples).
  const fits = Math.max(1, Math.round((inp.windowMs * inp.rateHz) / 1000));
  if (fits !== inp.samples) {
    fail(
      RuntimeCodes.modelWindow,
      'input.windowMs',
      `is ${inp.windowMs} ms, which is ${fits} samples at input.rateHz ${inp.rateHz} Hz, but input.samples is ${inp.samples}: ` +
        `set windowMs to ${(inp.samples * 1000) / inp.rateHz}`,
    );
  }
}

/** True for an entry of the built-in default map, which applies only where the board has that actuator. */
function isDefaultEntry(e: OutputMap): boolean {
  return DEFAULT_OUTPUTS.some((d) => d.actuator === e.actuator && d.output === e.output && d.scale === e.scale && d.offset === e.offset);
}

/**
 * `outputs[]` against the board's actuators and the model's outputs: every entry must name an
 * actuator of the board (a typo must not leave an actuator silently undriven) and, with a model,
 * one of its outputs; no actuator twice. The built-in default entries (the simulated board's
 * servos) are the exception: they are dropped on boards without those actuators.
 */
export function checkOutputs(config: RunConfig, board: BoardDef, meta: ReflexModelMeta | null): void {
  const actuators = board.actuators.map((a) => a.name);
  const seen = new Map<string, number>();
  config.outputs.forEach((e, i) => {
    const at = `outputs[${i}]`;
    if (!actuators.includes(e.actuator)) {
      if (isDefaultEntry(e)) return;
      throw new ConfigError(
        ActuateCodes.mapActuator,
        `"${at}.actuator": "${e.actuator}" is not an actuator of board ${board.id}${suggest(e.actuator, actuators)}; ` +
          `its actuators: ${actuators.join(', ') || '(none)'}`,
      );
    }
    const twice = seen.get(e.actuator);
    if (twice !== undefined) {
      throw new ConfigError(ActuateCodes.mapDuplicate, `"${at}.actuator": "${e.actuator}" is already driven by outputs[${twice}]; keep one entry per actuator`);
    }
    seen.set(e.actuator, i);
    if (!meta) return;
    const names = meta.outputs.map((o) => o.name);
    if (!names.includes(e.output)) {
      throw new ConfigError(
        ActuateCodes.mapOutput,
        `"${at}.output": "${e.output}" is not an output of the model${suggest(e.output, names)}; its outputs: ${names.join(', ')}`,
      );
    }
  });
}

/**
 * The board against what the device said in its HELLO: no more EMG channels than it has, and
 * bridge actuators only on channels it has. HELLO gives a count of actuator channels, not their
 * kinds: a kind a channel does not support is refused by the device at the first ACTUATE
 * (ERROR BAD_ARG, nothing moves), which the loop counts as an actuation error.
 */
export function checkDevice(board: BoardDef, device: SourceDevice | null): void {
  if (!device || board.source.kind !== 'bridge') return;
  const where = board.file ?? `board ${board.id}`;
  if (board.source.channels > device.maxChannels) {
    throw new ConfigError(
      RuntimeCodes.deviceChannels,
      `${where}: "source.channels" is ${board.source.channels}, but device "${device.name}" has ${device.maxChannels} channels at most`,
    );
  }
  board.actuators.forEach((a, i) => {
    if (a.via === 'bridge' && a.channel !== undefined && a.channel >= device.actuatorChannels) {
      throw new ConfigError(
        RuntimeCodes.deviceActuator,
        `${where}: "actuators[${i}].channel" is ${a.channel} (${a.name}), ` +
          `but device "${device.name}" has ${device.actuatorChannels} actuator channels (0..${device.actuatorChannels - 1})`,
      );
    }
  });
}

/** `; did you mean "x"?` for the closest known name within a few edits, else nothing. */
export function suggest(name: string, known: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== '' && bestD <= Math.max(2, Math.floor(name.length / 3)) ? `; did you mean "${best}"?` : '';
}

/** Levenshtein distance, adjacent transpositions counting one ("wirst" is one edit from "wrist"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
