import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { main as trainMain } from '../src/cli/commands/train.js';
import { ConfigError } from '../src/core/errors.js';
import { trainModel } from '../src/train/train.js';
import { captureCtx } from './_cli-ctx.js';
import { simRun } from './_sim-run.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-train-bad-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const good = simRun({ dir: tmp, seconds: 6, model: null, seed: 1 });

/** Fails with a ConfigError (exit 2) of `code` whose message names `file`, and writes no model directory. */
async function refused(t: import('ava').ExecutionContext, argv: string[], code: string, file: string): Promise<void> {
  const out = join(tmp, `out-${code}`);
  const e = await t.throwsAsync(trainMain([...argv, '--out', out, '--epochs', '1', '--no-progress'], captureCtx()));
  t.true(e instanceof ConfigError, String(e));
  t.is<string, string>((e as ConfigError).code, code);
  t.true(e.message.includes(file), e.message);
  t.false(existsSync(out));
  t.deepEqual(
    readdirSync(tmp).filter((f) => f.includes('partial')),
    [],
  );
}

test('a recording without tracker data', async (t) => {
  const f = await simRun({ dir: tmp, seconds: 2, model: null, tracker: false, seed: 2 });
  await refused(t, [f], 'E_REC_NO_TRACKER', f);
});

test('recordings whose channel counts differ', async (t) => {
  const a = await good;
  const b = await simRun({ dir: tmp, seconds: 6, model: null, channels: 4, seed: 3 });
  await refused(t, [a, b], 'E_REC_SHAPE', b);
});

test('an output name the recording lacks', async (t) => {
  const f = await good;
  await refused(t, [f, '--outputs', 'wrist_angle,elbow'], 'E_REC_OUTPUT', f);
});

test('a foreign file, an empty one and one cut inside its header', async (t) => {
  const foreign = join(tmp, 'notes.csv');
  writeFileSync(foreign, 'time,ch1\n0,1\n');
  await refused(t, [foreign], 'E_XDF_FOREIGN', foreign);
  const empty = join(tmp, 'empty.xdf');
  writeFileSync(empty, '');
  await refused(t, [empty], 'E_XDF_EMPTY', empty);
  const cut = join(tmp, 'cut.xdf');
  writeFileSync(cut, readFileSync(await good).subarray(0, 30));
  await refused(t, [cut], 'E_XDF_CORRUPT', cut);
});

test('a missing file', async (t) => {
  const missing = join(tmp, 'nope.xdf');
  await refused(t, [missing], 'E_RECORD_READ', missing);
});

test('an existing --out is left as it was', async (t) => {
  const out = join(tmp, 'existing');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  const e = await t.throwsAsync(trainModel({ files: [await good], out, epochs: 1 }));
  t.is((e as ConfigError).code, 'E_TRAIN_OUT_EXISTS');
  t.true(e instanceof ConfigError);
  t.deepEqual(readdirSync(out), ['keep.txt']);
});

test('options out of range', async (t) => {
  for (const flag of ['--epochs=0', '--val-fraction=1.5', '--hop-ms=-3', '--window-ms=0', '--seed=1.5']) {
    const e = await t.throwsAsync(trainMain([await good, '--out', join(tmp, 'x'), flag, '--no-progress'], captureCtx()));
    t.true(e instanceof ConfigError, flag);
    t.false(existsSync(join(tmp, 'x')));
  }
  const e = await t.throwsAsync(trainMain([await good, '--out', join(tmp, 'x'), '--arch', 'rnn'], captureCtx()));
  t.true(e instanceof ConfigError);
});
