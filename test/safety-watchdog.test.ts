import test from 'ava';
import { watchEstopInput } from '../src/actuate/estop.js';
import { OutputMap } from '../src/actuate/mapping.js';
import { SafetyLimiter } from '../src/actuate/safety.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';
import { ControlCore } from '../src/loop/core.js';
import { IN, IN_META, OUT, OUT_META } from '../src/loop/messages.js';
import { LoopRunner } from '../src/loop/runner.js';
import { DeadlineSchedule } from '../src/loop/schedule.js';
import { CTRL, createControl, request, SharedFrame } from '../src/loop/shared.js';
import { createStatsFrame, emptyStats, StatsReader, StatsWriter } from '../src/loop/stats.js';
import type { SafetyEvent } from '../src/loop/watchdog.js';
import { servoDefs as defs } from './loop-fixtures.js';

const PERIOD = 1; // ms (1 kHz)

/**
 * The worker's cycle machinery (runner, schedule, shared frames) on a fake clock:
 * the test decides when each cycle starts and how long it takes.
 */
function rig(opts: { staleMs?: number; streak?: number; predict?: (x: Float32Array, y: Float32Array) => void } = {}) {
  const events: SafetyEvent[] = [];
  const predictor = {
    inputSize: 2,
    outputSize: 2,
    predict:
      opts.predict ??
      ((x: Float32Array, y: Float32Array) => {
        y[0] = x[0]!;
        y[1] = x[1]!;
      }),
  };
  const map = new OutputMap(
    [
      { actuator: 'wrist', output: 'a', offset: 1500 },
      { actuator: 'grip', output: 'b', offset: 1000 },
    ],
    defs,
    ['a', 'b'],
  );
  const core = new ControlCore({
    predictor,
    map,
    limiter: new SafetyLimiter(defs),
    watchdog: { staleMs: opts.staleMs ?? 20, overrunStreak: opts.streak ?? 3 },
    startArmed: true,
    onEvent: (e) => events.push(e),
  });
  const sched = new DeadlineSchedule({ rateHz: 1000 / PERIOD, policy: 'skip' }, 0);
  const input = new SharedFrame({ meta: IN_META, f64: 0, f32: 2 });
  const output = new SharedFrame({ meta: OUT_META, f64: 2, f32: 2 });
  const statsFrame = createStatsFrame(64);
  const ctrl = createControl();
  const runner = new LoopRunner({ core, sched, input, output, stats: new StatsWriter(statsFrame, PERIOD), ctrl, streakLimit: opts.streak ?? 3 });
  const outMeta = new Float64Array(OUT_META);
  const cmds = new Float64Array(2);
  const push = (now: number, a: number, b: number): void => {
    input.begin();
    input.f32[0] = a;
    input.f32[1] = b;
    input.meta[IN.publishedAtMs] = now;
    input.end();
  };
  /** One iteration of the worker loop: requests first, then the cycle due now. */
  const step = (compute = 0.1): { cycle: number; safe: boolean; commands: number[] } => {
    const start = sched.deadline;
    runner.control(start);
    runner.cycle(start, () => start + compute);
    output.read(outMeta, cmds, null);
    return { cycle: outMeta[OUT.cycle]!, safe: outMeta[OUT.safe] === 1, commands: Array.from(cmds) };
  };
  return { core, sched, ctrl, events, push, step, stats: new StatsReader(statsFrame) };
}

test('stale input: safe within two periods of the window going stale', (t) => {
  const r = rig({ staleMs: 20 });
  r.push(0.5, 100, 200);
  const first = r.step();
  t.false(first.safe);
  t.deepEqual(first.commands, [1600, 1200]);
  // No more windows after t = 0.5 ms: stale from t > 20.5 ms. Deadlines are at k ms.
  let trippedAt = -1;
  for (let k = 2; k < 40; k++) {
    const s = r.step();
    if (s.safe && trippedAt < 0) trippedAt = r.sched.deadlineOf(s.cycle);
    if (trippedAt >= 0) t.deepEqual(s.commands, [1500, 1000]);
  }
  t.true(trippedAt > 20.5 && trippedAt <= 20.5 + 2 * PERIOD, `tripped at ${trippedAt} ms`);
  t.is(r.events[0]!.reason, 'stale_input');
  t.true(r.events[0]!.entered);
  t.is(r.core.counts.staleInputs, 1);
  // Fresh input again does not release: recovery is explicit.
  r.push(r.sched.deadline, 1, 1);
  t.true(r.step().safe);
  r.push(r.sched.deadline, 1, 1);
  request(r.ctrl, CTRL.release);
  const after = r.step();
  t.false(after.safe);
  t.deepEqual(after.commands, [1501, 1001]);
});

test('predictor throws: safe in the very cycle, reason and message reported, counted', (t) => {
  const r = rig({
    predict: (x, y) => {
      if (x[0] === 13) throw new Error('kernel exploded');
      y[0] = x[0]!;
      y[1] = 0;
    },
  });
  r.push(0, 5, 0);
  t.false(r.step().safe);
  r.push(1, 13, 0);
  const s = r.step();
  t.true(s.safe);
  t.deepEqual(s.commands, [1500, 1000]);
  t.is(r.events.at(-1)!.reason, 'predictor_error');
  t.is(r.events.at(-1)!.detail, 'kernel exploded');
  t.is(r.core.counts.predictorErrors, 1);
  r.push(2, 5, 0);
  t.true(r.step().safe, 'stays safe with good input until release');
});

test('NaN output: safe in the same cycle and counted', (t) => {
  const r = rig({
    predict: (x, y) => {
      y[0] = x[0]! > 10 ? Number.NaN : x[0]!;
      y[1] = 0;
    },
  });
  r.push(0, 5, 0);
  t.false(r.step().safe);
  r.push(1, 11, 0);
  const s = r.step();
  t.true(s.safe);
  t.deepEqual(s.commands, [1500, 1000]);
  t.is(r.events.at(-1)!.reason, 'non_finite');
  t.is(r.core.counts.nonFinite, 1);
});

test('overrun streak: safe on the cycle that completes the streak', (t) => {
  const r = rig({ streak: 3, staleMs: 1000 });
  r.push(0, 1, 1);
  t.false(r.step(0.2).safe);
  // Each of these cycles takes 1.5 periods: each overruns.
  const a = r.step(1.5);
  const b = r.step(1.5);
  t.false(a.safe || b.safe, 'two overruns are tolerated');
  const c = r.step(1.5);
  t.true(c.safe, 'the third consecutive overrun trips the watchdog');
  t.is(r.events.at(-1)!.reason, 'overrun_streak');
  const s = emptyStats();
  t.true(r.stats.read(s));
  t.is(s.overruns, 3);
  t.true(s.skipped >= 3);
  t.true(s.safe);
});

test('e-stop from a GPIO input edge: safe at the next cycle (within two periods)', (t) => {
  const r = rig({ staleMs: 1000 });
  const gpio = new FakeGpio();
  const ref = { chip: 'reflex-sim', line: 3, activeLow: true };
  gpio.drive(ref, 0);
  const sources: string[] = [];
  watchEstopInput(gpio.input(ref, 'rising'), {
    estop: (src) => {
      sources.push(src);
      request(r.ctrl, CTRL.estop);
    },
  });
  r.push(0, 3, 3);
  const before = r.step();
  t.false(before.safe);
  gpio.drive(ref, 1); // button pressed
  t.deepEqual(sources, ['gpio:reflex-sim/3']);
  const next = r.step();
  t.true(next.safe);
  t.true(next.cycle - before.cycle <= 2);
  t.deepEqual(next.commands, [1500, 1000]);
  t.is(r.events.at(-1)!.reason, 'estop');
});

test('e-stop button already pressed at start holds the loop safe', (t) => {
  const gpio = new FakeGpio();
  const ref = { chip: 'reflex-sim', line: 4 };
  gpio.drive(ref, 1);
  const sources: string[] = [];
  watchEstopInput(gpio.input(ref, 'both'), { estop: (s) => sources.push(s) });
  t.deepEqual(sources, ['gpio:reflex-sim/4 (pressed at start)']);
});
