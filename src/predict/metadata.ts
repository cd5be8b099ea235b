import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCodes, modelError } from './errors.js';

/**
 * `reflex-model.json`, beside model.json: what the model expects and produces.
 * The input window is `samples` x `channels` at `rateHz`, TIME-MAJOR end to end (the
 * aligner's window, the loop's input and the model's [samples, channels], or that
 * flattened); the predictor normalises each channel with `normalization` on the way in.
 */
export interface ReflexModelMeta {
  format: 'reflex-model';
  version: 1;
  input: {
    channels: number;
    samples: number;
    rateHz: number;
    windowMs: number;
    unit?: string;
    channelNames?: string[];
  };
  /** Per-channel z-score applied before the model: (x - mean) / std. */
  normalization: { mean: number[]; std: number[] };
  /** Model outputs in order; `mean`/`std` undo output scaling: value = raw * std + mean. */
  outputs: { name: string; unit: string; mean?: number; std?: number }[];
  /** Feature pipeline settings (the units' buildPipeline JSON) the model was trained with. */
  features?: unknown;
  /** Free-form record of how it was trained (data, seed, validation R^2). */
  training?: Record<string, unknown>;
}

export const META_FILE = 'reflex-model.json';

export function readModelMeta(dir: string): ReflexModelMeta {
  const path = join(dir, META_FILE);
  if (!existsSync(path))
    throw modelError(ModelCodes.missing, `model metadata ${path} does not exist: every model directory needs ${META_FILE} beside model.json`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw modelError(ModelCodes.meta, `${path} cannot be read: ${(err as Error).message}`, err);
  }
  if (text.trim() === '') throw modelError(ModelCodes.meta, `${path} is empty: it must describe the model (docs/predictor.md)`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw modelError(ModelCodes.meta, `${path} is not valid JSON: ${(err as Error).message}`, err);
  }
  return validateModelMeta(raw, path);
}

export function validateModelMeta(raw: unknown, path: string): ReflexModelMeta {
  const bad = (key: string, want: string): never => {
    throw modelError(ModelCodes.meta, `${path}: "${key}" must be ${want}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('(root)', 'an object');
  const m = raw as Partial<ReflexModelMeta>;
  if (m.format !== 'reflex-model') bad('format', '"reflex-model"');
  if (m.version !== 1) bad('version', '1');
  const inp = m.input;
  if (typeof inp !== 'object' || inp === null) bad('input', 'an object');
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  if (!posInt(inp!.channels)) bad('input.channels', 'a positive integer');
  if (!posInt(inp!.samples)) bad('input.samples', 'a positive integer');
  if (!(typeof inp!.rateHz === 'number' && inp!.rateHz > 0)) bad('input.rateHz', 'a positive number');
  if (!(typeof inp!.windowMs === 'number' && inp!.windowMs > 0)) bad('input.windowMs', 'a positive number');
  const n = m.normalization;
  const C = inp!.channels;
  if (!n || !Array.isArray(n.mean) || n.mean.length !== C || !n.mean.every(Number.isFinite)) bad('normalization.mean', `${C} finite numbers (one per channel)`);
  if (!Array.isArray(n!.std) || n!.std.length !== C) bad('normalization.std', `${C} positive numbers (one per channel)`);
  // A std of 0 would divide by zero: every window would reach the model as Infinity or NaN.
  const si = n!.std.findIndex((s) => !(Number.isFinite(s) && s > 0));
  if (si >= 0) bad(`normalization.std[${si}]`, `a positive finite number (it is ${JSON.stringify(n!.std[si])}; a channel with no spread cannot be normalised)`);
  if (!Array.isArray(m.outputs) || m.outputs.length === 0) bad('outputs', 'a non-empty array of {name, unit}');
  m.outputs!.forEach((o, i) => {
    if (typeof o?.name !== 'string' || o.name === '') bad(`outputs[${i}].name`, 'a non-empty string');
    if (typeof o.unit !== 'string') bad(`outputs[${i}].unit`, 'a string');
    if (o.mean !== undefined && !Number.isFinite(o.mean)) bad(`outputs[${i}].mean`, 'a finite number');
    if (o.std !== undefined && !(Number.isFinite(o.std) && o.std > 0)) bad(`outputs[${i}].std`, 'a positive number');
  });
  return m as ReflexModelMeta;
}
