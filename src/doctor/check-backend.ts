/**
 * Which TensorFlow.js backend this host will get, by the order src/predict/backend.ts tries
 * them (tensorflow, wasm, cpu), from facts probed without loading TensorFlow.js or a model.
 */
import { fail, ok, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

const ARM64_NOTE = '@tensorflow/tfjs-node does not load on arm64 (tensorflow/tfjs issue 6676)';

function run(ctx: DoctorContext): CheckResult[] {
  const { arch } = ctx.facts;
  const { node, wasm } = ctx.tfjs;
  const fallback = wasm ? 'wasm' : 'cpu (plain JavaScript, slow)';
  const reinstall = ['npm ci --omit=optional  # in the Reflex directory (docs/install-arm64.md)'];
  if (arch === 'arm64') {
    if (node === 'absent' || node === 'skipped') {
      const found = `${fallback} backend on arm64; ${ARM64_NOTE}${node === 'absent' ? ', and it is not installed' : ''}`;
      return [wasm ? ok('backend', found) : fail('backend', found, ['npm ci --omit=optional  # restores @tensorflow/tfjs-backend-wasm'])];
    }
    if (node === 'loads') return [ok('backend', 'tensorflow (tfjs-node): it loaded here, on arm64, despite tensorflow/tfjs issue 6676')];
    return [warn('backend', `${fallback} backend: ${ARM64_NOTE} (${node.error}); install without it`, reinstall)];
  }
  if (node === 'loads') return [ok('backend', `tensorflow (tfjs-node loads) on ${arch}`)];
  if (typeof node === 'object') {
    return [
      warn('backend', `${fallback} backend on ${arch}: @tensorflow/tfjs-node is installed but does not load (${node.error})`, [
        'npm rebuild @tensorflow/tfjs-node',
        ...reinstall,
      ]),
    ];
  }
  const found = `${fallback} backend on ${arch}: @tensorflow/tfjs-node ${node === 'absent' ? 'is not installed (optional)' : 'not probed'}`;
  return [wasm ? ok('backend', found) : fail('backend', found, ['npm ci  # restores @tensorflow/tfjs-backend-wasm'])];
}

export const backendCheck: DoctorCheck = { id: 'backend', title: 'the TensorFlow.js backend this host gets (tfjs-node, else wasm)', run };
