import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelCodes, modelError } from './errors.js';
import { checkWeightFiles } from './model-dir.js';

/**
 * TensorFlow.js model files on local disk. tfjs's own loaders are for http and
 * browser storage; these read and write model.json + weight files with fs.
 */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  const path = resolve(modelJsonPath);
  const dir = dirname(path);
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      if (!existsSync(path))
        throw modelError(ModelCodes.missing, `model file ${path} does not exist: check the model directory, or train one with reflex train (docs/training.md)`);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(readFileSync(path, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw modelError(ModelCodes.format, `${path} is not valid JSON: ${(err as Error).message}`, err);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw modelError(ModelCodes.format, `${path} is not a TensorFlow.js model.json (needs modelTopology and weightsManifest)`);
      }
      // TensorFlow.js reads a weights file of the wrong size without a word (or past its end).
      checkWeightFiles(path, json as unknown as Record<string, unknown>);
      // Synchronous reads; the executor turns a throw into the rejection tfjs expects.
      return tf.io.getModelArtifactsForJSON(
        json,
        (manifest) =>
          new Promise((done) => {
            const buffers: ArrayBuffer[] = [];
            for (const group of manifest) {
              for (const p of group.paths) {
                const file = join(dir, p);
                if (!existsSync(file))
                  throw modelError(ModelCodes.missing, `weights file ${file} named in ${path} does not exist: copy the whole model directory`);
                const b = readFileSync(file);
                buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
              }
            }
            done([tf.io.getWeightSpecs(manifest), tf.io.concatenateArrayBuffers(buffers)]);
          }),
      );
    },
  };
}

/** Save as `dir/model.json` + `dir/weights.bin` (for `model.save(fileSaveHandler(dir))`). */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    // Synchronous writes; the executor turns a throw into the rejection tfjs expects.
    save: (a: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> =>
      new Promise((done) => {
        mkdirSync(dir, { recursive: true });
        const data =
          a.weightData === undefined ? new ArrayBuffer(0) : tf.io.concatenateArrayBuffers(Array.isArray(a.weightData) ? a.weightData : [a.weightData]);
        writeFileSync(join(dir, 'weights.bin'), new Uint8Array(data));
        const json: Record<string, unknown> = {
          modelTopology: a.modelTopology,
          format: a.format,
          generatedBy: a.generatedBy,
          convertedBy: a.convertedBy ?? null,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
        };
        if (a.trainingConfig) json.trainingConfig = a.trainingConfig;
        if (a.signature) json.signature = a.signature;
        if (a.userDefinedMetadata) json.userDefinedMetadata = a.userDefinedMetadata;
        writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
        done({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } });
      }),
  };
}
