import test from 'ava';
import { DeadlineSchedule, sleepBudgetMs } from '../src/loop/schedule.js';
import { SharedFrame } from '../src/loop/shared.js';
import { createStatsFrame, emptyStats, StatsReader, StatsWriter } from '../src/loop/stats.js';

const safeCounts = { safetyEvents: 0, nonFinite: 0, predictorErrors: 0, staleInputs: 0, inputsSeen: 0, safe: false };

test('deadlines sit on the absolute grid start + k * period', (t) => {
  const s = new DeadlineSchedule({ rateHz: 1000, policy: 'skip' }, 5000);
  t.is(s.periodMs, 1);
  t.is(s.index, 1);
  t.is(s.deadline, 5001);
  t.is(s.complete(5001.3), 0);
  t.is(s.index, 2);
  t.is(s.deadline, 5002);
  t.is(s.overruns, 0);
});

test('no drift over 1e6 cycles on a fake clock, even with a period float cannot represent', (t) => {
  for (const rateHz of [1500, 1000, 7, 2000]) {
    const start = 123456.789;
    const s = new DeadlineSchedule({ rateHz, policy: 'skip' }, start);
    const period = 1000 / rateHz;
    let naive = start;
    let maxErr = 0;
    // Fake clock: each cycle starts exactly at its deadline and takes 30 % of a period.
    for (let k = 1; k <= 1_000_000; k++) {
      naive += period;
      const d = s.deadline;
      const ideal = start + (k * 1000) / rateHz;
      maxErr = Math.max(maxErr, Math.abs(d - ideal));
      s.complete(d + 0.3 * period);
    }
    t.is(s.index, 1_000_001, `${rateHz} Hz ran every cycle`);
    t.is(s.overruns, 0);
    // Only the rounding of one multiply-add (a few ulp of the time value), never an accumulated error.
    const ulps = 4 * Number.EPSILON * (start + 1e6 * period);
    t.true(maxErr <= ulps, `${rateHz} Hz: max deviation from the ideal grid ${maxErr} ms`);
    if (rateHz === 1500) t.true(Math.abs(naive - (start + 1e6 * period)) > 100 * ulps, 'the accumulated sum drifts, the grid does not');
  }
});

test('skip: an overrun drops the missed deadlines and realigns to the next grid point', (t) => {
  const s = new DeadlineSchedule({ rateHz: 1000, policy: 'skip' }, 0);
  // Cycle 1 (deadline 1 ms) finishes at 4.5 ms: deadlines 2, 3, 4 have passed.
  t.is(s.complete(4.5), 3);
  t.is(s.index, 5);
  t.is(s.deadline, 5);
  t.is(s.overruns, 1);
  t.is(s.skipped, 3);
  t.is(s.streak, 1);
  // On time again: the streak resets, counters keep.
  t.is(s.complete(5.2), 0);
  t.is(s.streak, 0);
  t.is(s.maxStreak, 1);
  t.is(s.index, 6);
  // Finishing exactly on the next deadline is an overrun too: that deadline is dropped.
  t.is(s.complete(7), 1);
  t.is(s.index, 8);
  t.is(s.overruns, 2);
});

test('catch-up: missed cycles run back to back, bounded by maxCatchUp', (t) => {
  const s = new DeadlineSchedule({ rateHz: 1000, policy: 'catch-up', maxCatchUp: 2 }, 0);
  // Cycle 1 ends at 2.5: one deadline (2) missed, within the bound: run 2 now.
  t.is(s.complete(2.5), 0);
  t.is(s.index, 2);
  t.true(s.deadline < 2.5, 'the next cycle is already due: it runs immediately');
  t.is(s.complete(2.7), 0);
  t.is(s.index, 3);
  t.is(s.streak, 0, 'cycle 2 ended before deadline 3: caught up');
  // Cycle 3 ends at 10.2: deadlines 4..10 passed (7), keep the last 2 (9, 10), drop 4..8.
  t.is(s.complete(10.2), 5);
  t.is(s.index, 9);
  t.is(s.skipped, 5);
  t.is(s.complete(10.3), 0);
  t.is(s.index, 10);
  t.is(s.complete(10.4), 0);
  t.is(s.index, 11);
  t.is(s.deadline, 11);
  t.is(s.streak, 0);
});

test('catch-up with maxCatchUp 0 behaves like skip; the streak counts consecutive overruns', (t) => {
  const a = new DeadlineSchedule({ rateHz: 500, policy: 'catch-up', maxCatchUp: 0 }, 0);
  const b = new DeadlineSchedule({ rateHz: 500, policy: 'skip' }, 0);
  for (const end of [5.1, 9.9, 20.3]) {
    a.complete(end);
    b.complete(end);
    t.is(a.index, b.index);
  }
  t.is(a.streak, 3);
  t.is(a.skipped, b.skipped);
});

test('bad options are refused with the key named', (t) => {
  t.is(t.throws(() => new DeadlineSchedule({ rateHz: 2001, policy: 'skip' }, 0)).message.includes('1..2000'), true);
  t.is((t.throws(() => new DeadlineSchedule({ rateHz: 100, policy: 'late' as 'skip' }, 0)) as { code?: string }).code, 'E_LOOP_POLICY');
});

test('sleep budget: sleep until spinMs before the deadline, then spin', (t) => {
  t.is(sleepBudgetMs(10, 12, 0.15), 12 - 0.15 - 10);
  t.is(sleepBudgetMs(11.9, 12, 0.15), 0);
  t.is(sleepBudgetMs(13, 12, 0.15), 0);
});

test('shared frame: a reader never accepts a frame the writer is in the middle of', (t) => {
  const w = new SharedFrame({ meta: 1, f64: 2, f32: 3 });
  const r = new SharedFrame(w.layout, w.buffer);
  const m = new Float64Array(1);
  const d = new Float64Array(2);
  const f = new Float32Array(3);
  w.begin();
  w.meta[0] = 7;
  w.f64.set([1, 2]);
  w.f32.set([3, 4, 5]);
  t.false(r.read(m, d, f, 4), 'odd sequence: writer busy');
  w.end();
  t.true(r.changed);
  t.true(r.read(m, d, f));
  t.false(r.changed);
  t.deepEqual([m[0], ...d, ...f], [7, 1, 2, 3, 4, 5]);
  t.is(w.published, 1);
});

test('stats: percentiles over the window, counters, max since start; the reader allocates nothing it keeps', (t) => {
  const frame = createStatsFrame(100);
  const w = new StatsWriter(frame, 1);
  const r = new StatsReader(new SharedFrame(frame.layout, frame.buffer));
  const s = emptyStats();
  t.true(r.read(s));
  t.is(s.cycles, 0);
  t.true(Number.isNaN(s.latenessP50Us));
  const sched = { overruns: 0, skipped: 0, streak: 0, maxStreak: 0 };
  // 250 cycles: lateness k µs for cycle k; the window keeps the last 100 (150..249).
  for (let k = 0; k < 250; k++) w.record(k, k / 1000, 0.002, sched, safeCounts);
  t.true(r.read(s));
  t.is(s.cycles, 250);
  t.is(s.window, 100);
  t.is(s.latenessMaxUs, 249);
  t.is(s.latenessP50Us, 199);
  t.is(s.latenessP99Us, 248);
  t.is(s.latenessMaxAllUs, 249);
  t.true(Math.abs(s.computeP99Us - 2) < 1e-3);
  t.is(s.periodUs, 1000);
  // A spike, then normal cycles: it leaves the window but not the all-time max.
  w.record(250, 0.9, 0.002, { ...sched, overruns: 1, streak: 1, maxStreak: 1 }, { ...safeCounts, safe: true, safetyEvents: 1 });
  for (let k = 0; k < 100; k++) w.record(251 + k, 0.001, 0.002, sched, safeCounts);
  t.true(r.read(s));
  t.is(s.latenessMaxUs, 1);
  t.is(s.latenessMaxAllUs, 900);
  t.is(s.overruns, 0, 'the latest counters are what the writer passed');
  t.is(s.maxOverrunStreak, 0);
});
