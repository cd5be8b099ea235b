import test from 'ava';
import { Rng, logFactorial } from '../src/streams/rng.js';

test('same seed, same sequence; different seeds differ', (t) => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 8 }, () => a.nextUint32());
  t.deepEqual(
    sa,
    Array.from({ length: 8 }, () => b.nextUint32()),
  );
  t.notDeepEqual(
    sa,
    Array.from({ length: 8 }, () => c.nextUint32()),
  );
  a.seed(42);
  t.is(a.nextUint32(), sa[0]!);
});

test('random() is uniform in [0, 1): mean, variance and decile counts', (t) => {
  const r = new Rng(7);
  const N = 200_000;
  const bins = new Float64Array(10);
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < N; i++) {
    const u = r.random();
    if (!(u >= 0 && u < 1)) t.fail(`u=${u}`);
    sum += u;
    sq += u * u;
    bins[Math.floor(u * 10)]!++;
  }
  const mean = sum / N;
  t.true(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / N), `mean ${mean}`);
  t.true(Math.abs(sq / N - mean * mean - 1 / 12) < 0.002);
  // Each decile ~ Binomial(N, 0.1): 5 sigma.
  const sd = Math.sqrt(N * 0.1 * 0.9);
  for (const b of bins) t.true(Math.abs(b - N / 10) < 5 * sd, `bin ${b}`);
});

test('poisson: mean and variance ~= lam on both sampler paths', (t) => {
  const r = new Rng(123);
  for (const lam of [0.3, 2, 11.5, 12, 40, 256, 5000]) {
    const N = 40_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < N; i++) {
      const k = r.poisson(lam);
      t.true(Number.isInteger(k) && k >= 0);
      sum += k;
      sq += k * k;
    }
    const mean = sum / N;
    const variance = sq / N - mean * mean;
    t.true(Math.abs(mean - lam) < 5 * Math.sqrt(lam / N), `lam ${lam}: mean ${mean}`);
    // Var of the sample variance of a Poisson ~ (lam + 2 lam^2) / N.
    t.true(Math.abs(variance - lam) < 5 * Math.sqrt((lam + 2 * lam * lam) / N), `lam ${lam}: variance ${variance}`);
  }
  t.is(r.poisson(0), 0);
  t.throws(() => r.poisson(-1), { instanceOf: RangeError });
  t.throws(() => r.poisson(Number.NaN), { instanceOf: RangeError });
});

test('poisson(lam=3) probabilities match the pmf', (t) => {
  const r = new Rng(99);
  const N = 100_000;
  const counts = new Float64Array(12);
  for (let i = 0; i < N; i++) {
    const k = r.poisson(3);
    if (k < 12) counts[k]!++;
  }
  for (let k = 0; k < 12; k++) {
    const p = Math.exp(-3 + k * Math.log(3) - logFactorial(k));
    t.true(Math.abs(counts[k]! - N * p) < 5 * Math.sqrt(N * p * (1 - p)) + 1, `k=${k}: ${counts[k]} vs ${N * p}`);
  }
});

test('logFactorial: table and Stirling agree at the seam', (t) => {
  let exact = 0;
  for (let i = 2; i <= 300; i++) exact += Math.log(i);
  t.true(Math.abs(logFactorial(300) - exact) < 1e-9 * exact);
  t.is(logFactorial(0), 0);
  t.is(logFactorial(1), 0);
});

test('shuffle is a permutation and int stays in range', (t) => {
  const r = new Rng(5);
  const a = Int32Array.from({ length: 50 }, (_, i) => i);
  r.shuffle(a);
  t.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
  for (let i = 0; i < 1000; i++) {
    const k = r.int(7);
    t.true(k >= 0 && k < 7 && Number.isInteger(k));
  }
});
