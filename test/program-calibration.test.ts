import test from 'ava';
import {
  CALL,
  find,
  FunctionRegistry,
  isCall,
  ProgramRunner,
  replace,
  run,
  SEQ,
  VirtualClock,
  type ProgramNode,
  type ProgramSnapshot,
} from '../src/program/index.js';
import { calibrationFunctions, calibrationProgram, SEGMENTS, type CalibrationMark, type CalibrationPrompt } from '../src/program/protocols/calibration.js';

function session() {
  const prompts: CalibrationPrompt[] = [];
  const marks: CalibrationMark[] = [];
  const functions = calibrationFunctions({ prompt: (p) => void prompts.push(p), mark: (m) => void marks.push(m) });
  return { prompts, marks, functions, clock: new VirtualClock(0), print: () => {} };
}

test('the default session is 10 x (rest 5 s, flex 5 s) with prompts and marked segments', async (t) => {
  const s = session();
  const regs = await run(calibrationProgram(), s);
  t.is(s.clock.now(), 100_000);
  t.is(s.prompts.length, 21);
  t.deepEqual(s.prompts[0], { phase: 'rest', trial: 0, trials: 10, durationMs: 5000 });
  t.deepEqual(s.prompts[1], { phase: 'flex', trial: 0, trials: 10, durationMs: 5000 });
  t.deepEqual(s.prompts[20], { phase: 'done', trial: 10, trials: 10, durationMs: 0 });
  t.is(s.marks.length, 40);
  const segments = regs.get(SEGMENTS) as Array<{ label: string; trial: number; startMs: number; endMs: number }>;
  t.is(segments.length, 20);
  segments.forEach((seg, i) => {
    const trial = Math.floor(i / 2);
    const label = i % 2 === 0 ? 'rest' : 'flex';
    t.deepEqual(seg, { label, trial, startMs: i * 5000, endMs: (i + 1) * 5000 });
  });
});

test('the session survives a snapshot mid-phase and resumes with the same segments', async (t) => {
  const ref = session();
  const whole = await run(calibrationProgram({ trials: 3, restMs: 1000, flexMs: 2000 }), ref);
  const a = session();
  const r1 = new ProgramRunner(calibrationProgram({ trials: 3, restMs: 1000, flexMs: 2000 }), a);
  while (r1.steps < 11) {
    const r = r1.step();
    if (r.status === 'waiting') {
      if (r.until !== null) await a.clock.sleepUntil(r.until);
      else await r1.settled();
    }
  }
  const snap = JSON.parse(JSON.stringify(r1.snapshot())) as ProgramSnapshot;
  const b = session();
  b.clock.advance(a.clock.now());
  const regs = await ProgramRunner.restore(snap, b).run();
  t.deepEqual(regs.get(SEGMENTS), whole.get(SEGMENTS));
  t.deepEqual([...a.marks, ...b.marks], ref.marks);
  t.deepEqual([...a.prompts, ...b.prompts], ref.prompts);
});

test('hooks go in with replace: a cue before every flex prompt', async (t) => {
  const s = session();
  const cues: number[] = [];
  const program: ProgramNode = replace(
    calibrationProgram({ trials: 2, restMs: 100, flexMs: 100 }),
    (n) => isCall('calibration.prompt')(n) && n.op === 'CALL' && n.args?.[0] === 'flex',
    (n) => SEQ(CALL('cue'), n),
  );
  t.is(find(program, isCall('cue')).length, 1, 'one prompt node inside the repeated body');
  await run(program, { ...s, functions: s.functions.merge(new FunctionRegistry({ cue: (c) => void cues.push(c.clock.now()) })) });
  t.deepEqual(cues, [100, 300]);
});

test('calibrationProgram checks its options', (t) => {
  t.throws(() => calibrationProgram({ trials: -1 }), { instanceOf: RangeError, message: /trials must be a whole number/ });
});
