/**
 * A model directory checked file by file before TensorFlow.js reads any of it, so a bad one is
 * refused with one line naming the file and what is wrong (TensorFlow.js's own errors name no
 * file, and it reads weights files of the wrong size without complaint or past their end).
 * Cheap (two small JSON files and a stat per weights file): the runtime calls it on the main
 * thread before anything starts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ModelCodes, modelError } from './errors.js';
import { readModelMeta, type ReflexModelMeta } from './metadata.js';

export const MODEL_FILE = 'model.json';

export interface ModelDirCheck {
  dir: string;
  meta: ReflexModelMeta;
  format: 'layers-model' | 'graph-model';
}

export function checkModelDir(dir: string): ModelDirCheck {
  const root = resolve(dir);
  if (!existsSync(root))
    throw modelError(ModelCodes.missing, `model directory ${root} does not exist: pass --model DIR with model.json, its weights and reflex-model.json`);
  if (!statSync(root).isDirectory())
    throw modelError(
      ModelCodes.missing,
      `${root} is a file, not a model directory: pass the directory that holds model.json, its weights and reflex-model.json`,
    );
  const file = join(root, MODEL_FILE);
  const json = readModelJson(file);
  checkWeightFiles(file, json);
  const meta = readModelMeta(root);
  const topo = json.modelTopology as { node?: unknown };
  const format = json.format === 'graph-model' || 'node' in topo ? 'graph-model' : 'layers-model';
  return { dir: root, meta, format };
}

/** model.json parsed, with the two keys TensorFlow.js needs checked. */
export function readModelJson(file: string): Record<string, unknown> {
  if (!existsSync(file))
    throw modelError(ModelCodes.missing, `model file ${file} does not exist: the model directory needs ${MODEL_FILE} (TensorFlow.js format)`);
  if (!statSync(file).isFile()) throw modelError(ModelCodes.format, `${file} is not a file`);
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') throw modelError(ModelCodes.format, `${file} is empty: copy the model directory again or re-export the model`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw modelError(ModelCodes.format, `${file} is not valid JSON (${(err as Error).message}): copy the model directory again or re-export the model`, err);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw modelError(ModelCodes.format, `${file} is not a TensorFlow.js model.json: its root must be an object`);
  const j = json as Record<string, unknown>;
  if (typeof j.modelTopology !== 'object' || j.modelTopology === null)
    throw modelError(ModelCodes.format, `${file}: "modelTopology" is missing or not an object (not a TensorFlow.js model.json)`);
  if (!Array.isArray(j.weightsManifest))
    throw modelError(ModelCodes.format, `${file}: "weightsManifest" is missing or not an array (not a TensorFlow.js model.json)`);
  return j;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Bytes per element of a dtype named in the file; undefined when the name is not in the table. */
function bytesOf(table: Record<string, number>, dtype: unknown): number | undefined {
  return typeof dtype === 'string' && Object.hasOwn(table, dtype) ? table[dtype] : undefined;
}

/**
 * Each weights group's files exist, lie inside the model directory and hold exactly the bytes
 * its weight specs add up to (shape x dtype, or the quantised dtype).
 */
export function checkWeightFiles(file: string, json: Record<string, unknown>): void {
  const dir = resolve(file, '..');
  const groups = json.weightsManifest as unknown[];
  groups.forEach((g, gi) => {
    const where = `${file}: weightsManifest[${gi}]`;
    const group = g as { paths?: unknown; weights?: unknown };
    if (typeof g !== 'object' || g === null || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      throw modelError(ModelCodes.format, `${where} must be { paths: [...], weights: [...] }`);
    let need = 0;
    let exact = true;
    group.weights.forEach((w, wi) => {
      const spec = w as { name?: unknown; shape?: unknown; dtype?: unknown; quantization?: { dtype?: unknown } };
      const shapeOk = Array.isArray(spec?.shape) && spec.shape.every((d) => Number.isInteger(d) && d >= 0);
      if (typeof spec?.name !== 'string' || !shapeOk)
        throw modelError(ModelCodes.format, `${where}.weights[${wi}] needs a name and a shape of non-negative integers`);
      const count = (spec.shape as number[]).reduce((a, b) => a * b, 1);
      const q = spec.quantization?.dtype;
      const bytes = q !== undefined ? bytesOf(QUANT_BYTES, q) : bytesOf(DTYPE_BYTES, spec.dtype);
      if (spec.dtype === 'string' && q === undefined)
        exact = false; // length-prefixed, variable size
      else if (bytes === undefined)
        throw modelError(ModelCodes.format, `${where}.weights[${wi}] (${spec.name}): dtype ${String(q ?? spec.dtype)} is not a TensorFlow.js weight dtype`);
      else need += count * bytes;
    });
    let have = 0;
    const names: string[] = [];
    for (const p of group.paths) {
      if (typeof p !== 'string' || p === '') throw modelError(ModelCodes.format, `${where}.paths must be file names`);
      const wf = resolve(dir, p);
      const rel = relative(dir, wf);
      if (isAbsolute(p) || rel.startsWith('..')) throw modelError(ModelCodes.format, `${where}: weights file "${p}" is outside the model directory`);
      if (!existsSync(wf) || !statSync(wf).isFile())
        throw modelError(ModelCodes.missing, `weights file ${wf} named in ${file} does not exist: copy the whole model directory`);
      have += statSync(wf).size;
      names.push(wf);
    }
    if (exact ? have !== need : have < need) {
      const what = names.length === 1 ? `weights file ${names[0]} has` : `weights files ${names.join(' + ')} have`;
      throw modelError(
        ModelCodes.weights,
        `${what} ${have} bytes, but ${file} describes ${need} bytes of weights (too ${have < need ? 'short' : 'long'}): ` +
          'the weights do not belong to this model.json or the copy is incomplete',
      );
    }
  });
}
