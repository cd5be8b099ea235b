/**
 * `reflex run --model DIR` with a bad model directory, as a user meets it: exit code 2 (bad
 * input) and one line naming the file and what is wrong, never a stack trace. Every case runs
 * through the CLI's own entry (main.ts `run`, which decides exit codes); three also as a real
 * process (a process each costs seconds of CPU on a shared machine), among them the one only
 * TensorFlow.js can find, inside the loop worker.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { run as cli } from '../src/cli/main.js';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const DEFAULT = fileURLToPath(new URL('../models/default', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'reflex-bad-model-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const args = (model: string): string[] => [
  'run',
  '--quiet',
  '--duration',
  '2',
  '--model',
  model,
  '--pub',
  'tcp://127.0.0.1:*',
  '--control',
  'tcp://127.0.0.1:*',
];

async function inProcess(model: string): Promise<{ code: number | null; err: string }> {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await cli(args(model), { stdout: new PassThrough(), stderr, signal: new AbortController().signal });
  return { code, err };
}

async function asProcess(model: string): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, ['--import=tsx', main, ...args(model)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, err };
}

/** A copy of the default model, changed by `edit`. */
function variant(name: string, edit: (dir: string) => void): string {
  const dir = join(tmp, name);
  cpSync(DEFAULT, dir, { recursive: true });
  edit(dir);
  return dir;
}

/** Edit a JSON file in place; `T`: the part of its shape the edit touches. */
const editJson = <T>(file: string, f: (j: T) => void): void => {
  const j = JSON.parse(readFileSync(file, 'utf8')) as T;
  f(j);
  writeFileSync(file, JSON.stringify(j));
};

/** [case, the model path to pass, the file the line must name, what it must say, also as a process]. */
const cases: Array<[string, () => string, (dir: string) => string, RegExp, boolean?]> = [
  ['a missing directory', () => join(tmp, 'nope'), (d) => d, /does not exist/, true],
  [
    'a file instead of a directory',
    () => {
      const f = join(tmp, 'a-file');
      writeFileSync(f, 'not a model');
      return f;
    },
    (d) => d,
    /is a file, not a model directory/,
  ],
  ['an empty model.json', () => variant('empty', (d) => writeFileSync(join(d, 'model.json'), '')), (d) => join(d, 'model.json'), /is empty/],
  [
    'a corrupt model.json',
    () => variant('corrupt', (d) => writeFileSync(join(d, 'model.json'), readFileSync(join(DEFAULT, 'model.json'), 'utf8').slice(0, 300))),
    (d) => join(d, 'model.json'),
    /not valid JSON/,
  ],
  [
    'a model.json naming a layer TensorFlow.js does not know',
    () =>
      variant('topology', (d) =>
        editJson<{ modelTopology: { config: { layers: Array<{ class_name: string }> } } }>(join(d, 'model.json'), (j) => {
          j.modelTopology.config.layers[1]!.class_name = 'NoSuchLayer';
        }),
      ),
    (d) => join(d, 'model.json'),
    /Unknown layer: NoSuchLayer/,
    true,
  ],
  [
    'weights too short',
    () => variant('short', (d) => writeFileSync(join(d, 'weights.bin'), readFileSync(join(DEFAULT, 'weights.bin')).subarray(0, 1000))),
    (d) => join(d, 'weights.bin'),
    /has 1000 bytes.*too short/,
    true,
  ],
  [
    'weights too long',
    () => variant('long', (d) => writeFileSync(join(d, 'weights.bin'), Buffer.concat([readFileSync(join(DEFAULT, 'weights.bin')), Buffer.alloc(8)]))),
    (d) => join(d, 'weights.bin'),
    /too long/,
  ],
  ['a missing reflex-model.json', () => variant('nometa', (d) => rmSync(join(d, 'reflex-model.json'))), (d) => join(d, 'reflex-model.json'), /does not exist/],
  [
    'an invalid reflex-model.json',
    () =>
      variant('badmeta', (d) =>
        editJson<{ input: { samples: unknown } }>(join(d, 'reflex-model.json'), (j) => {
          j.input.samples = 'twenty';
        }),
      ),
    (d) => join(d, 'reflex-model.json'),
    /"input\.samples" must be a positive integer/,
  ],
  [
    'a normalisation std of 0',
    () =>
      variant('std0', (d) =>
        editJson<{ normalization: { std: number[] } }>(join(d, 'reflex-model.json'), (j) => {
          j.normalization.std[2] = 0;
        }),
      ),
    (d) => join(d, 'reflex-model.json'),
    /"normalization\.std\[2\]" must be a positive finite number \(it is 0/,
  ],
  [
    'a negative normalisation std',
    () =>
      variant('stdneg', (d) =>
        editJson<{ normalization: { std: number[] } }>(join(d, 'reflex-model.json'), (j) => {
          j.normalization.std[0] = -1;
        }),
      ),
    (d) => join(d, 'reflex-model.json'),
    /"normalization\.std\[0\]"/,
  ],
];

function check(t: import('ava').ExecutionContext, name: string, r: { code: number | null; err: string }, file: string, says: RegExp): void {
  t.is(r.code, 2, r.err);
  const lines = r.err.trimEnd().split('\n');
  const errors = lines.filter((l) => l.startsWith('reflex run:'));
  t.is(errors.length, 1, r.err);
  const line = errors[0]!;
  t.is(lines[lines.length - 1], line, 'the error is the last word');
  t.true(line.includes(file), line);
  t.regex(line, says);
  t.notRegex(r.err, /^\s+at /m, 'no stack trace');
  // Found before anything started, except what only TensorFlow.js itself can find (in the loop worker).
  if (!name.includes('TensorFlow.js')) t.is(lines.length, 1, r.err);
}

for (const [name, make, file, says, proc] of cases) {
  // The TensorFlow.js case starts the runtime up to the loop worker: only as its own process.
  if (!name.includes('TensorFlow.js')) {
    test(`run --model with ${name}: exit 2, one line naming the file`, async (t) => {
      const model = make();
      check(t, name, await inProcess(model), file(model), says);
    });
  }
  if (proc) {
    test(`as a process: run --model with ${name}: exit 2, one line naming the file`, async (t) => {
      t.timeout(60_000);
      const model = make();
      check(t, name, await asProcess(model), file(model), says);
    });
  }
}
