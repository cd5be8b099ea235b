/**
 * `reflex run --log-format json`: everything on stderr is one JSON object per line, the loop
 * worker's lines included; the default text format is the same on both threads.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ephemeral = ['--pub', 'tcp://127.0.0.1:*', '--control', 'tcp://127.0.0.1:*'];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TEXT_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (debug|info |warn |error) \[[a-z]+\] \S/;

interface Line {
  time: string;
  level: string;
  component: string;
  message: string;
  code?: string;
}

/**
 * `reflex run ARGS`; with `stopOn`, SIGTERM once stderr has every one of those lines (events,
 * not a guessed duration, so a loaded machine only makes it slower).
 */
async function run(t: ExecutionContext, args: string[], stopOn?: RegExp[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, ['--import=tsx', main, 'run', '--board', 'sim', ...ephemeral, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  // A failed or timed-out test must not leave a runtime running.
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  let stopping = false;
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (stopOn && !stopping && stopOn.every((re) => re.test(err))) {
      stopping = true;
      child.kill('SIGTERM');
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, err };
}

function jsonLines(t: ExecutionContext, err: string): Line[] {
  const lines = err.split('\n').filter((l) => l !== '');
  t.true(lines.length > 0, 'something was logged');
  return lines.map((l) => {
    let r: Line;
    try {
      r = JSON.parse(l) as Line;
    } catch {
      t.fail(`not a JSON line: ${l}`);
      throw new Error('stop');
    }
    t.regex(r.time, ISO_UTC, l);
    t.true(['debug', 'info', 'warn', 'error'].includes(r.level), l);
    t.is(typeof r.component, 'string', l);
    t.is(typeof r.message, 'string', l);
    return r;
  });
}

test('run --log-format json --no-model --duration 2: only JSON lines on stderr', async (t) => {
  t.timeout(60_000);
  const r = await run(t, ['--log-format', 'json', '--no-model', '--duration', '2']);
  t.is(r.code, 0, r.err);
  const lines = jsonLines(t, r.err);
  t.true(
    lines.some((l) => l.component === 'runtime' && /running board sim/.test(l.message)),
    r.err,
  );
  t.true(
    lines.some((l) => l.component === 'run' && l.message === 'stopped'),
    "the run's own lines are records too",
  );
});

test('run --log-format json with the default model: the loop worker logs JSON lines too', async (t) => {
  t.timeout(90_000);
  // The worker's lines reach stderr through the main thread, not necessarily before its own: wait for both.
  const r = await run(t, ['--log-format', 'json', '--quiet'], [/running board sim/, /"component":"loop","message":"predictor: /]);
  t.is(r.code, 0, r.err);
  const lines = jsonLines(t, r.err);
  const worker = lines.filter((l) => l.component === 'loop');
  t.true(
    worker.some((l) => /^predictor: .*models\/default/.test(l.message)),
    r.err,
  );
  t.true(
    lines.some((l) => l.component === 'runtime' && /runtime stopped/.test(l.message)),
    r.err,
  );
});

test('run in the default text format: main-thread and worker lines have the same shape', async (t) => {
  t.timeout(90_000);
  const r = await run(t, ['--quiet'], [/running board sim/, / \[loop\] predictor: /]);
  t.is(r.code, 0, r.err);
  const lines = r.err.split('\n').filter((l) => l !== '');
  for (const l of lines) t.regex(l, TEXT_LINE);
  t.true(
    lines.some((l) => / \[loop\] predictor: /.test(l)),
    r.err,
  );
  t.true(
    lines.some((l) => / \[runtime\] running board sim/.test(l)),
    r.err,
  );
});

test('a bad --log-format is a usage error naming the choices', async (t) => {
  t.timeout(60_000);
  const r = await run(t, ['--log-format', 'xml', '--no-model']);
  t.is(r.code, 2);
  t.regex(r.err, /--log-format must be one of text, json, got "xml"/);
});

test('with --log-format json a refused start-up is an error record with its code, exit 2', async (t) => {
  t.timeout(60_000);
  const r = await run(t, ['--log-format', 'json', '--no-model', '--board', 'no-such-board']);
  t.is(r.code, 2, r.err);
  const lines = jsonLines(t, r.err);
  const error = lines.find((l) => l.level === 'error');
  t.truthy(error, r.err);
  t.is(error!.component, 'run');
  t.regex(error!.message, /no-such-board/);
  t.regex(error!.code ?? '', /^E_[A-Z_]+$/);
});

test('with --log-format json a usage error (an unknown flag) is a JSON error record too, exit 2', async (t) => {
  const r = await run(t, ['--log-format', 'json', '--no-such-flag']);
  t.is(r.code, 2, r.err);
  const lines = jsonLines(t, r.err);
  t.is(lines.length, 1, r.err);
  t.is(lines[0]!.level, 'error');
  t.is(lines[0]!.code, 'E_USAGE');
  t.regex(lines[0]!.message, /no-such-flag/);
});
