/**
 * `reflex run` as a user starts it: a real process, the simulated board, bounded by
 * --duration or stopped by a signal, with the exit codes the CLI promises.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ephemeral = ['--pub', 'tcp://127.0.0.1:*', '--control', 'tcp://127.0.0.1:*'];

function reflex(args: string[]) {
  const child = spawn(process.execPath, ['--import=tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null, out, err }));
  return { child, exited, stderr: () => err };
}

async function until(pred: () => boolean, what: string, ms = 60_000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('run --duration stops by itself with exit code 0', async (t) => {
  t.timeout(90_000);
  const r = await reflex(['run', '--board', 'sim', '--no-model', '--quiet', '--duration', '3', ...ephemeral]).exited;
  t.is(r.code, 0, r.err);
  t.regex(r.err, /runtime stopped/);
});

test('run stops cleanly on SIGTERM, actuators safe first, no crash', async (t) => {
  t.timeout(90_000);
  const p = reflex(['run', '--board', 'sim', '--quiet', ...ephemeral]);
  await until(() => /running board sim/.test(p.stderr()), 'the runtime to start');
  p.child.kill('SIGTERM');
  const r = await p.exited;
  t.is(r.code, 0, r.err);
  t.regex(r.err, /actuators put in the safe state|runtime stopped/);
  t.notRegex(r.err, /Error:|unhandled/i, 'no error while stopping');
});

test('bad usage and configuration exit with code 2 and name the problem', async (t) => {
  t.timeout(60_000);
  const unknownFlag = await reflex(['run', '--bogus']).exited;
  t.is(unknownFlag.code, 2);
  t.regex(unknownFlag.err, /bogus/);
  const board = await reflex(['run', '--board', 'no-such-board', '--quiet', ...ephemeral]).exited;
  t.is(board.code, 2);
  t.regex(board.err, /no-such-board/);
  const rate = await reflex(['run', '--rate', '99999', '--quiet']).exited;
  t.is(rate.code, 2);
  t.regex(rate.err, /--rate/);
});

test('reflex --help lists every command; each command has --help', async (t) => {
  t.timeout(60_000);
  const r = await reflex(['--help']).exited;
  t.is(r.code, 0);
  for (const cmd of ['run', 'subscribe', 'ctl', 'keygen', 'version']) t.regex(r.out, new RegExp(`\\b${cmd}\\b`));
  const h = await reflex(['run', '--help']).exited;
  t.is(h.code, 0);
  for (const flag of ['--board', '--duration', '--model', '--pub', '--control', '--keys']) t.true(h.out.includes(flag), flag);
});
