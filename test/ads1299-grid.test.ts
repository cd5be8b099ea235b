/**
 * The ADS1299 driver's sample grid: samples are stamped with their data-ready edge's time (the
 * kernel's stamp), conversions are counted from those stamps, so an edge serviced late is not a
 * lost sample and the device clock (the counter) stays on the grid; an edge never seen, or one
 * serviced after the chip overwrote its frame, is lost and becomes a gap; a stuck line stalls.
 * Edges are delivered by hand here, each with a scripted stamp and a scripted service time.
 */
import test from 'ava';
import type { LineRef } from '../src/boards/types.js';
import { mulberry32 } from '../src/core/prng.js';
import { Ads1299Device, type Ads1299Gap } from '../src/devices/ads1299/device.js';
import type { Ads1299SourceDef } from '../src/devices/ads1299/registers.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';
import { FakeAds1299 } from '../src/hal/spi-fake.js';
import type { SpiDevice } from '../src/hal/spi.js';

const REF: LineRef = { chip: 'reflex-sim', line: 25 };
/** µV of one count at gain 1 (the model multiplies its input by the gain, the driver divides). */
const LSB1 = (9 / 2 ** 24) * 1e6;

function rig(source: Ads1299SourceDef, opts: { stallMs?: number } = {}) {
  const chip = new FakeAds1299();
  // Channel 1 carries the conversion's number: every sample says which conversion it came from.
  chip.signal = (n) => n;
  let now = 0;
  /** How long a frame read takes on the host clock (0: instant). */
  let readMs = 0;
  const spi: SpiDevice = {
    path: chip.path,
    transfer: (tx, rx) => {
      chip.transfer(tx, rx);
      if (tx.length === 27) now += readMs;
    },
    close: () => chip.close(),
  };
  const gpio = new FakeGpio(undefined, { now: () => now });
  const dev = new Ads1299Device({
    spi,
    dataReady: gpio.input(REF, 'falling'),
    source,
    now: () => now,
    stallMs: opts.stallMs ?? 1000,
    stallCheckMs: 0,
    resetWait: () => Promise.resolve(),
  });
  const samples: Array<{ n: number; value: number; atMs: number; deviceUs: number }> = [];
  const blocks: Array<[first: number, samples: number]> = [];
  const gaps: Ads1299Gap[] = [];
  const states: Array<[string, string | undefined]> = [];
  dev.on('samples', (b, at) => {
    blocks.push([b.firstSample, b.samples]);
    // Sample i is one period after the first on the device clock; its stamp is only known for i = 0 unless blockSamples is 1.
    for (let i = 0; i < b.samples; i++) samples.push({ n: b.firstSample + i, value: b.data[i]!, atMs: i === 0 ? at : Number.NaN, deviceUs: b.deviceTimeUs });
  });
  dev.on('gap', (g) => gaps.push(g));
  dev.on('state', (s, d) => states.push([s, d.code]));
  return {
    chip,
    dev,
    samples,
    blocks,
    gaps,
    states,
    /** The chip converts (its frame now holds the next conversion); no edge is delivered. */
    convert: () => chip.convert(),
    /** The data-ready edge that happened at `atMs`, read by the process at `serviceMs`. */
    edge: (atMs: number, serviceMs: number) => {
      now = serviceMs;
      gpio.drive(REF, 1, atMs);
      gpio.drive(REF, 0, atMs);
    },
    setReadMs: (ms: number) => (readMs = ms),
    setNow: (ms: number) => (now = ms),
  };
}

test('edges serviced late but before the next conversion: nothing lost, each sample stamped with its edge, counter exact on the grid', async (t) => {
  const rate = 2000;
  const p = 1000 / rate;
  const r = rig({ kind: 'ads1299', rate, channels: 8, blockSamples: 1 });
  await r.dev.start();
  const rnd = mulberry32(14);
  const N = 3000;
  const T0 = 50_000;
  const jitter: number[] = [];
  let service = 0;
  for (let k = 0; k < N; k++) {
    // The kernel's stamp: the grid point plus up to ±25 µs of interrupt latency (scripted).
    const j = (rnd() - 0.5) * 0.05;
    jitter.push(j);
    const stamp = T0 + k * p + j;
    // Serviced 0..0.8 periods late, in order: the interval between services varies from 0.2 to 1.8 periods.
    service = Math.max(service, stamp + rnd() * 0.8 * p);
    r.convert();
    r.edge(stamp, service);
  }
  t.is(r.dev.counter('lost'), 0);
  t.is(r.dev.counter('missed_edges'), 0);
  t.is(r.dev.counter('late_reads'), 0);
  t.is(r.dev.counter('gaps'), 0);
  t.is(r.samples.length, N);
  const wrong: string[] = [];
  for (let k = 0; k < N; k++) {
    const s = r.samples[k]!;
    if (s.n !== k) wrong.push(`sample ${k} numbered ${s.n}`);
    if (s.deviceUs !== k * 500) wrong.push(`sample ${k} device time ${s.deviceUs} µs`);
    // Conversion k's data: the counter and the data agree.
    if (s.value !== Math.fround(k * LSB1)) wrong.push(`sample ${k} holds ${s.value / LSB1} counts`);
    // The stamp is the edge's, so its jitter about the grid is exactly the scripted one.
    if (s.atMs !== T0 + k * p + jitter[k]!) wrong.push(`sample ${k} stamped ${s.atMs - (T0 + k * p)} ms off the grid, scripted ${jitter[k]}`);
  }
  t.deepEqual(wrong.slice(0, 5), []);
  r.dev.stop();
});

test('an edge never seen, and edges serviced after their frame was overwritten, are lost: gaps, counter on the grid, data matches', async (t) => {
  const r = rig({ kind: 'ads1299', rate: 1000, channels: 1, blockSamples: 4 });
  await r.dev.start();
  const T0 = 1000;
  const onTime = (k: number) => {
    r.convert();
    r.edge(T0 + k, T0 + k + 0.05);
  };
  onTime(0);
  onTime(1);
  onTime(2);
  r.convert(); // conversion 3: its edge never arrives
  onTime(4);
  // Conversions 5 and 6 both happen before the process gets to edge 5: frame 5 is gone.
  r.convert();
  r.convert();
  r.edge(T0 + 5, T0 + 6.2);
  r.edge(T0 + 6, T0 + 6.2);
  // Conversion 7 serviced 0.5 periods late: fine.
  r.convert();
  r.edge(T0 + 7, T0 + 7.5);
  // Conversion 8 serviced 0.85 periods late, and its read takes 0.1 ms: it ends after the read
  // window (0.9 periods), where it may already be clocking out conversion 9.
  r.convert();
  r.setReadMs(0.1);
  r.edge(T0 + 8, T0 + 8.85);
  r.setReadMs(0);
  for (let k = 9; k <= 12; k++) onTime(k);
  // Edge 12 given twice (a backend repeating itself): not a conversion.
  r.edge(T0 + 12, T0 + 12.1);

  t.is(r.dev.counter('missed_edges'), 1);
  t.is(r.dev.counter('late_reads'), 2);
  t.is(r.dev.counter('lost'), 3);
  t.is(r.dev.counter('spurious_edges'), 1);
  t.is(r.dev.counter('samples'), 10);
  t.deepEqual(r.gaps, [
    { cause: 'dropped', missingSamples: 1, hostSpanMs: 2, fromSample: 2, toSample: 4, deviceReset: false },
    { cause: 'dropped', missingSamples: 1, hostSpanMs: 2, fromSample: 4, toSample: 6, deviceReset: false },
    { cause: 'dropped', missingSamples: 1, hostSpanMs: 2, fromSample: 7, toSample: 9, deviceReset: false },
  ]);
  t.is(r.dev.counter('gaps'), 3);
  // Contiguous blocks: each ends at a loss.
  t.deepEqual(r.blocks, [
    [0, 3],
    [4, 1],
    [6, 2],
    [9, 4],
  ]);
  t.deepEqual(
    r.samples.map((s) => s.n),
    [0, 1, 2, 4, 6, 7, 9, 10, 11, 12],
  );
  t.deepEqual(
    r.samples.map((s) => s.value),
    r.samples.map((s) => Math.fround(s.n * 24 * (LSB1 / 24))),
    'every sample holds the conversion its number says',
  );
  t.deepEqual(
    r.samples.filter((s) => s.atMs === s.atMs).map((s) => [s.n, s.atMs]),
    [
      [0, 1000],
      [4, 1004],
      [6, 1006],
      [9, 1009],
    ],
  );
  r.dev.stop();
});

test("a gap counted with the chip's own period: an oscillator 2 % slow, 40 conversions missed after 1000 edges", async (t) => {
  const rate = 2000;
  const p = 0.51; // nominal 0.5 ms
  const r = rig({ kind: 'ads1299', rate, channels: 1, blockSamples: 1 });
  await r.dev.start();
  const rnd = mulberry32(5);
  const at = (k: number) => 3000 + k * p + (rnd() - 0.5) * 0.02;
  for (let k = 0; k < 1000; k++) {
    r.convert();
    const s = at(k);
    r.edge(s, s + 0.1);
  }
  for (let k = 1000; k < 1040; k++) r.convert(); // edges never seen
  for (let k = 1040; k < 1043; k++) {
    r.convert();
    const s = at(k);
    r.edge(s, s + 0.1);
  }
  // With the nominal period, 41 x 0.51 ms would count as 42 periods: 41 missed, every later sample misnumbered.
  t.is(r.dev.counter('missed_edges'), 40);
  t.deepEqual(
    r.samples.slice(-3).map((s) => [s.n, s.value]),
    [1040, 1041, 1042].map((n) => [n, Math.fround(n * LSB1)]),
  );
  t.like(r.gaps[0], { missingSamples: 40, fromSample: 999, toSample: 1040 });
  r.dev.stop();
});

test('a stuck data-ready line after late-serviced edges: E_ADS1299_STALL, an outage gap from the last sample on the grid, re-initialised', async (t) => {
  const rate = 500;
  const p = 1000 / rate;
  const r = rig({ kind: 'ads1299', rate, channels: 2, blockSamples: 1 }, { stallMs: 100 });
  await r.dev.start();
  const rnd = mulberry32(3);
  let service = 0;
  for (let k = 0; k < 50; k++) {
    service = Math.max(service, 2000 + k * p + rnd() * 0.85 * p);
    r.convert();
    r.edge(2000 + k * p, service);
  }
  t.is(r.dev.counter('missed_edges'), 0);
  t.is(r.dev.counter('lost'), 0);
  // The line sticks: no edge for longer than stallMs.
  r.setNow(2000 + 49 * p + 99);
  r.dev.checkStall();
  t.is(r.dev.counter('stalls'), 0, 'not yet');
  r.setNow(2000 + 49 * p + 101 + p);
  r.dev.checkStall();
  t.is(r.dev.counter('stalls'), 1);
  t.deepEqual(r.states.slice(0, 2), [
    ['streaming', undefined],
    ['reconnecting', 'E_ADS1299_STALL'],
  ]);
  t.deepEqual(r.gaps, [{ cause: 'outage', missingSamples: Number.NaN, hostSpanMs: Number.NaN, fromSample: 49, toSample: 0, deviceReset: true }]);
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.deepEqual(r.states.at(-1), ['streaming', undefined]);
  t.is(r.dev.counter('reinits'), 1);
  // The chip starts over, and so does the counter.
  const t1 = 2000 + 49 * p + 200;
  r.convert();
  r.edge(t1, t1 + 0.5);
  r.convert();
  r.edge(t1 + p, t1 + p + 1.5);
  t.deepEqual(
    r.samples.slice(-2).map((s) => [s.n, s.value]),
    [
      [0, Math.fround(0)],
      [1, Math.fround(LSB1)],
    ],
  );
  t.is(r.dev.counter('lost'), 0);
  r.dev.stop();
});

test('the free-running model (fake:ads1299): edges stamped on its grid, every delivered sample holds the conversion its number says', async (t) => {
  const chip = new FakeAds1299({ freeRun: true });
  chip.signal = (n) => n;
  const gpio = new FakeGpio();
  chip.onDataReady = (level, at) => gpio.drive(REF, level, at);
  const dev = new Ads1299Device({
    spi: chip,
    dataReady: gpio.input(REF, 'falling'),
    source: { kind: 'ads1299', rate: 250, channels: 1, blockSamples: 1 },
    stallCheckMs: 0,
    resetWait: () => Promise.resolve(),
  });
  const got: Array<[n: number, value: number, atMs: number]> = [];
  const enough = new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`only ${got.length} samples in 10 s`)), 10_000);
    dev.on('samples', (b, at) => {
      got.push([b.firstSample, b.data[0]!, at]);
      if (got.length === 20) {
        clearTimeout(guard);
        resolve();
      }
    });
  });
  await dev.start();
  await enough;
  dev.stop();
  chip.close();
  // However late the timer woke (losses are allowed and counted), no sample carries another conversion's data...
  t.deepEqual(
    got.map(([, v]) => v),
    got.map(([n]) => Math.fround(n * LSB1)),
  );
  t.is(dev.counter('samples') + dev.counter('lost'), got.at(-1)![0] + 1);
  // ...and the stamps sit on one 4 ms grid, numbered as the counter says.
  const [n0, , t0] = got[0]!;
  const off = got.map(([n, , at]) => Math.round((at - t0 - (n - n0) * 4) * 1e6) / 1e6);
  t.deepEqual(
    off,
    got.map(() => 0),
  );
});
