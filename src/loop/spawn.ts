import type { Worker } from 'node:worker_threads';
import { ConfigError } from '../core/errors.js';
import { entryUrl, startWorker } from '../core/worker.js';
import { readModelMeta } from '../predict/metadata.js';
import type { PredictorSpec, WorkerInit } from './messages.js';
import { LoopCodes } from './codes.js';

/** Input size and output names of a predictor spec, read on the caller's thread. */
export function sizesOf(spec: PredictorSpec): { inputSize: number; outputNames: string[] } {
  if (spec.kind === 'model') {
    const meta = readModelMeta(spec.dir);
    return { inputSize: meta.input.channels * meta.input.samples, outputNames: meta.outputs.map((o) => o.name) };
  }
  if (spec.kind === 'kernel') return { inputSize: spec.scaling.channels * spec.scaling.samples, outputNames: [...spec.info.outputNames] };
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1)
    throw new ConfigError(LoopCodes.predictor, `predictor module needs inputSize >= 1, got ${spec.inputSize}`);
  if (!Array.isArray(spec.outputNames) || spec.outputNames.length === 0) throw new ConfigError(LoopCodes.predictor, 'predictor module needs outputNames');
  return { inputSize: spec.inputSize, outputNames: spec.outputNames };
}

/** worker.ts under tsx (tests, benches), worker.js once compiled to dist. */
export function workerUrl(): URL {
  return entryUrl('worker', import.meta.url);
}

/** The loop worker; its swap port (if any) is transferred with the init data. */
export function spawnWorker(init: WorkerInit): Worker {
  return startWorker(workerUrl(), { workerData: init, ...(init.swapPort && { transferList: [init.swapPort] }) });
}
