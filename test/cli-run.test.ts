/**
 * `reflex run` as a user starts it: a real process, the simulated board, bounded by
 * --duration or stopped by a signal, with the exit codes the CLI promises.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { run as runCli } from '../src/cli/main.js';
import { ControlClient } from '../src/telemetry/control-client.js';

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
  // Counted from the start, connecting included: long enough for the simulated board to stream on a loaded machine.
  const r = await reflex(['run', '--board', 'sim', '--no-model', '--quiet', '--duration', '5', ...ephemeral]).exited;
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

/** `reflex ARGS` run by the CLI's dispatcher in this process: exit code and what it wrote to stderr. */
async function inProcess(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      err += chunk.toString();
      cb();
    },
  });
  const code = await runCli(args, { stdout: sink, stderr: sink, signal: new AbortController().signal });
  return { code, err };
}

/** A one-actuator bridge board on a serial path, written to `dir`. */
function serialBoard(dir: string, path: string): string {
  const file = join(dir, 'board.json');
  writeFileSync(
    file,
    JSON.stringify({
      id: 'bench',
      name: 'bench board',
      source: { kind: 'bridge', transport: 'serial', path, rate: 2000, channels: 8 },
      actuators: [{ name: 'wrist', kind: 'servo', via: 'bridge', channel: 0, min: 1000, max: 2000, slewPerS: 4000, safe: 1500, unit: 'us' }],
    }),
  );
  return file;
}

function tmp(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-cli-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The `reflex run:` error line: exactly one, no stack trace. */
function errorLine(err: string): string {
  const lines = err.split('\n').filter((l) => l.startsWith('reflex run:'));
  if (lines.length !== 1 || /\n\s+at /.test(err)) throw new Error(`want one "reflex run:" line and no stack trace, got:\n${err}`);
  return lines[0]!;
}

test('a source path that does not exist: --duration ends the run while connecting, exit 1, one line', async (t) => {
  t.timeout(60_000);
  const dir = tmp(t);
  const board = serialBoard(dir, join(dir, 'no-such-tty'));
  const r = await reflex(['run', '--board', board, '--duration', '1', '--quiet', ...ephemeral]).exited;
  t.is(r.code, 1, r.err);
  // On a loaded machine the second may be up before the first open attempt has failed.
  t.regex(
    errorLine(r.err),
    /source never connected: (cannot open serial port .*no-such-tty|no error reported yet).*--duration 1 s elapsed \[E_SOURCE_NOT_CONNECTED\]/,
  );
  t.regex(r.err, /runtime stopped/);
});

/** A pseudo-terminal whose master nobody answers on: a device that never replies. Held until stdin closes. */
const SILENT_PTY = String.raw`
import os, pty, sys, tty
m, s = pty.openpty()
tty.setraw(s)
print("PTY " + os.ttyname(s), flush=True)
sys.stdin.read()
`;

test('a device that never answers: control serves status while connecting, SIGTERM ends the run with exit 1', async (t) => {
  t.timeout(60_000);
  const py = spawn('/usr/bin/python3', ['-c', SILENT_PTY], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => py.stdin.end());
  const [first] = (await once(createInterface({ input: py.stdout }), 'line')) as [string];
  t.true(first.startsWith('PTY '), first);
  const board = serialBoard(tmp(t), first.slice(4));
  const p = reflex(['run', '--board', board, '--quiet', ...ephemeral]);
  // The link gives up on its first connection after its HELLO retries and says why.
  await until(() => /source reconnecting: no HELLO/.test(p.stderr()), 'a failed first connection');
  const endpoint = /control on (\S+)/.exec(p.stderr())![1]!;
  const ctl = new ControlClient({ endpoint, timeoutMs: 10_000 });
  try {
    const s = (await ctl.request('status')) as { state: string; safe: boolean; loop: unknown; source: Record<string, unknown> };
    t.is(s.state, 'connecting');
    t.true(s.safe);
    t.is(s.loop, null, 'no loop before the source streams');
    t.true((s.source.link_attempts as number) >= 1, JSON.stringify(s.source));
    t.regex(String(s.source.last_error), /no HELLO/);
  } finally {
    await ctl.close();
  }
  p.child.kill('SIGTERM');
  const r = await p.exited;
  t.is(r.code, 1, r.err);
  t.regex(errorLine(r.err), /source never connected: no HELLO .*received SIGTERM/);
});

test('inconsistent settings are refused at start-up: exit 2, one line naming the key', async (t) => {
  t.timeout(60_000);
  const dir = tmp(t);
  const model = join(dir, 'model');
  cpSync(fileURLToPath(new URL('../models/default', import.meta.url)), model, { recursive: true });
  const metaFile = join(model, 'reflex-model.json');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { input: { windowMs: number } };
  meta.input.windowMs = 250;
  writeFileSync(metaFile, JSON.stringify(meta));
  const config = join(dir, 'run.json');
  writeFileSync(config, JSON.stringify({ outputs: [{ actuator: 'wirst', output: 'wrist_angle', scale: 8, offset: 1500 }] }));
  const precious = join(dir, 'notes.txt');
  writeFileSync(precious, 'keep\n');
  const badArgs = join(dir, 'sim-bad.json');
  const sim = JSON.parse(readFileSync(fileURLToPath(new URL('../boards/sim.json', import.meta.url)), 'utf8')) as { source: Record<string, unknown> };
  sim.source.firmwareArgs = ['--rate', '4000'];
  writeFileSync(badArgs, JSON.stringify(sim));
  const cases: Array<[string[], RegExp]> = [
    [['--rate', ''], /--rate must be a number .* got ""/],
    [['--duration', 'soon'], /--duration/],
    [['--model', ''], /--model needs a value/],
    [['--board', 'openbci-cyton'], /"features\.sourceRateHz" is 2000 Hz, but board openbci-cyton streams 250 Hz.*--no-model/],
    [['--model', model], /"input\.windowMs" is 250 ms/],
    [['--config', config], /"outputs\[0\]\.actuator": "wirst" .*did you mean "wrist"/],
    [['--pub', `ipc://${precious}`], new RegExp(`${precious} is a file, not a socket`)],
    [['--board', badArgs], new RegExp(`${badArgs}: "source\\.firmwareArgs\\[0\\]" "--rate" may not be passed`)],
  ];
  // In this process through the CLI's dispatcher (the code path of `reflex run`, without a process start per case).
  for (const [args, want] of cases) {
    const r = await inProcess(['run', '--quiet', ...ephemeral, ...args]);
    t.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    t.regex(errorLine(r.err), want, args.join(' '));
    t.notRegex(r.err, /source connecting/, `${args.join(' ')}: refused before any device was opened`);
  }
  t.is(readFileSync(precious, 'utf8'), 'keep\n', 'the file at the ipc path is untouched');
});
