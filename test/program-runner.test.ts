import test from 'ava';
import {
  CALL,
  CHOOSE,
  find,
  FunctionRegistry,
  isCall,
  LOOP,
  ManualClock,
  nodeAt,
  PRINT,
  printProgram,
  ProgramRunner,
  REPEAT,
  reg,
  replace,
  run,
  SEQ,
  SET,
  VirtualClock,
  WAIT,
  WEAVE,
  type Clock,
  type ProgramNode,
  type ProgramSnapshot,
} from '../src/program/index.js';

/** Everything the program does, stamped with the clock. */
function world(clock: Clock) {
  const trace: string[] = [];
  const functions = new FunctionRegistry({
    log: (_c, ...a) => void trace.push(`${clock.now()} ${a.map((x) => JSON.stringify(x)).join(' ')}`),
    inc: (c, name) => {
      const k = typeof name === 'string' ? name : JSON.stringify(name);
      const v = ((c.registers.get(k) as number | undefined) ?? 0) + 1;
      c.registers.set(k, v);
      return v;
    },
    even: (_c, v) => (v as number) % 2 === 0,
  });
  return { trace, functions, print: (line: string) => void trace.push(`${clock.now()} ${line}`), clock };
}

const sample: ProgramNode = SEQ(
  SET('n', 0),
  PRINT('start'),
  REPEAT(
    3,
    SEQ(
      CALL('inc', ['n'], 'last'),
      CALL('even', [reg('last')], 'isEven'),
      CHOOSE(reg('isEven'), { true: CALL('log', ['even', reg('t')]) }, CALL('log', ['odd', reg('t')])),
      WEAVE([SEQ(CALL('log', ['w1', reg('t')]), WAIT(30), CALL('log', ['w1b'])), SEQ(WAIT(10), CALL('log', ['w2', reg('t')]))]),
    ),
    { counter: 't' },
  ),
  SET('go', true),
  LOOP(SEQ(CALL('inc', ['loops']), WAIT(5), CALL('even', [reg('loops')], 'odd'), CHOOSE(reg('odd'), { true: SET('go', false) }, PRINT('loop {loops}'))), {
    while: reg('go'),
  }),
  PRINT('end n={n}'),
);

/** Step by hand as an event loop would: sleep on the clock or in-flight work when told to wait. */
async function stepToEnd(runner: ProgramRunner, clock: Clock, maxSteps = Infinity): Promise<void> {
  while (runner.steps < maxSteps) {
    const r = runner.step();
    if (r.status === 'done') return;
    if (r.status === 'waiting') {
      if (r.until !== null) await clock.sleepUntil(r.until);
      else await runner.settled();
    }
  }
}

test('stepping by hand and run() give the same trace, registers and step count', async (t) => {
  const a = world(new VirtualClock(100));
  const ra = new ProgramRunner(sample, a);
  await ra.run();
  const b = world(new VirtualClock(100));
  const rb = new ProgramRunner(sample, b);
  await stepToEnd(rb, b.clock);
  t.deepEqual(b.trace, a.trace);
  t.deepEqual(rb.registers.toJSON(), ra.registers.toJSON());
  t.is(rb.steps, ra.steps);
  t.true(a.trace.includes('100 start') && a.trace.at(-1) === `${a.clock.now()} end n=3`);
});

test('a snapshot taken after any step, sent through JSON and resumed, finishes identically', async (t) => {
  const ref = world(new VirtualClock(0));
  const whole = new ProgramRunner(sample, ref);
  await whole.run();
  for (let k = 0; k <= whole.steps; k++) {
    const first = world(new VirtualClock(0));
    const r1 = new ProgramRunner(sample, first);
    await stepToEnd(r1, first.clock, k);
    const json = JSON.stringify(r1.snapshot());
    // Resume elsewhere: new functions, new clock at the same time.
    const second = world(new VirtualClock(first.clock.now()));
    const r2 = ProgramRunner.restore(JSON.parse(json) as ProgramSnapshot, second);
    await r2.run();
    t.deepEqual([...first.trace, ...second.trace], ref.trace, `split after ${k} steps`);
    t.deepEqual(r2.registers.toJSON(), whole.registers.toJSON());
    t.is(r2.steps, whole.steps);
  }
});

test('pending WAIT deadlines move with the clock of the resuming side', (t) => {
  const clock = new ManualClock(1000);
  const r1 = new ProgramRunner(SEQ(WAIT(2000), PRINT('x')), { clock, print: () => {} });
  t.deepEqual(r1.step(), { status: 'waiting', until: 3000, io: false });
  clock.advance(500);
  const snap = JSON.parse(JSON.stringify(r1.snapshot())) as ProgramSnapshot;
  const later = new ManualClock(50_000);
  const r2 = ProgramRunner.restore(snap, { clock: later, print: () => {} });
  t.deepEqual(r2.step(), { status: 'waiting', until: 51_500, io: false }, '1500 ms were still to wait');
});

test('a snapshot refuses in-flight work unless asked to restart it', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const calls: string[] = [];
  const functions = new FunctionRegistry({
    slow: async (_c, tag) => {
      calls.push(typeof tag === 'string' ? tag : JSON.stringify(tag));
      await gate;
      return 'ok';
    },
  });
  const r1 = new ProgramRunner(SEQ(CALL('slow', ['first'], 'r'), PRINT('{r}')), { functions, print: () => {} });
  t.is(r1.step().status, 'waiting');
  t.throws(() => r1.snapshot(), { code: 'E_PROGRAM_STATE', message: /work is in flight/ });
  const snap = JSON.parse(JSON.stringify(r1.snapshot({ restartInFlight: true }))) as ProgramSnapshot;
  const lines: string[] = [];
  const r2 = ProgramRunner.restore(snap, { functions, print: (l) => lines.push(l) });
  release();
  await r2.run();
  await r1.run();
  t.deepEqual(calls, ['first', 'first'], 'the CALL ran again on the resumed side');
  t.deepEqual(lines, ['ok']);
});

test('find locates nodes; replace inserts hooks without touching the original', async (t) => {
  const marks = find(sample, isCall('log'));
  t.is(marks.length, 5);
  t.deepEqual(marks[0]!.path, ['body', 2, 'body', 'body', 2, 'cases', 'true']);
  t.is(nodeAt(sample, marks[0]!.path), marks[0]!.node);
  const before = JSON.stringify(sample);
  const hooked = replace(sample, isCall('log'), (n) => SEQ(CALL('hook'), n));
  t.is(JSON.stringify(sample), before);
  t.is(find(hooked, isCall('hook')).length, 5);
  t.is(find(hooked, isCall('log')).length, 5, 'replacements are not searched again');
  const c = world(new VirtualClock());
  let hooks = 0;
  await run(hooked, { ...c, functions: c.functions.merge(new FunctionRegistry({ hook: () => void hooks++ })) });
  t.is(hooks, c.trace.filter((l) => !/ (start|loop \d|end n=3)$/.test(l)).length);
});

test('printProgram renders the tree as readable code', (t) => {
  const p = SEQ(
    SET('x', 1),
    REPEAT(10, SEQ(CALL('prompt', ['rest', reg('trial')]), WAIT(5000)), { counter: 'trial' }),
    CHOOSE(reg('x'), { 1: PRINT('one') }, PRINT('other')),
    WEAVE([CALL('a', [], 'ra'), LOOP(WAIT(reg('dt')), { while: reg('go') })], { required: 1 }),
  );
  t.is(
    printProgram(p),
    [
      'SEQ {',
      '  SET x = 1',
      '  REPEAT 10 as trial {',
      '    SEQ {',
      '      CALL prompt("rest", $trial)',
      '      WAIT 5000 ms',
      '    }',
      '  }',
      '  CHOOSE $x {',
      '    case "1":',
      '      PRINT "one"',
      '    default:',
      '      PRINT "other"',
      '  }',
      '  WEAVE until 1 done {',
      '    CALL a() -> ra',
      '    LOOP while $go {',
      '      WAIT $dt ms',
      '    }',
      '  }',
      '}',
    ].join('\n'),
  );
});

test('run() stops on abort with E_PROGRAM_ABORTED', async (t) => {
  const clock = new ManualClock(0);
  const ac = new AbortController();
  const done = run(LOOP(WAIT(1000)), { clock, signal: ac.signal });
  await new Promise((r) => setImmediate(r));
  t.is(clock.pending, 1, 'parked on the clock, not spinning');
  ac.abort();
  await t.throwsAsync(done, { code: 'E_PROGRAM_ABORTED' });
});
