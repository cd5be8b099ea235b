/**
 * Worker entry of model-verify.ts: load, check, compile and verify one model directory, then
 * post the kernel as data (weights transferred) or the refusal, and end.
 */
import { join, resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, isReflexError } from '../core/errors.js';
import { ModelCodes, modelError } from '../predict/errors.js';
import { kernelSpec, kernelTransferList } from '../predict/kernel-spec.js';
import { META_FILE } from '../predict/metadata.js';
import { checkModelDir } from '../predict/model-dir.js';
import { Predictor } from '../predict/predictor.js';
import { monotonicMs } from '../time/monotonic.js';
import type { VerifyMessage, VerifyRequest } from './model-verify.js';
import { checkSwap } from './swap-check.js';
import { SwapCodes } from './codes.js';

/**
 * A worker thread for a live switch; a child process at start (verifyModelAtStart), so that what
 * TensorFlow.js allocated leaves with the process: a thread's freed heap stays in the process
 * under bin/reflex-node's allocator settings.
 */
const port = parentPort;
const send: ((m: VerifyMessage, transfer?: ArrayBuffer[]) => void) | null = port
  ? (m, transfer) => port.postMessage(m, transfer)
  : process.send
    ? (m) => process.send!(m, undefined, {}, () => process.disconnect())
    : null;
if (!send) throw new Error('src/loop/model-verify-worker is a worker_threads or child-process entry point; use verifyModelForSwap() or verifyModelAtStart()');

async function verify(r: VerifyRequest): Promise<void> {
  const t0 = monotonicMs();
  const root = resolve(r.dir);
  // The cheap checks first: a model that cannot fit is refused before TensorFlow.js loads.
  const { meta } = checkModelDir(root);
  // Without requirements a loop is about to start on the model: one whose kernel does not compile still runs, through TensorFlow.js.
  if (r.req) checkSwap(meta, join(root, META_FILE), r.req);
  let p: Predictor;
  try {
    p = await Predictor.load(root, { mode: r.req ? 'compiled' : 'auto', warmUp: 5, ...(r.backends && { backends: r.backends }) });
  } catch (err) {
    if (isReflexError(err) && (err.code === ModelCodes.compileUnsupported || err.code === ModelCodes.compileMismatch)) {
      throw modelError(
        ModelCodes.compileUnsupported,
        `${err.message}. A live switch runs only the compiled kernel: restart with --model ${root} to run this model through TensorFlow.js`,
        err,
      );
    }
    throw err;
  }
  const loadMs = monotonicMs() - t0;
  if (!p.kernel) {
    const reason = p.info.compiled.reason ?? 'not compiled';
    p.dispose();
    send!({ type: 'uncompiled', reason });
    return;
  }
  const x = new Float32Array(p.inputSize);
  const y = new Float32Array(p.outputSize);
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const a = monotonicMs();
    p.predictWith('compiled', x, y);
    times.push(monotonicMs() - a);
  }
  times.sort((a, b) => a - b);
  const spec = kernelSpec(p.kernel);
  const info = structuredClone(p.info);
  p.dispose();
  const msg: VerifyMessage = { type: 'ok', dir: root, meta, info, spec, runMs: times[10]!, loadMs };
  send!(msg, kernelTransferList(spec));
}

const request = port ? Promise.resolve(workerData as VerifyRequest) : new Promise<VerifyRequest>((resolve) => process.once('message', resolve));
request.then(verify).catch((err: unknown) => {
  const msg: VerifyMessage = {
    type: 'error',
    code: isReflexError(err) ? err.code : SwapCodes.verify,
    message: err instanceof Error ? err.message : String(err),
    config: err instanceof ConfigError,
  };
  send(msg);
});
