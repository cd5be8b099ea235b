/**
 * The scope's display decimation: every bucket reports exactly the smallest and largest
 * sample that fell in it, whatever the block sizes, and the binary frame carries those
 * values unchanged to a reader.
 */
import test from 'ava';
import fc from 'fast-check';
import { MinMaxDecimator } from '../src/scope/decimator.js';
import { decodeFrame, encodeFrame } from '../src/scope/frame.js';
import { TrackerHistory } from '../src/scope/tracker-history.js';
import { ScopeView } from '../src/scope/view.js';

/** Channel-major blocks cut from one sample-major signal at the given sizes. */
function blocks(signal: number[][], sizes: number[]): Array<{ data: Float32Array; samples: number; first: number }> {
  const out: Array<{ data: Float32Array; samples: number; first: number }> = [];
  const C = signal[0]!.length;
  let at = 0;
  for (const s of sizes) {
    const n = Math.min(s, signal.length - at);
    if (n <= 0) break;
    const data = new Float32Array(C * n);
    for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) data[c * n + i] = signal[at + i]![c]!;
    out.push({ data, samples: n, first: at });
    at += n;
  }
  return out;
}

function drain(d: MinMaxDecimator): { times: number[]; min: number[][]; max: number[][] } {
  const cap = d.capacity;
  const t = new Float64Array(cap);
  const mn = new Float32Array(cap * d.channels);
  const mx = new Float32Array(cap * d.channels);
  const n = d.take(t, mn, mx);
  const min: number[][] = [];
  const max: number[][] = [];
  for (let c = 0; c < d.channels; c++) {
    min.push(Array.from(mn.subarray(c * n, c * n + n)));
    max.push(Array.from(mx.subarray(c * n, c * n + n)));
  }
  return { times: Array.from(t.subarray(0, n)), min, max };
}

test('each bucket holds the exact min and max of its samples, for any block sizes', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 20, max: 300 }),
      fc.constantFrom(0.5, 1, 0.25),
      fc.double({ min: 0.3, max: 17, noNaN: true }),
      fc.double({ min: 1000, max: 1e7, noNaN: true }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 0, max: 2 ** 31 }),
      (C, N, period, bucketMs, t0, sizes, seed) => {
        // Float32 values, so the reference sees what the decimator stores.
        let s = seed;
        const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2000 - 1000;
        const signal = Array.from({ length: N }, () => Array.from({ length: C }, () => Math.fround(rnd())));
        const d = new MinMaxDecimator(C, bucketMs, 4096);
        let fed = 0;
        for (const b of blocks(signal, [...sizes, N])) {
          d.push(b.data, b.samples, t0 + b.first * period, period);
          fed += b.samples;
        }
        d.flush();
        const got = drain(d);
        // Reference: group samples by bucket index directly.
        const groups = new Map<number, number[][]>();
        for (let i = 0; i < fed; i++) {
          const b = Math.floor((t0 + i * period) / bucketMs);
          if (!groups.has(b)) groups.set(b, []);
          groups.get(b)!.push(signal[i]!);
        }
        const keys = [...groups.keys()].sort((a, b) => a - b);
        t.deepEqual(
          got.times,
          keys.map((k) => k * bucketMs),
        );
        for (let c = 0; c < C; c++) {
          t.deepEqual(
            got.min[c],
            keys.map((k) => Math.min(...groups.get(k)!.map((row) => row[c]!))),
          );
          t.deepEqual(
            got.max[c],
            keys.map((k) => Math.max(...groups.get(k)!.map((row) => row[c]!))),
          );
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('a one-sample spike survives decimation; NaN is skipped, an all-NaN bucket reports NaN', (t) => {
  const d = new MinMaxDecimator(2, 10, 16);
  const S = 40; // 40 samples at 1 ms: buckets [0,10) [10,20) [20,30) [30,40)
  const data = new Float32Array(2 * S);
  data[17] = 1e6; // channel 0, sample 17
  data[S + 3] = -5; // channel 1, sample 3
  for (let i = 20; i < 30; i++) data[S + i] = Number.NaN; // channel 1, bucket 2 all NaN
  data[S + 31] = Number.NaN; // one NaN among numbers
  data[S + 32] = 7;
  d.push(data, S, 0, 1);
  d.flush();
  const r = drain(d);
  t.deepEqual(r.times, [0, 10, 20, 30]);
  t.deepEqual(r.max[0], [0, 1e6, 0, 0]);
  t.deepEqual(r.min[1]!.slice(0, 2), [-5, 0]);
  t.true(Number.isNaN(r.min[1]![2]!) && Number.isNaN(r.max[1]![2]!));
  t.deepEqual([r.min[1]![3], r.max[1]![3]], [0, 7]);
});

test('time stepping back folds into the open bucket and is counted; a full ring drops the oldest', (t) => {
  const d = new MinMaxDecimator(1, 1, 3);
  d.push(Float32Array.of(1, 2), 2, 100, 0.5); // bucket 100
  d.push(Float32Array.of(9), 1, 99.2, 1); // earlier: folded into 100
  d.push(Float32Array.of(3, 4, 5, 6), 4, 101, 1); // buckets 101..104
  d.flush();
  t.is(d.stats().late, 1);
  t.is(d.stats().overflow, 2); // 5 buckets through a ring of 3
  const r = drain(d);
  t.deepEqual(r.times, [102, 103, 104]);
  t.deepEqual(r.max[0], [4, 5, 6]);
  t.is(d.pending, 0);
  t.throws(() => d.push(new Float32Array(3), 2, 0, 1), { instanceOf: RangeError });
});

test('frames round-trip: header, sections and 8-byte aligned arrays', (t) => {
  const times = Float64Array.of(10, 20, 30);
  const min = Float32Array.of(1, 2, 3, -1, -2, -3, 0.5, 0.25, 0.125);
  const max = Float32Array.of(4, 5, 6, 7, 8, 9, 10, 11, 12);
  const buf = encodeFrame({ seq: 77, serverMs: 1234.5, pubMs: Number.NaN }, [
    { stream: 'emg.raw', channels: 3, buckets: 3, bucketMs: 10, times, min, max },
    { stream: 'tracker', channels: 1, buckets: 1, bucketMs: 10, times: Float64Array.of(20), min: Float32Array.of(2), max: Float32Array.of(3) },
  ]);
  t.is(buf.length % 8, 0);
  const f = decodeFrame(buf);
  t.is(f.seq, 77);
  t.is(f.serverMs, 1234.5);
  t.true(Number.isNaN(f.pubMs));
  t.is(f.sections.length, 2);
  t.deepEqual(Array.from(f.sections[0]!.times), [10, 20, 30]);
  t.deepEqual(Array.from(f.sections[0]!.min), Array.from(min));
  t.deepEqual(Array.from(f.sections[0]!.max), Array.from(max));
  t.is(f.sections[1]!.stream, 'tracker');
  t.deepEqual(Array.from(f.sections[1]!.max), [3]);
  t.throws(() => decodeFrame(buf.subarray(0, 40)), { instanceOf: RangeError });
});

test('a view decimates per its window and width; a dropped frame discards its buckets; batches are capped', (t) => {
  const v = new ScopeView({ windowMs: 1000, width: 500 }); // 2 ms buckets
  t.is(v.bucketMs, 2);
  v.describe('emg.raw', 2);
  const data = new Float32Array(2 * 20).map((_, i) => i);
  v.pushBlock('emg.raw', data, 20, 0, 0.5, 123); // 10 ms of samples: buckets 0..8 closed, 9 open
  const f = decodeFrame(v.takeFrame(1, 50)!);
  t.is(f.sections[0]!.buckets, 4); // 20 samples at 0.5 ms in 2 ms buckets: 5 buckets, the last still open
  t.deepEqual(Array.from(f.sections[0]!.min.subarray(0, 4)), [0, 4, 8, 12]);
  t.deepEqual(Array.from(f.sections[0]!.max.subarray(4, 8)), [23, 27, 31, 35]);
  t.is(v.takeFrame(2, 60), undefined);
  v.pushBlock('emg.raw', data, 20, 10, 0.5, 124);
  t.true(v.discardFrame() > 0);
  t.is(v.takeFrame(3, 70), undefined);
  for (let i = 0; i < 700; i++) v.pushBatch('prediction', { i });
  t.is(v.batchOverflow, 100);
  const b = v.takeBatch()!;
  t.is((b.prediction as unknown[]).length, 600);
  t.is(v.takeBatch(), undefined);
});

test('tracker history answers with the newest sample at or before a time', (t) => {
  const h = new TrackerHistory(4);
  h.push(['a', 'b'], Float32Array.of(1, 2, 3, 10, 20, 30), 3, 100, 10); // a: 1,2,3 b: 10,20,30 at 100,110,120
  t.is(h.at('a', 115), 2);
  t.is(h.at('b', 120), 30);
  t.true(Number.isNaN(h.at('a', 99)));
  t.true(Number.isNaN(h.at('c', 120)));
  h.push(['a', 'b'], Float32Array.of(4, 5, 40, 50), 2, 130, 10); // ring of 4 keeps 110..140
  t.true(Number.isNaN(h.at('a', 105)));
  t.is(h.at('a', 1e9), 5);
});
