import test from 'ava';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { commands, run } from '../src/cli/main.js';

const commandsDir = fileURLToPath(new URL('../src/cli/commands/', import.meta.url));

test('every file in src/cli/commands is in the command table, and nothing else is', (t) => {
  const files = readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  t.deepEqual(Object.keys(commands).sort(), files);
});

test('every table entry loads a command module', async (t) => {
  for (const [name, load] of Object.entries(commands)) {
    const mod = await load();
    t.is(typeof mod.summary, 'string', name);
    t.is(typeof mod.usage, 'string', name);
    t.is(typeof mod.main, 'function', name);
  }
});

test('reflex --help lists every command with its summary', async (t) => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const code = await run(['--help'], { stdout: out, stderr: new PassThrough(), signal: new AbortController().signal });
  t.is(code, 0);
  const text = Buffer.concat(chunks).toString('utf8');
  for (const [name, load] of Object.entries(commands)) {
    t.true(text.includes(`  ${name.padEnd(12)} ${(await load()).summary}`), `--help lists ${name}`);
  }
});

test('an unknown command, or an inherited property name, is refused with exit code 2', async (t) => {
  for (const name of ['nope', 'toString', '__proto__']) {
    const err = new PassThrough();
    const chunks: Buffer[] = [];
    err.on('data', (c: Buffer) => chunks.push(c));
    t.is(await run([name], { stdout: new PassThrough(), stderr: err, signal: new AbortController().signal }), 2, name);
    t.regex(Buffer.concat(chunks).toString('utf8'), /unknown command/);
  }
});
