import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { fileSaveHandler } from '../predict/io.js';
import { META_FILE, type ReflexModelMeta, validateModelMeta } from '../predict/metadata.js';

/** Write a model directory the Predictor loads: model.json, weights.bin, reflex-model.json. */
export async function saveReflexModel(model: tf.LayersModel, dir: string, meta: ReflexModelMeta): Promise<void> {
  validateModelMeta(meta, join(dir, META_FILE));
  await model.save(fileSaveHandler(dir));
  writeModelMeta(dir, meta);
}

/** (Re)write only reflex-model.json, e.g. to record validation scores after training. */
export function writeModelMeta(dir: string, meta: ReflexModelMeta): void {
  validateModelMeta(meta, join(dir, META_FILE));
  writeFileSync(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
}
