/**
 * The ADS1299 reader thread: the driver runs in a worker that owns the data-ready line and the
 * bus; samples reach the main thread through a shared ring. Edges come from an oscillator thread
 * (src/devices/ads1299/fake-edges.ts) that keeps the sample grid and publishes each conversion
 * to the datasheet model the reader thread reads, so neither the chip nor its reader waits for
 * the main thread. These tests block the main thread on purpose.
 */
import test from 'ava';
import type { SampleBlock } from '../src/core/block.js';
import type { Ads1299Gap } from '../src/devices/ads1299/device.js';
import { allocEdgeQueue, edgeQueueStats, startOscillator, type Oscillator } from '../src/devices/ads1299/fake-edges.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { conversionsTaken, modelReaderConfig, quietReader } from './ads1299-helpers.js';

/** µV of one count at gain 1 (the model multiplies its input by the gain, the driver divides). */
const LSB1 = (9 / 2 ** 24) * 1e6;
const PERIOD = 50_000;

function busy(ms: number): void {
  const end = monotonicMs() + ms;
  while (monotonicMs() < end);
}

async function rig(t: import('ava').ExecutionContext, opts: { rate: 250 | 500 | 1000; count: number; ringMs?: number; stallMs?: number }) {
  const queue = allocEdgeQueue();
  const periodMs = 1000 / opts.rate;
  // The oscillator stands in for the chip, which is never late: real-time priority when allowed.
  const osc: Oscillator = await startOscillator({ periodMs, count: opts.count, queue, fifo: 60 });
  t.teardown(() => osc.terminate());
  const reader = quietReader(
    {
      ...modelReaderConfig('reflex-sim', { rate: opts.rate }),
      edges: queue,
      modelSignalPeriod: PERIOD,
      resetWaitMs: 0,
      ...(opts.stallMs !== undefined && { stallMs: opts.stallMs, stallCheckMs: opts.stallMs / 4 }),
      // The reader as deployed at high rates; a refusal (no root) leaves it at normal priority.
      priority: { fifo: 40 },
    },
    opts.ringMs,
  );
  t.teardown(() => reader.close());
  /** Sample number -> its edge stamp, NaN if never delivered; and every delivered sample's data checked. */
  const got = new Float64Array(opts.count).fill(Number.NaN);
  const bad: string[] = [];
  const gaps: Ads1299Gap[] = [];
  const states: Array<[string, string | undefined]> = [];
  let blocks = 0;
  let expectNext = 0;
  reader.on('samples', (b: SampleBlock, at: number) => {
    blocks++;
    if (b.firstSample !== expectNext && bad.length < 5) bad.push(`block at ${b.firstSample}, expected ${expectNext} (no gap before it)`);
    expectNext = b.firstSample + b.samples;
    for (let i = 0; i < b.samples; i++) {
      const n = b.firstSample + i;
      // Channel 1 carries 1000 + n, channel 8 its negative: a frame read late or torn shows.
      const c1 = Math.round(b.data[i]! / LSB1) - 1000;
      const c8 = -Math.round(b.data[7 * b.samples + i]! / LSB1) - 8000;
      if ((c1 !== n % PERIOD || c8 !== n % PERIOD) && bad.length < 5) bad.push(`sample ${n} holds ${c1}/${c8}`);
      if (n < opts.count) got[n] = at + (i * 1000) / opts.rate;
    }
  });
  reader.on('gap', (g) => {
    gaps.push({ ...g });
    expectNext = g.toSample;
  });
  reader.on('state', (s, d) => states.push([s, d.code]));
  await reader.start();
  /** Waits until the reader thread has taken all `count` conversions (read or counted lost). */
  const settled = (): Promise<void> => conversionsTaken(reader, opts.count);
  return { osc, queue, reader, got, bad, gaps, states, periodMs, settled, blocks: () => blocks };
}

test.serial('a main thread blocked for 50 ms loses nothing: the reader thread keeps reading, the ring holds the samples', async (t) => {
  t.timeout(20_000);
  const rate = 250;
  const count = 250;
  const r = await rig(t, { rate, count });
  const t0 = monotonicMs() + 20;
  const done = r.osc.run(t0);
  // Let the stream settle, then hold the main thread: no event loop, no ring drain, for 50 ms.
  await new Promise((res) => setTimeout(res, 300));
  const stallFrom = monotonicMs();
  busy(50);
  const stallTo = monotonicMs();
  const ringAfterStall = r.reader.drain();
  await done;
  await r.settled();
  // close() stops the device (its last short block goes into the ring) and drains the ring.
  await r.reader.close();
  t.deepEqual(r.bad, []);
  t.true(ringAfterStall > 0, 'samples read during the stall waited in the ring');
  t.is(r.reader.counter('ring_overflows'), 0);
  let delivered = 0;
  for (let k = 0; k < count; k++) if (r.got[k] === r.got[k]) delivered++;
  // Every conversion is a sample or counted lost; what is lost is the reader thread's own
  // timing (late_reads, missed_edges on a loaded machine), never the main thread's stall.
  t.is(delivered + r.reader.counter('lost'), count);
  t.is(r.reader.counter('lost'), r.reader.counter('late_reads') + r.reader.counter('missed_edges'));
  t.is(r.reader.counter('samples'), delivered);
  // The conversions whose edges fell in the stall were read then. With the reader on the main
  // thread they were not (each serviced up to 50 ms late, past its 3.6 ms window: late_reads).
  let inStall = 0;
  let readInStall = 0;
  for (let k = 0; k < count; k++) {
    const grid = t0 + k * r.periodMs;
    if (grid < stallFrom || grid > stallTo - r.periodMs) continue;
    inStall++;
    if (r.got[k] === r.got[k]) readInStall++;
  }
  t.true(inStall >= 10, `${inStall} conversions in the stall`);
  t.true(readInStall >= inStall / 2, `${readInStall} of the ${inStall} conversions in the stall were read`);
  const lostAt: number[] = [];
  for (let k = 0; k < count; k++) if (r.got[k] !== r.got[k]) lostAt.push(k);
  t.log(
    `lost ${r.reader.counter('lost')} of ${count} at ${lostAt.join(',')} (late_reads ${r.reader.counter('late_reads')}), ` +
      `oscillator ${JSON.stringify(edgeQueueStats(r.queue))} ${r.osc.priority}, ` +
      `read in the stall ${readInStall}/${inStall}, priority ${r.reader.thread.priority}`,
  );
});

test.serial('a ring too short for a stall overflows: the dropped samples are counted lost and become one gap, never silent', async (t) => {
  t.timeout(20_000);
  const rate = 1000;
  const count = 600;
  // 8 slots of 4-sample blocks: 32 ms of samples, far less than the 150 ms stall below.
  const r = await rig(t, { rate, count, ringMs: 1 });
  t.is(r.reader.ringSlots, 8);
  const t0 = monotonicMs() + 20;
  const done = r.osc.run(t0);
  await new Promise((res) => setTimeout(res, 150));
  busy(150);
  r.reader.drain();
  await done;
  await r.settled();
  await r.reader.close();
  t.deepEqual(r.bad, []);
  const overflows = r.reader.counter('ring_overflows');
  t.true(overflows > 0, 'the ring overflowed');
  t.true(r.reader.counter('lost') >= overflows);
  let delivered = 0;
  for (let k = 0; k < count; k++) if (r.got[k] === r.got[k]) delivered++;
  t.is(delivered + r.reader.counter('lost'), count);
  // Every hole in the numbering has its gap, saying how many samples are missing.
  const dropped = r.gaps.filter((g) => g.cause === 'dropped');
  t.true(dropped.length >= 1);
  let holes = 0;
  for (const g of dropped) {
    t.is(g.missingSamples, g.toSample - g.fromSample - 1);
    for (let k = g.fromSample + 1; k < g.toSample; k++) t.true(r.got[k] !== r.got[k], `sample ${k} is inside a gap`);
    holes += g.missingSamples;
  }
  // The last conversions' losses have no gap yet when no sample followed them.
  t.true(holes <= r.reader.counter('lost'));
  t.is(r.reader.counter('gaps'), r.gaps.length);
});

test.serial('a stuck data-ready line in the reader thread: E_ADS1299_STALL, an outage gap, the chip re-initialised', async (t) => {
  t.timeout(20_000);
  const r = await rig(t, { rate: 1000, count: 200, stallMs: 100 });
  await r.osc.run(monotonicMs() + 20);
  // The oscillator has stopped: no more edges. The stall comes within stallMs + one check.
  // The counters are shared memory; the state event comes by message after them: wait for both.
  const stalled = (): boolean => r.states.some(([s, code]) => s === 'reconnecting' && code === 'E_ADS1299_STALL');
  const deadline = monotonicMs() + 5000;
  while ((r.reader.counter('reinits') < 1 || !stalled()) && monotonicMs() < deadline) {
    await new Promise((res) => setTimeout(res, 20));
    r.reader.drain();
  }
  r.reader.drain();
  t.true(r.reader.counter('stalls') >= 1, `stalls ${r.reader.counter('stalls')}`);
  t.true(stalled(), JSON.stringify(r.states));
  const outage = r.gaps.find((g) => g.cause === 'outage');
  t.truthy(outage);
  t.true(outage!.deviceReset);
  // The outage starts at the last sample delivered.
  let last = -1;
  for (let k = 0; k < r.got.length; k++) if (r.got[k] === r.got[k]) last = k;
  t.is(outage!.fromSample, last);
});

test.serial("a bus the reader thread cannot open: start() rejects with the thread's error code and the thread ends", async (t) => {
  t.timeout(20_000);
  const reader = quietReader({
    ...modelReaderConfig('reflex-sim'),
    // No spidev here: spi-device (or its absence) refuses it inside the reader thread.
    spiPath: '/dev/spidev9.9',
    spi: { mode: 1, speedHz: 4_000_000, bus: 9, chipSelect: 9 },
  });
  const err = await t.throwsAsync(reader.start());
  const code = (err as Error & { code?: string }).code ?? '';
  t.true(['E_SPI_IO', 'E_SPI_UNAVAILABLE'].includes(code), `${code}: ${err?.message}`);
  t.regex(err.message, /spidev9\.9/);
  await reader.close();
});

test.serial('stop and resume reach the reader thread; a refused priority is reported, not thrown', async (t) => {
  t.timeout(20_000);
  // The free-running model on the reader thread's own simulated chip, as `fake:ads1299` boards run.
  const reader = quietReader({ ...modelReaderConfig('reflex-sim'), resetWaitMs: 0, priority: { fifo: 150 } });
  t.teardown(() => reader.close());
  const states: string[] = [];
  reader.on('state', (s) => states.push(s));
  await reader.start();
  t.regex(reader.thread.priority, /^normal \(refused: fifo priority must be 1\.\.99/);
  const until = async (pred: () => boolean, what: string): Promise<void> => {
    const deadline = monotonicMs() + 10_000;
    while (!pred()) {
      if (monotonicMs() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((res) => setTimeout(res, 10));
    }
  };
  await until(() => reader.counter('frames') >= 10, '10 frames');
  await reader.stop();
  t.is(states.at(-1), 'stopped');
  const frames = reader.counter('frames');
  // Stopped: the model converts no more and the driver reads nothing (its stall check is off too).
  await new Promise((res) => setTimeout(res, 100));
  t.is(reader.counter('frames'), frames);
  t.is(reader.counter('stalls'), 0);
  await reader.resume();
  t.is(states.at(-1), 'streaming');
  await until(() => reader.counter('frames') >= frames + 10, '10 more frames after resume');
  t.pass();
});
