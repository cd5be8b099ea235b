import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { main as replayMain } from '../src/cli/commands/replay.js';
import { ConfigError } from '../src/core/errors.js';
import { Progress } from '../src/offline/progress.js';
import { trainModel } from '../src/train/train.js';
import { captureCtx } from './_cli-ctx.js';
import { simRun } from './_sim-run.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-replay-cli-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const run = simRun({ dir: tmp, seconds: 3, publishEvery: 1 });

test.serial('identical: exit 0, the summary on stdout, the result as JSON with --out', async (t) => {
  const ctx = captureCtx();
  const out = join(tmp, 'r.json');
  t.is(await replayMain([await run, '--out', out, '--no-progress'], ctx), 0);
  t.regex(ctx.out(), /identical\n$/);
  t.is(ctx.err(), '');
  const r = JSON.parse(readFileSync(out, 'utf8')) as { identical: boolean; predictions: number };
  t.true(r.identical);
  t.true(r.predictions > 250);
  const e = await t.throwsAsync(replayMain([await run, '--out', out], captureCtx()));
  t.true(e instanceof ConfigError);
});

test.serial('progress goes to stderr as plain lines when stderr is not a terminal', async (t) => {
  const ctx = captureCtx();
  t.is(await replayMain([await run], ctx), 0);
  t.regex(ctx.err(), /^replay: 100 % [\d.]+ s\n$/m);
});

test.serial('another model: exit 1 and the first difference, tick and output named', async (t) => {
  const other = join(tmp, 'other');
  const data = await simRun({ dir: tmp, seconds: 6, model: null, seed: 4 });
  await trainModel({ files: [data], out: other, epochs: 1, hopMs: 40, seed: 4 });
  const ctx = captureCtx();
  t.is(await replayMain([await run, '--model', other, '--no-progress'], ctx), 1);
  t.regex(ctx.out(), /DIFFERENT: \d+ values .*; first at tick 0, prediction wrist_angle: live -?[\d.]+, replay -?[\d.]+\n/);
});

test.serial('a model with other outputs, a model for other channels: exit 2 naming the file', async (t) => {
  const data = await simRun({ dir: tmp, seconds: 6, model: null, seed: 4 });
  const gripOnly = join(tmp, 'grip-only');
  await trainModel({ files: [data], out: gripOnly, epochs: 1, hopMs: 40, outputs: ['grip'] });
  const file = await run;
  let e = await t.throwsAsync(replayMain([file, '--model', gripOnly, '--no-progress'], captureCtx()));
  t.is((e as ConfigError).code, 'E_REC_OUTPUT');
  t.true(e.message.includes(file));
  const four = await simRun({ dir: tmp, seconds: 6, model: null, seed: 5, channels: 4 });
  const fourModel = join(tmp, 'four');
  await trainModel({ files: [four], out: fourModel, epochs: 1, hopMs: 40 });
  e = await t.throwsAsync(replayMain([file, '--model', fourModel, '--no-progress'], captureCtx()));
  t.is((e as ConfigError).code, 'E_REC_SHAPE');
  t.true(e.message.includes(file));
});

test.serial('a recording without predictions, a foreign file, one without the run settings', async (t) => {
  const noModel = await simRun({ dir: tmp, seconds: 2, model: null, seed: 6 });
  let e = await t.throwsAsync(replayMain([noModel, '--model', join(tmp, 'other'), '--no-progress'], captureCtx()));
  t.is((e as ConfigError).code, 'E_REC_NO_STREAM');
  t.true(e.message.includes(noModel));
  const foreign = join(tmp, 'x.edf');
  writeFileSync(foreign, '0       patient');
  e = await t.throwsAsync(replayMain([foreign], captureCtx()));
  t.true(e instanceof ConfigError);
  t.is((e as ConfigError).code, 'E_XDF_FOREIGN');
  const bare = await simRun({ dir: tmp, seconds: 2, seed: 8, header: false });
  e = await t.throwsAsync(replayMain([bare, '--no-progress'], captureCtx()));
  t.is((e as ConfigError).code, 'E_REPLAY_RUN');
  t.regex(e.message, /pass --model DIR/);
});

test.serial('a file cut short (kill -9) replays what it holds', async (t) => {
  const cut = join(tmp, 'cut.xdf');
  copyFileSync(await run, cut);
  truncateSync(cut, Math.floor(statSync(cut).size * 0.6) + 3);
  const ctx = captureCtx();
  const out = join(tmp, 'cut.json');
  t.is(await replayMain([cut, '--no-progress', '--out', out], ctx), 0, ctx.out());
  const r = JSON.parse(readFileSync(out, 'utf8')) as { predictions: number; valuesCompared: number };
  t.true(r.valuesCompared > 1000);
  t.true(existsSync(out));
});

test('the progress bar redraws in place on a terminal, with an ETA', (t) => {
  let text = '';
  let now = 0;
  const sink = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  const p = new Progress(sink, 'train', { tty: true, now: () => now });
  now = 1000;
  p.update(25, 100, 'epoch 1/4');
  now = 1050; // within 100 ms: not redrawn
  p.update(26, 100);
  now = 2000;
  p.update(50, 100);
  now = 4000;
  p.update(100, 100);
  p.end();
  const frames = text.split('\r\x1b[2K').filter(Boolean);
  t.is(frames.length, 3);
  t.is(frames[0], 'train [#######.....................]  25 % 1.0 s, ETA 3.0 s epoch 1/4');
  t.is(frames[1], 'train [##############..............]  50 % 2.0 s, ETA 2.0 s');
  t.is(frames[2], 'train [############################] 100 % 4.0 s\n');
});
