/**
 * Model directory checks (model-dir.ts) that need no TensorFlow.js: every weights group's bytes
 * add up, quantised weights counted at their stored size, paths stay inside the directory, and
 * every refusal is a ConfigError naming the file.
 */
import test from 'ava';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../src/core/errors.js';
import { checkModelDir, checkWeightFiles } from '../src/predict/model-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-model-dir-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const DEFAULT = fileURLToPath(new URL('../models/default', import.meta.url));

function dirWith(name: string, files: Record<string, number>): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, n] of Object.entries(files)) writeFileSync(join(d, f), Buffer.alloc(n));
  return d;
}

const refusal = (t: import('ava').ExecutionContext, fn: () => void, code: string, names: string): string => {
  const e = t.throws<Error & { code: string }>(fn);
  t.true(e instanceof ConfigError, String(e));
  t.is(e.code, code);
  t.true(e.message.includes(names), e.message);
  return e.message;
};

test('the default model passes, and says it is a layers model', (t) => {
  const c = checkModelDir(DEFAULT);
  t.is(c.format, 'layers-model');
  t.is(c.meta.input.channels, 8);
});

test('weights groups: sizes per group, split across files, quantised dtypes at their stored size', (t) => {
  const d = dirWith('groups', { 'a.bin': 24, 'b1.bin': 6, 'b2.bin': 6 });
  const file = join(d, 'model.json');
  const json = {
    modelTopology: {},
    weightsManifest: [
      { paths: ['a.bin'], weights: [{ name: 'k', shape: [2, 3], dtype: 'float32' }] },
      // 12 uint8-quantised float32 values: 12 bytes, stored in two files.
      { paths: ['b1.bin', 'b2.bin'], weights: [{ name: 'q', shape: [12], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } }] },
    ],
  };
  t.notThrows(() => checkWeightFiles(file, json));
  const long = structuredClone(json);
  long.weightsManifest[0]!.weights[0]!.shape = [2, 2];
  t.regex(
    refusal(t, () => checkWeightFiles(file, long), 'E_MODEL_WEIGHTS', join(d, 'a.bin')),
    /24 bytes.*16 bytes.*too long/,
  );
  const short = structuredClone(json);
  (short.weightsManifest[1]!.weights[0] as { quantization: { dtype: string } }).quantization.dtype = 'uint16';
  t.regex(
    refusal(t, () => checkWeightFiles(file, short), 'E_MODEL_WEIGHTS', `${join(d, 'b1.bin')} + ${join(d, 'b2.bin')}`),
    /12 bytes.*24 bytes.*too short/,
  );
});

test('weights paths must stay inside the model directory; specs must be well formed', (t) => {
  const d = dirWith('escape', { 'w.bin': 4 });
  const file = join(d, 'model.json');
  const w = [{ name: 'x', shape: [1], dtype: 'float32' }];
  writeFileSync(join(tmp, 'outside.bin'), Buffer.alloc(4));
  refusal(t, () => checkWeightFiles(file, { weightsManifest: [{ paths: ['../outside.bin'], weights: w }] }), 'E_MODEL_FORMAT', 'outside the model directory');
  // A path that only seems to leave is inside.
  t.notThrows(() => checkWeightFiles(file, { weightsManifest: [{ paths: ['../escape/w.bin'], weights: w }] }));
  refusal(t, () => checkWeightFiles(file, { weightsManifest: [{ paths: ['/etc/passwd'], weights: w }] }), 'E_MODEL_FORMAT', file);
  refusal(
    t,
    () => checkWeightFiles(file, { weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'x', shape: [-1], dtype: 'float32' }] }] }),
    'E_MODEL_FORMAT',
    file,
  );
  refusal(
    t,
    () => checkWeightFiles(file, { weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'x', shape: [1], dtype: 'float64' }] }] }),
    'E_MODEL_FORMAT',
    'float64',
  );
  refusal(t, () => checkWeightFiles(file, { weightsManifest: [{ paths: ['gone.bin'], weights: w }] }), 'E_MODEL_MISSING', join(d, 'gone.bin'));
});

test('model.json without its two keys, or a reflex-model.json that is a directory, is named', (t) => {
  const d = join(tmp, 'nokeys');
  cpSync(DEFAULT, d, { recursive: true });
  writeFileSync(join(d, 'model.json'), JSON.stringify({ modelTopology: {} }));
  refusal(t, () => checkModelDir(d), 'E_MODEL_FORMAT', `${join(d, 'model.json')}: "weightsManifest"`);
  cpSync(join(DEFAULT, 'model.json'), join(d, 'model.json'));
  rmSync(join(d, 'reflex-model.json'));
  mkdirSync(join(d, 'reflex-model.json'));
  refusal(t, () => checkModelDir(d), 'E_MODEL_META', join(d, 'reflex-model.json'));
});
