/**
 * Check a model directory for a live switch off the main thread: a short-lived worker loads it
 * through TensorFlow.js (which would stall ingest here long enough to trip the stale-input
 * watchdog), checks it against what the running loop needs (swap-check.ts), compiles and
 * verifies its kernel, and hands back the kernel as data for the loop worker to build.
 */
import { ConfigError, ReflexError, type ErrorCode } from '../core/errors.js';
import type { BackendName } from '../predict/backend.js';
import type { KernelSpec } from '../predict/kernel-spec.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import type { PredictorInfo } from '../predict/predictor.js';
import { entryUrl, startWorker } from '../core/worker.js';
import type { SwapRequirements } from './swap-check.js';
import { SwapCodes } from './codes.js';

export interface VerifyRequest {
  dir: string;
  req: SwapRequirements;
  backends?: BackendName[];
}

export interface VerifiedModel {
  dir: string;
  meta: ReflexModelMeta;
  info: PredictorInfo;
  spec: KernelSpec;
  /** Median time of one prediction (scaling + kernel) in the verifying thread. */
  runMs: number;
  /** Load, compile and verification time. */
  loadMs: number;
}

export type VerifyMessage = ({ type: 'ok' } & VerifiedModel) | { type: 'error'; code: ErrorCode; message: string; config: boolean };

export async function verifyModelForSwap(r: VerifyRequest, timeoutMs = 60_000): Promise<VerifiedModel> {
  const worker = startWorker(entryUrl('model-verify-worker', import.meta.url), { workerData: r });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<VerifiedModel>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new ReflexError(SwapCodes.verify, `checking ${r.dir} took longer than ${timeoutMs} ms; the old model keeps running`)),
        timeoutMs,
      );
      worker.once('message', (m: VerifyMessage) => {
        if (m.type === 'ok') {
          const { type: _t, ...v } = m;
          resolve(v);
        } else reject(m.config ? new ConfigError(m.code, m.message) : new ReflexError(m.code, m.message));
      });
      worker.once('error', (err) => reject(new ReflexError(SwapCodes.verify, `the model check for ${r.dir} crashed: ${err.message}`, { cause: err })));
      worker.once('exit', (code) => reject(new ReflexError(SwapCodes.verify, `the model check for ${r.dir} exited (code ${code}) without an answer`)));
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
