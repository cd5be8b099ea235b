import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isReflexError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { type BackendChoice, type BackendName, type ModuleImporter, selectBackend } from './backend.js';
import { type CompiledKernel, compileLayersModel, verifyCompiled } from './compile.js';
import { ModelCodes, modelError } from './errors.js';
import { fileLoadHandler } from './io.js';
import type { ReflexModelMeta } from './metadata.js';
import { checkModelDir, MODEL_FILE } from './model-dir.js';
import { denormalise, type ModelScaling, normalise, scalingOf } from './scaling.js';

export type PredictorMode = 'auto' | 'compiled' | 'tfjs';
export type PredictorPath = 'compiled' | 'tfjs';

export interface PredictorOptions {
  /** auto: compiled when it compiles and verifies, else tfjs. compiled: fail if it cannot. tfjs: never compile. */
  mode?: PredictorMode;
  backends?: readonly BackendName[];
  importer?: ModuleImporter;
  /** Calls of each path before the loop starts (JIT, wasm and tfjs kernel caches). Default 50. */
  warmUp?: number;
  /** Random inputs for the compiled-vs-tfjs check. Default 16. */
  verifyTrials?: number;
  log?: Logger;
}

export interface PredictorInfo {
  dir: string;
  format: 'layers-model' | 'graph-model';
  backend: BackendChoice;
  /** The path predict() uses. */
  path: PredictorPath;
  compiled: { ok: boolean; reason?: string; code?: string; maxAbsDiff?: number };
  /** Model input shape without the batch axis. */
  inputShape: number[];
  outputNames: string[];
}

/**
 * A TensorFlow.js model from a directory (model.json + weights + reflex-model.json),
 * callable synchronously with preallocated buffers. Input: a window TIME-MAJOR
 * ([samples x channels], oldest sample first: `x[t * channels + c]`, as `Aligner.window`
 * gives it and the model consumes it) in raw units; each channel is normalised here, the
 * layout is kept. Output: one value per `meta.outputs`, in their units.
 */
export class Predictor {
  readonly meta: ReflexModelMeta;
  readonly info: PredictorInfo;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly #model: tf.LayersModel | tf.GraphModel;
  readonly #kernel: CompiledKernel | null;
  readonly #x: Float32Array;
  readonly #raw: Float32Array;
  readonly #scaling: ModelScaling;
  readonly #shape: number[];
  #path: PredictorPath;

  private constructor(meta: ReflexModelMeta, info: PredictorInfo, model: tf.LayersModel | tf.GraphModel, kernel: CompiledKernel | null) {
    this.meta = meta;
    this.info = info;
    this.#model = model;
    this.#kernel = kernel;
    this.#path = info.path;
    const { channels: C, samples: S } = meta.input;
    this.inputSize = C * S;
    this.outputSize = meta.outputs.length;
    this.#x = new Float32Array(C * S);
    this.#raw = new Float32Array(this.outputSize);
    this.#scaling = scalingOf(meta);
    this.#shape = [1, ...info.inputShape];
  }

  static async load(dir: string, opts: PredictorOptions = {}): Promise<Predictor> {
    const root = resolve(dir);
    // Every file checked before TensorFlow.js reads one: its own errors name no file.
    const { meta, format } = checkModelDir(root);
    const file = join(root, MODEL_FILE);
    const backend = await selectBackend({ order: opts.backends, importer: opts.importer, log: opts.log });
    const model = await loadModel(file, format);
    const inputShape = checkShapes(model, meta, file);

    const mode = opts.mode ?? 'auto';
    let kernel: CompiledKernel | null = null;
    let compiled: PredictorInfo['compiled'];
    if (mode === 'tfjs') compiled = { ok: false, reason: 'predictor mode "tfjs" asked for no compilation' };
    else if (format !== 'layers-model') compiled = { ok: false, reason: 'graph models are not compiled (only LayersModel)' };
    else {
      const r = compileLayersModel(model as tf.LayersModel);
      if (!r.ok) compiled = { ok: false, reason: r.reason };
      else {
        try {
          const v = verifyCompiled(r.kernel, model as tf.LayersModel, { trials: opts.verifyTrials ?? 16, file });
          kernel = r.kernel;
          compiled = { ok: true, maxAbsDiff: v.maxAbsDiff };
        } catch (err) {
          if (!isReflexError(err) || mode === 'compiled') throw err;
          compiled = { ok: false, reason: err.message, code: err.code };
        }
      }
    }
    if (mode === 'compiled' && !kernel) {
      throw modelError(ModelCodes.compileUnsupported, `${file} cannot be compiled: ${compiled.reason}. Use predictor mode "auto" or "tfjs"`);
    }
    const path: PredictorPath = kernel ? 'compiled' : 'tfjs';
    if (!kernel) opts.log?.warn(`predictor: running ${file} through TensorFlow.js (${backend.name}): ${compiled.reason}`);
    const info: PredictorInfo = { dir: root, format, backend, path, compiled, inputShape, outputNames: meta.outputs.map((o) => o.name) };
    const p = new Predictor(meta, info, model, kernel);
    p.warmUp(opts.warmUp ?? 50);
    opts.log?.info(
      `predictor: ${root} on ${path}${kernel ? '' : ` (${backend.name})`}, input [${inputShape.join(', ')}], outputs ${info.outputNames.join(', ')}`,
    );
    return p;
  }

  /** The path predict() uses now. */
  get path(): PredictorPath {
    return this.#path;
  }
  /** Both paths stay loaded; switch between them (e.g. to compare, or to distrust the compiler). */
  usePath(path: PredictorPath): void {
    if (path === 'compiled' && !this.#kernel)
      throw modelError(ModelCodes.compileUnsupported, `no compiled kernel for ${this.info.dir}: ${this.info.compiled.reason}`);
    this.#path = path;
  }

  /** `input`: one time-major window, `inputSize` values (see the class comment); `out`: `outputSize` values. */
  predict(input: Float32Array, out: Float32Array): void {
    this.predictWith(this.#path, input, out);
  }

  predictWith(path: PredictorPath, input: Float32Array, out: Float32Array): void {
    // The same functions as KernelPredictor (a live model switch), so both give the same bits.
    normalise(this.#scaling, input, this.#x);
    if (path === 'compiled' && this.#kernel) this.#kernel.run(this.#x, this.#raw);
    else this.#runTf();
    denormalise(this.#scaling, this.#raw, out);
  }

  /** The normalisation and output scaling around the model (see scaling.ts). */
  get scaling(): ModelScaling {
    return this.#scaling;
  }

  #runTf(): void {
    const y = tf.tidy(() => {
      const r = this.#model.predict(tf.tensor(this.#x, this.#shape));
      return (Array.isArray(r) ? r[0] : r) as tf.Tensor;
    });
    try {
      const d = y.dataSync();
      for (let i = 0; i < this.outputSize; i++) this.#raw[i] = d[i]!;
    } finally {
      y.dispose();
    }
  }

  warmUp(n: number): void {
    const x = new Float32Array(this.inputSize);
    const y = new Float32Array(this.outputSize);
    for (let i = 0; i < n; i++) {
      this.predictWith('tfjs', x, y);
      if (this.#kernel) this.predictWith('compiled', x, y);
    }
  }

  /** The compiled kernel, if any (benchmarks and checks). */
  get kernel(): CompiledKernel | null {
    return this.#kernel;
  }

  dispose(): void {
    this.#model.dispose();
  }
}

/** TensorFlow.js's own errors (a bad topology, an unknown layer) become E_MODEL_FORMAT naming the file. */
async function loadModel(file: string, format: 'layers-model' | 'graph-model'): Promise<tf.LayersModel | tf.GraphModel> {
  const handler = fileLoadHandler(file);
  try {
    return format === 'graph-model' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  } catch (err) {
    if (isReflexError(err)) throw err;
    // First line only, without tfjs's "This may be due to one of the following reasons:" tail.
    const msg = ((err as Error)?.message ?? String(err))
      .split('\n')[0]!
      .replace(/\s*This may be due to.*$/, '')
      .replace(/[.:]$/, '')
      .slice(0, 300);
    throw modelError(ModelCodes.format, `${file}: TensorFlow.js cannot build this ${format}: ${msg}. Re-export the model with tensorflowjs`, err);
  }
}

function probeOutputShape(model: tf.LayersModel | tf.GraphModel, inputShape: number[]): number[] {
  return tf.tidy(() => {
    const y = model.predict(tf.zeros([1, ...inputShape]));
    return y instanceof tf.Tensor ? y.shape.slice(1) : [];
  });
}

function checkShapes(model: tf.LayersModel | tf.GraphModel, meta: ReflexModelMeta, file: string): number[] {
  const { channels: C, samples: S } = meta.input;
  const inputs = model.inputs;
  const actual = inputs.length === 1 ? (inputs[0]!.shape ?? []).slice(1) : [];
  const okTime = actual.length === 2 && actual[0] === S && actual[1] === C;
  const okFlat = actual.length === 1 && actual[0] === S * C;
  if (inputs.length !== 1 || !(okTime || okFlat)) {
    const shapes = inputs.map((i) => `[${(i.shape ?? []).map((d) => (d === -1 || d === null ? 'batch' : d)).join(', ')}]`).join(' + ');
    throw modelError(
      ModelCodes.shape,
      `${file}: model input shape is ${shapes} but reflex-model.json configures a window of ${S} samples x ${C} channels: ` +
        `expected [batch, ${S}, ${C}] or [batch, ${S * C}]. Retrain the model for this window or fix input.samples/input.channels`,
    );
  }
  const outs = model.outputs;
  let outShape = outs.length === 1 ? (outs[0]!.shape ?? []).slice(1) : [];
  // A converted GraphModel rarely declares its output's shape (only Placeholders carry one):
  // run it once on zeros to learn it, rather than refusing a model that would work.
  if (outs.length === 1 && (outShape.length === 0 || outShape.some((d) => d === -1 || d === null))) outShape = probeOutputShape(model, actual as number[]);
  if (outs.length !== 1 || outShape.length !== 1 || outShape[0] !== meta.outputs.length) {
    throw modelError(
      ModelCodes.shape,
      `${file}: model output shape is [batch, ${outShape.join(', ')}] but reflex-model.json lists ${meta.outputs.length} outputs ` +
        `(${meta.outputs.map((o) => o.name).join(', ')}): expected [batch, ${meta.outputs.length}]`,
    );
  }
  return actual as number[];
}
