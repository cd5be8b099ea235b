/** Model directories derived from an existing Reflex model, for tests that deploy or switch models. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ReflexModelMeta } from '../src/predict/metadata.js';
import { saveReflexModel } from '../src/train/save.js';

/** A copy of the model in `from` at `dir` with every weight scaled by `k`: same shapes, other outputs, another hash. */
export function scaledModel(from: string, dir: string, k: number): string {
  cpSync(from, dir, { recursive: true });
  const file = join(dir, 'weights.bin');
  const b = readFileSync(file);
  const w = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  for (let i = 0; i < w.length; i++) w[i] = w[i]! * k;
  writeFileSync(file, new Uint8Array(w.buffer));
  return dir;
}

/** A real 4-channel model at `dir` with the window and features of the model in `from`. */
export async function fourChannelModel(from: string, dir: string): Promise<string> {
  const meta = JSON.parse(readFileSync(join(from, 'reflex-model.json'), 'utf8')) as ReflexModelMeta;
  meta.input.channels = 4;
  delete meta.input.channelNames;
  meta.normalization = { mean: meta.normalization.mean.slice(0, 4), std: meta.normalization.std.slice(0, 4) };
  const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [meta.input.samples, 4] }), tf.layers.dense({ units: 2 })] });
  await saveReflexModel(m, dir, meta);
  m.dispose();
  return dir;
}
