import test from 'ava';
import { createBlock, type SampleBlock } from '../src/core/block.js';
import { Aligner } from '../src/align/aligner.js';
import { EmgRing } from '../src/align/emg-ring.js';
import { TrackerRing } from '../src/align/tracker-ring.js';
import { buildTrainingSet } from '../src/align/dataset.js';

const RATE = 1000; // 1 ms per sample keeps expected values easy to write down
const T0 = 10_000;

/** Sample i of channel c carries the value i*10 + c: every value says where it came from. */
function block(first: number, samples: number, channels = 3, opts: { rate?: number; t0?: number; valid?: boolean } = {}): SampleBlock {
  const rate = opts.rate ?? RATE;
  const b = createBlock({ stream: 'emg', channels, samples, rate });
  for (let c = 0; c < channels; c++) for (let i = 0; i < samples; i++) b.data[c * samples + i] = (first + i) * 10 + c;
  b.firstSample = first;
  b.hostPeriodMs = 1000 / rate;
  b.hostTimeMs = (opts.t0 ?? T0) + first * b.hostPeriodMs;
  b.valid = opts.valid ?? true;
  return b;
}

test('window is time-major [samples x channels], oldest first, ending at the last sample at or before atMs', (t) => {
  const ring = new EmgRing({ channels: 3, rate: RATE, capacitySeconds: 1 });
  for (let f = 0; f < 100; f += 4) ring.push(block(f, 4));
  const out = new Float32Array(5 * 3);
  t.is(ring.windowSamples(5), 5);
  // Samples 95..99 are at T0+95..T0+99 ms.
  t.true(ring.window(T0 + 99, 5, out));
  t.deepEqual(Array.from(out), [950, 951, 952, 960, 961, 962, 970, 971, 972, 980, 981, 982, 990, 991, 992]);
  // Between samples: the last one at or before the instant ends the window.
  t.true(ring.window(T0 + 50.7, 5, out));
  t.deepEqual(Array.from(out.subarray(0, 3)), [460, 461, 462]);
  t.deepEqual(Array.from(out.subarray(12)), [500, 501, 502]);
});

test('aligner windows are time-major and slide one sample at a time as blocks come; a block with other channels is refused', (t) => {
  // The runtime asks for the window ending at each feature block's last sample.
  const aligner = new Aligner({ capacitySeconds: 1 });
  aligner.addEmg('emg', { channels: 2, rate: RATE });
  const out = new Float32Array(3 * 2);
  aligner.pushBlock(block(0, 2, 2));
  t.false(aligner.window(T0 + 1, 3, out), 'only 2 of 3 samples yet');
  aligner.pushBlock(block(2, 2, 2));
  t.true(aligner.window(T0 + 2, 3, out));
  t.deepEqual(Array.from(out), [0, 1, 10, 11, 20, 21]);
  t.true(aligner.window(T0 + 3, 3, out));
  t.deepEqual(Array.from(out), [10, 11, 20, 21, 30, 31], 'one sample on, the newest last');
  t.throws(() => aligner.pushBlock(block(4, 1, 3)), { instanceOf: RangeError, message: /3 channels, the ring 2/ });
});

test('window is invalid when data has not arrived, was overwritten, or is before the stream', (t) => {
  const ring = new EmgRing({ channels: 3, rate: RATE, capacitySeconds: 0.05 }); // 50 samples
  for (let f = 0; f < 100; f += 4) ring.push(block(f, 4));
  const out = new Float32Array(10 * 3);
  t.true(ring.window(T0 + 99, 10, out));
  t.false(ring.window(T0 + 100, 10, out), 'sample 100 not yet arrived');
  t.false(ring.window(T0 + 55, 10, out), 'samples 46..49 overwritten');
  t.true(ring.window(T0 + 59, 10, out));
  const fresh = new EmgRing({ channels: 3, rate: RATE, capacitySeconds: 1 });
  t.false(fresh.window(T0, 10, out), 'empty ring');
  fresh.push(block(0, 4));
  t.false(fresh.window(T0 + 3, 10, out), 'window reaches before the first sample');
  t.deepEqual(Array.from(out.subarray(0, 18)), new Array(18).fill(0), 'missing rows are zeroed');
  t.deepEqual(Array.from(out.subarray(18)), [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
  t.throws(() => fresh.window(T0, 20, out), { instanceOf: RangeError, message: /60 floats/ });
});

test('gaps are marked invalid, a late block fills them, invalid blocks stay invalid', (t) => {
  const ring = new EmgRing({ channels: 3, rate: RATE, capacitySeconds: 1 });
  const late = block(8, 4);
  ring.push(block(0, 4));
  ring.push(block(4, 4));
  ring.push(block(12, 4)); // 8..11 missing
  t.is(ring.counters.missingSamples, 4);
  const out = new Float32Array(6 * 3);
  t.true(ring.window(T0 + 7, 6, out));
  t.false(ring.window(T0 + 13, 6, out));
  t.deepEqual(Array.from(out.subarray(3 * 3, 4 * 3)), [0, 0, 0], 'missing sample 11 is zeroed, not filled');
  ring.push(late);
  t.is(ring.counters.lateFilled, 1);
  t.true(ring.window(T0 + 13, 6, out));
  t.deepEqual(Array.from(out), [80, 81, 82, 90, 91, 92, 100, 101, 102, 110, 111, 112, 120, 121, 122, 130, 131, 132]);
  ring.push(block(16, 4, 3, { valid: false }));
  t.false(ring.window(T0 + 19, 6, out));
  t.true(ring.window(T0 + 15, 6, out));
  // A block without host time is stored as invalid.
  const unmapped = block(20, 4);
  unmapped.hostTimeMs = Number.NaN;
  ring.push(unmapped);
  t.is(ring.counters.unmapped, 1);
  ring.push(block(24, 4));
  t.false(ring.window(T0 + 25, 6, out));
  t.true(ring.window(T0 + 27, 4, out));
});

test('an index restart with time moving on clears the ring; a too-old block is dropped', (t) => {
  const ring = new EmgRing({ channels: 3, rate: RATE, capacitySeconds: 0.02 });
  for (let f = 0; f < 40; f += 4) ring.push(block(f, 4));
  ring.push(block(0, 4)); // same times as before: late and already overwritten
  t.is(ring.counters.tooOld, 1);
  ring.push(block(0, 4, 3, { t0: T0 + 1000 })); // restarted counting a second later
  t.is(ring.counters.restarts, 1);
  t.is(ring.newestIndex, 3);
  const out = new Float32Array(4 * 3);
  t.true(ring.window(T0 + 1003, 4, out));
  t.deepEqual(Array.from(out.subarray(0, 3)), [0, 1, 2]);
  t.false(ring.window(T0 + 39, 4, out));
});

test('drift-corrected period places instants on the right samples', (t) => {
  const ring = new EmgRing({ channels: 1, rate: 1000, capacitySeconds: 1 });
  for (let f = 0; f < 200; f += 10) {
    const b = block(f, 10, 1);
    b.hostPeriodMs = 1.0005; // device 500 ppm slow
    b.hostTimeMs = T0 + f * 1.0005;
    ring.push(b);
  }
  const out = new Float32Array(1);
  // Sample 199 is at T0 + 199.0995: nominal 1 ms spacing would have put it at 199.
  t.true(ring.window(T0 + 199.1, 1, out));
  t.is(out[0], 1990);
  t.true(ring.window(T0 + 199.09, 1, out));
  t.is(out[0], 1980);
});

test('tracker target interpolates linearly, exact at samples, refuses wide gaps and the outside', (t) => {
  const ring = new TrackerRing({ dims: 2, capacity: 16, maxGapMs: 30 });
  const v = new Float32Array(2);
  const push = (time: number, a: number, b: number, valid = true) => {
    v[0] = a;
    v[1] = b;
    return ring.push({ hostTimeMs: time, values: v, valid });
  };
  push(100, 0, 10);
  push(110, 10, 30);
  push(120, 20, 20);
  push(160, 60, 60); // 40 ms gap
  const out = new Float32Array(2);
  t.true(ring.target(110, out));
  t.deepEqual(Array.from(out), [10, 30]);
  t.true(ring.target(102.5, out));
  t.deepEqual(Array.from(out), [2.5, 15]);
  t.true(ring.target(115, out));
  t.deepEqual(Array.from(out), [15, 25]);
  t.false(ring.target(130, out), 'gap of 40 ms > 30');
  t.deepEqual(Array.from(out), [0, 0]);
  t.true(ring.target(160, out));
  t.false(ring.target(99.9, out), 'before the data');
  t.false(ring.target(160.1, out), 'after the data');
  push(170, 70, 70, false);
  t.false(ring.target(165, out), 'invalid neighbour');
  push(180, 80, Number.NaN);
  t.false(ring.target(180, out), 'non-finite value is invalid');
  t.false(ring.push({ hostTimeMs: Number.NaN, values: v, valid: true }));
  t.is(ring.counters.dropped, 1);
});

test('late tracker samples are inserted in order; older than a full ring are dropped', (t) => {
  const ring = new TrackerRing({ dims: 1, capacity: 5, maxGapMs: 100 });
  const v = new Float32Array(1);
  const push = (time: number) => {
    v[0] = time;
    return ring.push({ hostTimeMs: time, values: v, valid: true });
  };
  for (const time of [10, 30, 20, 50, 40]) t.true(push(time));
  t.is(ring.counters.inserted, 2);
  t.deepEqual(
    [0, 1, 2, 3, 4].map((k) => ring.timeAt(k)),
    [10, 20, 30, 40, 50],
  );
  t.true(push(35)); // full: 10 goes, 35 goes in between
  t.deepEqual(
    [0, 1, 2, 3, 4].map((k) => ring.timeAt(k)),
    [20, 30, 35, 40, 50],
  );
  t.false(push(15), 'older than everything held in a full ring');
  t.is(ring.counters.dropped, 1);
  const out = new Float32Array(1);
  for (const at of [20, 25, 32.5, 37.5, 45, 50]) {
    t.true(ring.target(at, out));
    t.is(out[0], at, `value at ${at}`);
  }
});

test('aligner routes streams, checks names, and keeps memory constant over a simulated hour', (t) => {
  const aligner = new Aligner({ capacitySeconds: 2 });
  aligner.addEmg('emg', { channels: 8, rate: 2000 });
  aligner.addTracker('pose', { dims: 2, maxRateHz: 200, maxGapMs: 50 });
  t.throws(() => aligner.addEmg('emg', { channels: 8, rate: 2000 }), { instanceOf: RangeError });
  const bytes = aligner.memoryBytes;
  t.is(bytes, 4000 * (8 * 4 + 8 + 1) + 400 * (8 + 2 * 4 + 1));
  const b = createBlock({ stream: 'emg', channels: 8, samples: 20, rate: 2000 });
  const sample = { hostTimeMs: 0, values: new Float32Array(2), valid: true };
  const win = new Float32Array(400 * 8);
  const target = new Float32Array(2);
  let validWindows = 0;
  const t0 = 1e6;
  for (let k = 0; k < 3600 * 100; k++) {
    // 10 ms per iteration: one 20-sample EMG block, one tracker sample (100 Hz).
    b.firstSample = k * 20;
    b.hostTimeMs = t0 + k * 10;
    b.hostPeriodMs = 0.5;
    b.data[0] = k;
    aligner.pushBlock(b);
    sample.hostTimeMs = t0 + k * 10 + 3;
    sample.values[0] = k;
    sample.values[1] = -k;
    aligner.pushTracker('pose', sample);
    if (k % 1000 === 999) {
      const at = t0 + k * 10 - 5;
      if (aligner.window(at, 200, win) && aligner.target(at, target)) validWindows++;
      t.is(target[0], Math.fround(k - 0.8));
    }
  }
  t.is(validWindows, 360);
  t.is(aligner.memoryBytes, bytes);
  t.deepEqual(aligner.counters(), {
    emg: { emg: { missingSamples: 0, tooOld: 0, lateFilled: 0, restarts: 0, unmapped: 0 } },
    tracker: { pose: { inserted: 0, dropped: 0 } },
  });
  t.throws(() => aligner.pushBlock({ ...b, stream: 'other' }), { message: /addEmg\("other"/ });
});

test('buildTrainingSet: windows, targets and mask from a gappy recording', (t) => {
  const blocks: SampleBlock[] = [];
  for (let f = 0; f < 1000; f += 10) if (f !== 500) blocks.push(block(f, 10, 2));
  // Tracker at 100 Hz with value = time since T0, so the target equals the instant.
  const tracker = [];
  for (let ms = 0; ms <= 1000; ms += 10) tracker.push({ hostTimeMs: T0 + ms, values: Float32Array.of(ms, 2 * ms), valid: ms !== 800 });
  tracker.reverse(); // any order
  const set = buildTrainingSet(blocks, tracker, { windowMs: 50, hopMs: 25, targetOffsetMs: 5 });
  t.is(set.windowSamples, 50);
  t.is(set.channels, 2);
  t.is(set.dims, 2);
  // First window ends at sample 49 (T0+49); last at or before sample 999.
  t.is(set.timesMs[0], T0 + 49);
  t.is(set.count, Math.floor((999 - 49) / 25) + 1);
  t.is(set.X.length, set.count * 50 * 2);
  // Window k ends at sample 49+25k: its last row is that sample, channels 0 and 1.
  const k = 4;
  const end = 49 + 25 * k;
  t.is(set.valid[k], 1);
  t.deepEqual(Array.from(set.X.subarray((k * 50 + 49) * 2, (k * 50 + 50) * 2)), [end * 10, end * 10 + 1]);
  t.deepEqual(Array.from(set.Y.subarray(k * 2, k * 2 + 2)), [end + 5, 2 * (end + 5)]);
  for (let i = 0; i < set.count; i++) {
    const e = 49 + 25 * i;
    const gapInWindow = e - 49 <= 509 && e >= 500;
    const targetNear800 = e + 5 > 790 && e + 5 < 810;
    const targetOutside = e + 5 > 1000;
    t.is(set.valid[i], gapInWindow || targetNear800 || targetOutside ? 0 : 1, `window ${i} ending at ${e}`);
  }
});
