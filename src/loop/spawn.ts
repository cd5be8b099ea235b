import { Worker, type WorkerOptions } from 'node:worker_threads';
import { ConfigError } from '../core/errors.js';
import { readModelMeta } from '../predict/metadata.js';
import type { PredictorSpec, WorkerInit } from './messages.js';

/** Input size and output names of a predictor spec, read on the caller's thread. */
export function sizesOf(spec: PredictorSpec): { inputSize: number; outputNames: string[] } {
  if (spec.kind === 'model') {
    const meta = readModelMeta(spec.dir);
    return { inputSize: meta.input.channels * meta.input.samples, outputNames: meta.outputs.map((o) => o.name) };
  }
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1) throw new ConfigError('E_LOOP_PREDICTOR', `predictor module needs inputSize >= 1, got ${spec.inputSize}`);
  if (!Array.isArray(spec.outputNames) || spec.outputNames.length === 0) throw new ConfigError('E_LOOP_PREDICTOR', 'predictor module needs outputNames');
  return { inputSize: spec.inputSize, outputNames: spec.outputNames };
}

/** A worker entry beside `base` (an import.meta.url): `name`.ts under tsx, `name`.js once compiled. */
export function entryUrl(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/** worker.ts under tsx (tests, benches), worker.js once compiled to dist. */
export function workerUrl(): URL {
  return entryUrl('worker', import.meta.url);
}

/**
 * Start a worker thread on a .ts or .js entry. Compiled, the worker is plain JS. Under tsx,
 * Node 20 does not carry the parent's --import loader into worker threads, so a tiny
 * bootstrap registers tsx first.
 */
export function startWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** The loop worker; its swap port (if any) is transferred with the init data. */
export function spawnWorker(init: WorkerInit): Worker {
  return startWorker(workerUrl(), { workerData: init, ...(init.swapPort && { transferList: [init.swapPort] }) });
}
