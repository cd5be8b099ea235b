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

const port = parentPort;
if (!port) throw new Error('src/loop/model-verify-worker is a worker_threads entry point; use verifyModelForSwap()');

async function verify(r: VerifyRequest): Promise<void> {
  const t0 = monotonicMs();
  const root = resolve(r.dir);
  // The cheap checks first: a model that cannot fit is refused before TensorFlow.js loads.
  const { meta } = checkModelDir(root);
  checkSwap(meta, join(root, META_FILE), r.req);
  let p: Predictor;
  try {
    p = await Predictor.load(root, { mode: 'compiled', warmUp: 5, ...(r.backends && { backends: r.backends }) });
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
  const x = new Float32Array(p.inputSize);
  const y = new Float32Array(p.outputSize);
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const a = monotonicMs();
    p.predictWith('compiled', x, y);
    times.push(monotonicMs() - a);
  }
  times.sort((a, b) => a - b);
  const spec = kernelSpec(p.kernel!);
  const info = structuredClone(p.info);
  p.dispose();
  const msg: VerifyMessage = { type: 'ok', dir: root, meta, info, spec, runMs: times[10]!, loadMs };
  port!.postMessage(msg, kernelTransferList(spec));
}

verify(workerData as VerifyRequest).catch((err: unknown) => {
  const msg: VerifyMessage = {
    type: 'error',
    code: isReflexError(err) ? err.code : SwapCodes.verify,
    message: err instanceof Error ? err.message : String(err),
    config: err instanceof ConfigError,
  };
  port.postMessage(msg);
});
