/**
 * Check a model directory for a live switch off the main thread: a short-lived worker loads it
 * through TensorFlow.js (which would stall ingest here long enough to trip the stale-input
 * watchdog), checks it against what the running loop needs (swap-check.ts), compiles and
 * verifies its kernel, and hands back the kernel as data for the loop worker to build. At start
 * (verifyModelAtStart) the same check runs in a child process, so the loop worker never loads
 * TensorFlow.js and the memory it took is returned to the system.
 */
import { ConfigError, ReflexError, type ErrorCode } from '../core/errors.js';
import type { BackendName } from '../predict/backend.js';
import type { KernelSpec } from '../predict/kernel-spec.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import type { PredictorInfo } from '../predict/predictor.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childExecArgv, entryUrl, startWorker } from '../core/worker.js';
import type { SwapRequirements } from './swap-check.js';
import { SwapCodes } from './codes.js';

export interface VerifyRequest {
  dir: string;
  /** What the running loop needs (a live switch); absent when a loop is about to start on the model. */
  req?: SwapRequirements;
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

export type VerifyMessage =
  | ({ type: 'ok' } & VerifiedModel)
  /** At start only: the model loads but its kernel does not compile (graph model, unsupported layer): run it through TensorFlow.js. */
  | { type: 'uncompiled'; reason: string }
  | { type: 'error'; code: ErrorCode; message: string; config: boolean };

/**
 * Before a loop starts on a model: load and verify it in a short-lived worker, so the loop
 * worker can run the compiled kernel without ever importing TensorFlow.js (whose heap then
 * leaves with the verifier). Null when the kernel does not compile: the loop worker loads the
 * model through TensorFlow.js as before. A bad model is refused with the error the loop worker
 * would have given.
 */
export async function verifyModelAtStart(dir: string, backends?: BackendName[], timeoutMs = 60_000): Promise<VerifiedModel | null> {
  const r = await runVerifierProcess({ dir, ...(backends && { backends }) }, timeoutMs);
  return r.type === 'ok' ? r.model : null;
}

/**
 * The verifier as a child process: its memory goes back to the system when it exits. A worker
 * thread's would not, all of it: bin/reflex-node's allocator settings keep up to 64 MB of freed
 * heap per arena, and TensorFlow.js leaves some 27 MB there (docs/loop.md).
 */
async function runVerifierProcess(r: VerifyRequest, timeoutMs: number): Promise<VerifierOutcome> {
  const url = entryUrl('model-verify-worker', import.meta.url);
  const child = fork(fileURLToPath(url), [], { execArgv: childExecArgv(url), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<VerifierOutcome>((resolve, reject) => {
      timer = setTimeout(() => reject(new ReflexError(SwapCodes.verify, `checking ${r.dir} took longer than ${timeoutMs} ms`)), timeoutMs);
      child.once('message', (m: VerifyMessage) => settle(m, resolve, reject));
      child.once('error', (err) => reject(new ReflexError(SwapCodes.verify, `the model check for ${r.dir} could not start: ${err.message}`, { cause: err })));
      child.once('exit', (code, signal) =>
        reject(new ReflexError(SwapCodes.verify, `the model check for ${r.dir} exited (${signal ?? `code ${code}`}) without an answer`)),
      );
      child.send(r);
    });
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

function settle(m: VerifyMessage, resolve: (o: VerifierOutcome) => void, reject: (e: Error) => void): void {
  if (m.type === 'ok') {
    const { type: _t, ...v } = m;
    resolve({ type: 'ok', model: v });
  } else if (m.type === 'uncompiled') resolve(m);
  else reject(m.config ? new ConfigError(m.code, m.message) : new ReflexError(m.code, m.message));
}

export async function verifyModelForSwap(r: VerifyRequest, timeoutMs = 60_000): Promise<VerifiedModel> {
  const v = await runVerifier(r, timeoutMs, '; the old model keeps running');
  if (v.type !== 'ok') throw new ReflexError(SwapCodes.verify, `the model check for ${r.dir} gave no kernel; the old model keeps running`);
  return v.model;
}

type VerifierOutcome = { type: 'ok'; model: VerifiedModel } | { type: 'uncompiled'; reason: string };

async function runVerifier(r: VerifyRequest, timeoutMs: number, tail: string): Promise<VerifierOutcome> {
  const worker = startWorker(entryUrl('model-verify-worker', import.meta.url), { workerData: r });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<VerifierOutcome>((resolve, reject) => {
      timer = setTimeout(() => reject(new ReflexError(SwapCodes.verify, `checking ${r.dir} took longer than ${timeoutMs} ms${tail}`)), timeoutMs);
      worker.once('message', (m: VerifyMessage) => settle(m, resolve, reject));
      worker.once('error', (err) => reject(new ReflexError(SwapCodes.verify, `the model check for ${r.dir} crashed: ${err.message}`, { cause: err })));
      worker.once('exit', (code) => reject(new ReflexError(SwapCodes.verify, `the model check for ${r.dir} exited (code ${code}) without an answer`)));
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
