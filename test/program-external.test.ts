import test from 'ava';
import { threadId } from 'node:worker_threads';
import { CALL, FunctionRegistry, POPEN, PRINT, ProgramRunner, reg, run, SEQ, SET, SPAWN, VirtualClock, WAIT, WEAVE } from '../src/program/index.js';

const fixture = new URL('./program-spawn-fixture.ts', import.meta.url).href;

test('POPEN captures exit code, stdout and stderr', async (t) => {
  const regs = await run(POPEN(['sh', '-c', 'echo "out $0"; echo err >&2; exit 3', reg('arg')], { out: 'p' }), { registers: { arg: 'x y' } });
  t.deepEqual(regs.get('p'), { code: 3, signal: null, stdout: 'out x y\n', stderr: 'err\n' });
});

test('POPEN with check fails on a non-zero exit; missing commands and timeouts fail with E_PROGRAM_POPEN', async (t) => {
  await t.throwsAsync(run(POPEN(['sh', '-c', 'echo bad >&2; exit 2'], { check: true })), { code: 'E_PROGRAM_POPEN', message: /POPEN: sh exited with 2: bad/ });
  await t.throwsAsync(run(POPEN(['/nonexistent/reflex-cmd'])), { code: 'E_PROGRAM_POPEN', message: /could not run "\/nonexistent\/reflex-cmd"/ });
  await t.throwsAsync(run(POPEN(['sleep', '5'], { timeoutMs: 50 })), { code: 'E_PROGRAM_POPEN', message: /timed out after 50 ms/ });
});

test('the program keeps stepping other WEAVE branches while a POPEN runs', async (t) => {
  const lines: string[] = [];
  const regs = await run(WEAVE([POPEN(['sh', '-c', 'read x < /dev/null; echo done'], { out: 'p' }), SEQ(PRINT('b1'), PRINT('b2'))]), {
    print: (l) => lines.push(l),
  });
  t.deepEqual(lines, ['b1', 'b2']);
  t.is((regs.get('p') as { stdout: string }).stdout, 'done\n');
});

for (const mode of ['thread', 'process'] as const) {
  test(`SPAWN (${mode}) runs a fragment elsewhere and merges the registers it wrote back`, async (t) => {
    const lines: string[] = [];
    const regs = await run(
      SEQ(
        SET('x', 7),
        SET('keep', 'parent'),
        SPAWN(SEQ(CALL('square', [reg('x')], 'x2'), CALL('where', [], 'at'), PRINT('child sees x={x}')), { module: fixture, mode }),
        PRINT('parent sees x2={x2}'),
      ),
      { print: (l) => lines.push(l) },
    );
    t.is(regs.get('x2'), 49);
    t.is(regs.get('keep'), 'parent', 'registers the fragment did not write are untouched');
    const at = regs.get('at') as { pid: number; thread: number };
    if (mode === 'thread') {
      t.is(at.pid, process.pid);
      t.not(at.thread, threadId);
    } else {
      t.not(at.pid, process.pid);
    }
    t.deepEqual(lines, ['child sees x=7', 'parent sees x2=49']);
  });
}

test('SPAWN merges only the listed registers when `merge` is given, and reports fragment failures', async (t) => {
  const regs = await run(SEQ(SPAWN(SEQ(SET('a', 1), SET('b', 2)), { merge: ['b'] })));
  t.deepEqual(regs.toJSON(), { b: 2 });
  await t.throwsAsync(run(SEQ(SET('x', 1), SPAWN(CALL('fail'), { module: fixture }))), {
    code: 'E_PROGRAM_SPAWN',
    message: /SEQ\[1\]\.SPAWN: the spawned fragment failed: E_PROGRAM_CALL .*fragment failure/,
  });
});

test('a SPAWNed fragment runs while the parent steps other branches, on the parent clock', async (t) => {
  const clock = new VirtualClock(1000);
  const order: string[] = [];
  const functions = new FunctionRegistry({ note: (_c, s) => void order.push(typeof s === 'string' ? s : JSON.stringify(s)) });
  const runner = new ProgramRunner(
    WEAVE([SPAWN(SEQ(WAIT(500), CALL('square', [3], 'nine'), CALL('where', [], 'at')), { module: fixture }), SEQ(CALL('note', ['p1']), CALL('note', ['p2']))]),
    { clock, functions },
  );
  const regs = await runner.run();
  t.deepEqual(order, ['p1', 'p2']);
  t.is(regs.get('nine'), 9);
  t.deepEqual(Object.keys(regs.toJSON()).sort(), ['at', 'nine']);
});
