/**
 * The backend chain when optional packages are installed but broken: the case a lab SBC
 * hits when tfjs-node's native library failed to download or does not match the board.
 * selectBackend's choice is per process (tfjs has one global backend), so this file holds
 * one scenario: tfjs-node present but its native library missing, and the wasm backend
 * failing to initialise too, which must leave plain JS, with both reasons reported.
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { Logger } from '../src/core/log.js';
import { selectBackend } from '../src/predict/backend.js';

test('tfjs-node installed but its native library missing, wasm broken too: falls through to cpu and says why', async (t) => {
  const imported: string[] = [];
  const lines: string[] = [];
  const choice = await selectBackend({
    importer: (specifier) => {
      imported.push(specifier);
      if (specifier === '@tensorflow/tfjs-node') {
        // Rejects, as import() does, rather than throwing synchronously.
        return Promise.reject(new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory'));
      }
      // A wasm package whose setup throws, as a corrupt install would.
      return Promise.resolve({
        setWasmPaths: () => {
          throw new Error('tfjs-backend-wasm.wasm is missing from the package');
        },
      });
    },
    log: new Logger({ sink: (_level, msg) => lines.push(msg), level: 'info' }),
  });
  t.deepEqual(imported, ['@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
  t.is(choice.name, 'cpu');
  t.is(tf.getBackend(), 'cpu');
  t.like(choice.attempts[0], { name: 'tensorflow', ok: false });
  t.regex(choice.attempts[0]!.reason!, /libtensorflow\.so\.2/);
  t.like(choice.attempts[1], { name: 'wasm', ok: false });
  t.regex(choice.attempts[1]!.reason!, /wasm is missing/);
  t.like(choice.attempts[2], { name: 'cpu', ok: true });
  // The log line names the backend in use and why the others were skipped.
  t.true(
    lines.some((l) => l.includes('backend: cpu') && l.includes('libtensorflow.so.2') && l.includes('wasm is missing')),
    lines.join('\n'),
  );
  // It sticks for the process: a later call returns the same choice without importing again.
  t.is(await selectBackend(), choice);
  t.is(imported.length, 2);
});
