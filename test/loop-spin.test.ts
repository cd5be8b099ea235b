import test from 'ava';
import { Spinner } from '../src/loop/spin.js';
import { monotonicMs } from '../src/time/monotonic.js';

/** A clock that advances 50 ns per read, and a burn that advances it at `unitsPerMs`. */
function fake(unitsPerMs: number): { clock: () => number; burn: (n: number) => void; t: { now: number } } {
  const t = { now: 1000 };
  return {
    t,
    clock: () => (t.now += 0.00005),
    burn: (n) => {
      t.now += n / unitsPerMs;
    },
  };
}

test('calibration measures the work rate against the clock', (t) => {
  const f = fake(250_000);
  const s = new Spinner({ clock: f.clock, burn: f.burn });
  t.true(Math.abs(s.iterationsPerMs - 250_000) / 250_000 < 0.01, String(s.iterationsPerMs));
});

test('spins to the deadline reading the clock a few dozen times, not thousands', (t) => {
  const f = fake(200_000);
  const s = new Spinner({ clock: f.clock, burn: f.burn, iterationsPerMs: 200_000 });
  const deadline = f.t.now + 0.15; // the loop worker's default spin window
  const now = s.until(deadline);
  t.true(now >= deadline);
  t.true(now - deadline < 0.001, `overshoot ${(now - deadline) * 1000} us`);
  // Reading the clock in a tight loop would take 3,000 reads here (50 ns each).
  t.true(s.reads <= 40, `${s.reads} reads`);
});

test('a CPU four times slower than at calibration still does not overshoot', (t) => {
  const f = fake(50_000);
  const s = new Spinner({ clock: f.clock, burn: f.burn, iterationsPerMs: 200_000 });
  const deadline = f.t.now + 0.15;
  const now = s.until(deadline);
  t.true(now >= deadline && now - deadline < 0.001, `overshoot ${(now - deadline) * 1000} us`);
});

test('a CPU faster than at calibration only costs more reads', (t) => {
  const f = fake(2_000_000);
  const s = new Spinner({ clock: f.clock, burn: f.burn, iterationsPerMs: 200_000 });
  const deadline = f.t.now + 0.15;
  const now = s.until(deadline);
  t.true(now >= deadline && now - deadline < 0.001);
  t.true(s.reads <= 300, `${s.reads} reads`); // ten times faster: each burn is a fortieth of what is left
});

test('a deadline already passed returns after one read', (t) => {
  const f = fake(200_000);
  const s = new Spinner({ clock: f.clock, burn: f.burn, iterationsPerMs: 200_000 });
  const before = f.t.now;
  const now = s.until(before - 1);
  t.is(s.reads, 1);
  t.true(now > before);
});

test('on the real clock it reaches the deadline with far fewer reads than a tight loop', (t) => {
  const s = new Spinner({ clock: monotonicMs });
  for (let i = 0; i < 20; i++) {
    const deadline = monotonicMs() + 0.2;
    t.true(s.until(deadline) >= deadline);
    // A tight loop makes one read per ~50 ns: thousands in 200 us.
    t.true(s.reads < 1000, `${s.reads} reads`);
  }
});
