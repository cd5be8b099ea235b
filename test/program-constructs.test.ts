import test from 'ava';
import {
  BUFFER_REPEAT,
  CALL,
  CHOOSE,
  FunctionRegistry,
  LOOP,
  ManualClock,
  PRINT,
  ProgramError,
  ProgramRunner,
  REPEAT,
  reg,
  Registers,
  run,
  SEQ,
  SET,
  SWITCH,
  validateProgram,
  VirtualClock,
  WAIT,
  WEAVE,
  type ProgramNode,
} from '../src/program/index.js';

/** A program context whose PRINT and `log` CALL append to one trace. */
function tracer() {
  const trace: string[] = [];
  const functions = new FunctionRegistry({
    log: (_c, ...args) => void trace.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')),
    add: (_c, a, b) => (a as number) + (b as number),
    boom: () => {
      throw new Error('kaput');
    },
    later: (_c, v) => Promise.resolve(v),
    fails: () => Promise.reject(new Error('async kaput')),
  });
  return { trace, functions, print: (line: string) => void trace.push(line), clock: new VirtualClock() };
}

const log = (...args: Array<string | number | { $reg: string }>) => CALL('log', args);

test('SEQ runs children in order; PRINT fills {register} placeholders; SET writes registers', async (t) => {
  const ctx = tracer();
  const regs = await run(SEQ(SET('who', 'world'), SET('n', 3), PRINT('hello {who} x{n} {missing}'), log('end')), ctx);
  t.deepEqual(ctx.trace, ['hello world x3 {missing}', 'end']);
  t.deepEqual(regs.toJSON(), { n: 3, who: 'world' });
});

test('REPEAT runs its body N times (N may come from a register) with a 0-based counter', async (t) => {
  const ctx = tracer();
  await run(SEQ(SET('times', 3), REPEAT(reg('times'), log('i', reg('i')), { counter: 'i' }), REPEAT(0, log('never'))), ctx);
  t.deepEqual(ctx.trace, ['i 0', 'i 1', 'i 2']);
  await t.throwsAsync(run(REPEAT(-1, log('x')), ctx), { code: 'E_PROGRAM_REGISTER', message: /REPEAT\.times: must be a whole number/ });
});

test('LOOP repeats while its condition register is truthy, checked before each iteration', async (t) => {
  const ctx = tracer();
  const regs = await run(
    SEQ(SET('go', true), SET('x', 0), LOOP(SEQ(CALL('add', [reg('x'), 5], 'x'), CALL('lt', [reg('x'), 20], 'go')), { while: reg('go'), counter: 'k' })),
    {
      ...ctx,
      functions: ctx.functions.merge(new FunctionRegistry({ lt: (_c, a, b) => (a as number) < (b as number) })),
    },
  );
  t.is(regs.get('x'), 20);
  t.is(regs.get('k'), 3);
});

test('CHOOSE/SWITCH runs the named case, the default, or fails naming the cases', async (t) => {
  const ctx = tracer();
  const prog = (v: string | number) => SEQ(SET('mode', v), CHOOSE(reg('mode'), { a: log('A'), 2: log('two') }, log('other')));
  await run(prog('a'), ctx);
  await run(prog(2), ctx);
  await run(prog('zzz'), ctx);
  t.deepEqual(ctx.trace, ['A', 'two', 'other']);
  t.is(SWITCH, CHOOSE);
  const err = await t.throwsAsync(run(CHOOSE('x', { a: log('A') }), ctx));
  t.is((err as ProgramError).code, 'E_PROGRAM_INVALID');
  t.regex(err.message, /no case for "x" and no default \(cases: a\)/);
});

test('WEAVE advances its children in turn, skipping waiting ones', async (t) => {
  const ctx = tracer();
  await run(WEAVE([SEQ(log('a1'), log('a2'), log('a3')), SEQ(log('b1'), WAIT(10), log('b2')), SEQ(log('c1'))]), ctx);
  t.deepEqual(ctx.trace, ['a1', 'b1', 'c1', 'a2', 'a3', 'b2']);
});

test('WEAVE with `required` finishes when that many children are done and abandons the rest', async (t) => {
  const ctx = tracer();
  const regs = await run(
    SEQ(SET('ticks', 0), WEAVE([LOOP(SEQ(CALL('add', [reg('ticks'), 1], 'ticks'), WAIT(100))), SEQ(WAIT(450), log('stop'))], { required: 1 }), log('after')),
    ctx,
  );
  t.deepEqual(ctx.trace, ['stop', 'after']);
  t.is(regs.get('ticks'), 5, 'ticks at 0, 100, 200, 300, 400 ms');
  t.is(ctx.clock.now(), 450);
});

test('WAIT is data: step() reports the deadline and does not block', (t) => {
  const clock = new ManualClock(1000);
  const ctx = tracer();
  const runner = new ProgramRunner(SEQ(log('a'), WAIT(250), log('b')), { ...ctx, clock });
  t.deepEqual(runner.step(), { status: 'running' });
  t.deepEqual(runner.step(), { status: 'waiting', until: 1250, io: false });
  t.deepEqual(runner.step(), { status: 'waiting', until: 1250, io: false }, 'still waiting, nothing ran');
  clock.advance(249);
  t.is(runner.step().status, 'waiting');
  clock.advance(1);
  t.deepEqual(runner.step(), { status: 'running' }, 'the WAIT finishes as a step');
  t.deepEqual(runner.step(), { status: 'done' });
  t.deepEqual(ctx.trace, ['a', 'b']);
  t.deepEqual(runner.step(), { status: 'done' }, 'done stays done');
});

test('an async CALL makes the program wait on io; its result lands in the out register', async (t) => {
  const ctx = tracer();
  const runner = new ProgramRunner(SEQ(CALL('later', ['v1'], 'r'), log('got', reg('r'))), ctx);
  t.deepEqual(runner.step(), { status: 'waiting', until: null, io: true });
  t.is(runner.inFlight, 1);
  await runner.settled();
  t.is(runner.registers.get('r'), 'v1');
  t.deepEqual(runner.step(), { status: 'running' });
  t.deepEqual(runner.step(), { status: 'done' });
  t.deepEqual(ctx.trace, ['got v1']);
});

test('BUFFER_REPEAT collects a register after each iteration into a list', async (t) => {
  const ctx = tracer();
  const regs = await run(BUFFER_REPEAT(4, CALL('add', [reg('k'), reg('k')], 'sq'), { collect: 'sq', into: 'all', counter: 'k' }), ctx);
  t.deepEqual(regs.get('all'), [0, 2, 4, 6]);
});

test('failures carry a code and the path of the failing node; a failed runner refuses to step', async (t) => {
  const ctx = tracer();
  const runner = new ProgramRunner(SEQ(log('a'), REPEAT(2, SEQ(log('b'), CALL('boom')))), ctx);
  runner.step();
  runner.step();
  const err = t.throws<ProgramError>(() => runner.step());
  t.is(err.code, 'E_PROGRAM_CALL');
  t.is(err.where, 'SEQ[1].REPEAT#0.SEQ[1].CALL(boom)');
  t.regex(err.message, /boom failed: kaput/);
  t.throws(() => runner.step(), { code: 'E_PROGRAM_STATE' });
  const cancelled = new ProgramRunner(SEQ(log('a'), log('b')), ctx);
  cancelled.step();
  cancelled.cancel();
  t.throws(() => cancelled.step(), { code: 'E_PROGRAM_STATE', message: /the program was cancelled/ });
  await t.throwsAsync(run(CALL('nope'), ctx), { code: 'E_PROGRAM_UNKNOWN_FN', message: /no function "nope" is registered \(known: add, boom/ });
  await t.throwsAsync(run(SEQ(CALL('fails')), ctx), { code: 'E_PROGRAM_CALL', message: /SEQ\[0\]\.CALL\(fails\): fails failed: async kaput/ });
  await t.throwsAsync(run(log(reg('unset')), ctx), { code: 'E_PROGRAM_REGISTER', message: /register "unset" is not set/ });
});

test('validateProgram rejects malformed trees naming the path', (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [{ op: 'SEQ', body: [{ op: 'CALL' }] }, /^program\.body\[0\]\.fn: required by CALL/],
    [{ op: 'SEQ', body: [{ op: 'REPEAT', times: 2, body: { op: 'NOPE' } }] }, /^program\.body\[0\]\.body\.op: unknown op "NOPE"/],
    [{ op: 'WAIT', ms: 5, extra: 1 }, /^program\.extra: not a field of WAIT/],
    [{ op: 'WEAVE', body: [], required: 2 }, /^program\.required: is 2 but WEAVE has 0 children/],
    [{ op: 'SET', reg: 'x', value: Number.NaN }, /^program\.value: must be JSON/],
    [{ op: 'CHOOSE', which: 1, cases: { a: 5 } }, /^program\.cases\.a: must be a node object/],
    [{ op: 'SPAWN', body: { op: 'PRINT', text: 'x' }, module: './fns.js' }, /^program\.module: must be an absolute path or a file: URL/],
  ];
  for (const [node, re] of bad) {
    const err = t.throws<ProgramError>(() => validateProgram(node));
    t.is(err.code, 'E_PROGRAM_INVALID');
    t.regex(err.message, re);
  }
  t.notThrows(() => validateProgram(JSON.parse(JSON.stringify(SEQ(WAIT(reg('t')), CHOOSE(reg('m'), { a: PRINT('x') }))))));
});

test('registers hold JSON only, typed by key', (t) => {
  const r = new Registers<{ trial: number; name: string }>({ trial: 1 });
  r.set('trial', 2);
  r.set('name', 'x');
  const n: number | undefined = r.get('trial');
  t.is(n, 2);
  t.throws(() => r.set('bad', Number.NaN), { code: 'E_PROGRAM_REGISTER' });
  t.throws(() => r.set('bad', new Date() as unknown as string), { code: 'E_PROGRAM_REGISTER', message: /Date: registers hold JSON values only/ });
  t.throws(() => r.string('trial'), { code: 'E_PROGRAM_REGISTER' });
  t.deepEqual(r.written().sort(), ['name', 'trial']);
});

test('a step runs one leaf; an empty loop iteration still costs a step', (t) => {
  const ctx = tracer();
  const program: ProgramNode = SEQ(SEQ(), log('a'), REPEAT(3, SEQ()), log('b'));
  const runner = new ProgramRunner(program, ctx);
  const statuses: string[] = [];
  for (let i = 0; i < 10 && !runner.done; i++) statuses.push(runner.step().status);
  t.deepEqual(statuses, ['running', 'running', 'running', 'running', 'done']);
  t.is(runner.steps, 5);
});
