import test from 'ava';
import { convergenceSeconds, parseTruth, scoreAgainstTruth, type MappedBlock } from '../src/testing/sim-truth.js';

// Frames of 4 samples at 1 kHz whose true times run 100 ppm slow: 4.0004 ms per frame.
const text = Array.from({ length: 6 }, (_, k) => `${k} ${k * 4} ${5_000_000 + k * 4000} ${1_000_000_000_000 + k * 4_000_400}`).join('\n') + '\ngarbage line\n';

test('parseTruth reads `seq first_sample t_us true_ns` lines and skips others', (t) => {
  const truth = parseTruth(text);
  t.is(truth.length, 6);
  t.deepEqual(truth[1], { seq: 1, firstSample: 4, tUs: 5_004_000, trueMs: 1_000_000 + 4.0004 });
});

test('scoreAgainstTruth scores every sample against interpolated true times', (t) => {
  const truth = parseTruth(text);
  const exact: MappedBlock[] = truth.map((f) => ({ seq: f.seq, samples: 4, hostTimeMs: f.trueMs, hostPeriodMs: 1.0001, arrivalMs: f.trueMs + 5 }));
  const s = scoreAgainstTruth(exact, truth, 0);
  t.is(s.n, 5 * 4, 'the last frame has no successor to interpolate to');
  t.true(s.maxMs < 1e-6, `${s.maxMs}`);
  // Off by +0.5 ms on one frame, with the nominal (wrong) period on another.
  const off = exact.map((m) => ({ ...m }));
  off[0]!.hostTimeMs += 0.5;
  off[1]!.hostPeriodMs = 1;
  off[2]!.hostTimeMs = Number.NaN;
  const s2 = scoreAgainstTruth(off, truth, 0);
  t.is(s2.unmapped, 1);
  t.is(s2.n, 4 * 4);
  t.true(Math.abs(s2.maxMs - 0.5) < 1e-6);
  t.true(Math.abs(s2.meanMs - (4 * 0.5 - (0.0001 + 0.0002 + 0.0003)) / 16) < 1e-9);
  // Only blocks that arrived from `fromMs` on count.
  t.is(scoreAgainstTruth(off, truth, off[3]!.arrivalMs).n, 2 * 4);
});

test('convergenceSeconds: time until the error stays within the bound', (t) => {
  const truth = parseTruth(text);
  const mapped: MappedBlock[] = truth.map((f, k) => ({
    seq: f.seq,
    samples: 4,
    hostTimeMs: f.trueMs + (k < 3 ? 2 : 0.1),
    hostPeriodMs: 1,
    arrivalMs: 100 + k * 1000,
  }));
  t.is(convergenceSeconds(mapped, truth, 100, 0.25), 2);
  t.is(convergenceSeconds(mapped, truth, 100, 5), 0);
});
