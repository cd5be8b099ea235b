import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../core/log.js';
import { ModelCodes, modelError } from './errors.js';

/**
 * Backend chain: the native TensorFlow binding when installed and loadable, else the
 * WebAssembly backend (its .wasm files ship inside the npm package), else plain JS.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const DEFAULT_BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was not used. */
  reason?: string;
}
export interface BackendChoice {
  name: BackendName;
  attempts: BackendAttempt[];
}

/** Loads an optional package; injectable so tests can stand in for a missing or broken install. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;
const defaultImporter: ModuleImporter = (s) => import(s);

let chosen: Promise<BackendChoice> | undefined;

/**
 * Pick the first backend of `order` that initialises. tfjs has one global backend per
 * thread, so the first successful choice sticks; later calls return it.
 */
export function selectBackend(opts: { order?: readonly BackendName[]; importer?: ModuleImporter; log?: Logger } = {}): Promise<BackendChoice> {
  chosen ??= trySelect(opts.order ?? DEFAULT_BACKENDS, opts.importer ?? defaultImporter, opts.log).catch((err: unknown) => {
    chosen = undefined;
    throw err;
  });
  return chosen;
}

async function trySelect(order: readonly BackendName[], importer: ModuleImporter, log: Logger | undefined): Promise<BackendChoice> {
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      await prepare(name, importer);
      if (!(await tf.setBackend(name))) throw new Error('tf.setBackend returned false');
      await tf.ready();
      attempts.push({ name, ok: true });
      log?.info(
        `tensorflow.js backend: ${name}${
          attempts.length > 1
            ? ` (skipped ${attempts
                .filter((a) => !a.ok)
                .map((a) => `${a.name}: ${a.reason}`)
                .join('; ')})`
            : ''
        }`,
      );
      return { name, attempts };
    } catch (err) {
      attempts.push({ name, ok: false, reason: reasonOf(err) });
    }
  }
  throw modelError(ModelCodes.backend, `no TensorFlow.js backend initialised: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`);
}

async function prepare(name: BackendName, importer: ModuleImporter): Promise<void> {
  switch (name) {
    case 'tensorflow':
      // Importing @tensorflow/tfjs-node registers the "tensorflow" backend as a side effect.
      await importer('@tensorflow/tfjs-node');
      if (!tf.findBackendFactory('tensorflow'))
        throw new Error('@tensorflow/tfjs-node loaded but registered no "tensorflow" backend (version mismatch with @tensorflow/tfjs?)');
      return;
    case 'wasm': {
      const wasm = (await importer('@tensorflow/tfjs-backend-wasm')) as { setWasmPaths(prefix: string): void };
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
      return;
    }
    case 'cpu':
      return;
  }
}

function reasonOf(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND') return 'not installed';
  return (e?.message ?? String(err)).split('\n')[0]!.slice(0, 200);
}

/**
 * Forget the sticky choice so the next selectBackend() switches backend (benchmarks
 * comparing backends in one process). Models loaded before keep working: tfjs moves
 * their weights to the new backend on first use.
 */
export function resetBackendChoice(): void {
  chosen = undefined;
}
