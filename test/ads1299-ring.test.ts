/**
 * The shared ring between the ADS1299 reader thread and the main thread, on one thread: records in
 * order, the int32 head and tail wrapping, and a full ring dropping records into one counted gap
 * (merged with the driver's own gaps, a reset among them making the count unknown).
 */
import test from 'ava';
import { createBlock } from '../src/core/block.js';
import { ADS1299_COUNTER_KEYS, COUNTER_INDEX, type Ads1299CounterKey, type Ads1299Gap } from '../src/devices/ads1299/device.js';
import { Ads1299RingSink } from '../src/devices/ads1299/ring-sink.js';
import { allocRing, RingReader, RingWriter, type RingGap } from '../src/devices/ads1299/ring.js';

const CH = 2;
const B = 4;
const PERIOD = 0.5;

function rig(slots: number) {
  const bufs = allocRing(slots, CH * B);
  const writer = new RingWriter(bufs);
  const reader = new RingReader(bufs);
  const counts = new Float64Array(ADS1299_COUNTER_KEYS.length);
  let wakes = 0;
  const sink = new Ads1299RingSink({
    ring: writer,
    periodMs: PERIOD,
    count: (k: Ads1299CounterKey, n: number) => (counts[COUNTER_INDEX[k]]! += n),
    wake: () => wakes++,
  });
  const block = createBlock({ stream: 'emg', channels: CH, samples: B, rate: 2000, unit: 'uV' });
  /** The block of samples first..first+B-1: sample s holds s on channel 0 and -s on channel 1. */
  const put = (first: number): void => {
    block.firstSample = first;
    for (let i = 0; i < B; i++) {
      block.data[i] = first + i;
      block.data[B + i] = -(first + i);
    }
    sink.block(block, first * PERIOD);
  };
  const out: Array<{ block: [first: number, at: number, values: number[]] } | { gap: RingGap }> = [];
  const drain = (): number =>
    reader.drain({
      block: (first, samples, channels, at, data, off) => out.push({ block: [first, at, [...data.subarray(off, off + samples * channels)]] }),
      gap: (g) => out.push({ gap: { ...g } }),
    });
  /** A gap from the driver, which counts it in `gaps` before it emits it. */
  const gap = (g: Partial<Ads1299Gap> & Pick<Ads1299Gap, 'fromSample' | 'toSample'>): void => {
    counts[COUNTER_INDEX.gaps]! += 1;
    sink.gap({ cause: 'dropped', missingSamples: g.toSample - g.fromSample - 1, hostSpanMs: 0, deviceReset: false, ...g });
  };
  return { writer, reader, sink, put, gap, out, drain, counter: (k: Ads1299CounterKey) => counts[COUNTER_INDEX[k]]!, wakes: () => wakes };
}

const values = (first: number) => [0, 1, 2, 3].map((i) => first + i).concat([0, 1, 2, 3].map((i) => -(first + i)));

test('records come out in order with their data; one wake-up per armed drain, none while the reader has not looked', (t) => {
  const r = rig(8);
  t.is(r.writer.slots, 8);
  r.put(0);
  t.is(r.wakes(), 0, 'the reader has not armed the wake-up yet');
  t.is(r.drain(), 1);
  r.put(4);
  r.put(8);
  t.is(r.wakes(), 1, 'one wake-up for both records');
  r.gap({ fromSample: 11, toSample: 14 });
  t.is(r.drain(), 3);
  t.is(r.counter('gaps'), 1);
  t.deepEqual(r.out, [
    { block: [0, 0, values(0)] },
    { block: [4, 2, values(4)] },
    { block: [8, 4, values(8)] },
    { gap: { outage: false, missingSamples: 2, hostSpanMs: 0, fromSample: 11, toSample: 14, deviceReset: false } },
  ]);
});

test('head and tail wrap past 2^31 without losing or repeating a record', (t) => {
  const r = rig(4);
  // Start both counters just below the int32 wrap (ctl: head, tail, ...).
  const view = (r.writer as unknown as { ctl: Int32Array }).ctl;
  view[0] = 2 ** 31 - 2;
  view[1] = 2 ** 31 - 2;
  for (let k = 0; k < 12; k++) {
    r.put(4 * k);
    if (k % 3 === 2) r.drain();
  }
  r.drain();
  t.deepEqual(
    r.out.map((o) => ('block' in o ? o.block[0] : -1)),
    Array.from({ length: 12 }, (_, k) => 4 * k),
  );
  t.true(view[0] < 0, 'the head wrapped');
});

test('a full ring drops blocks, counts them lost, and writes one gap with the exact hole before the next block', (t) => {
  const r = rig(4);
  r.drain();
  for (let k = 0; k < 10; k++) r.put(4 * k);
  // 4 written (0..15), 6 dropped (16..39): 24 samples.
  t.is(r.counter('ring_overflows'), 24);
  t.is(r.counter('lost'), 24);
  r.drain();
  r.put(40);
  r.drain();
  t.deepEqual(
    r.out.map((o) =>
      'block' in o ? `block ${o.block[0]}` : `gap ${o.gap.fromSample}->${o.gap.toSample} missing ${o.gap.missingSamples} span ${o.gap.hostSpanMs}`,
    ),
    ['block 0', 'block 4', 'block 8', 'block 12', `gap 15->40 missing 24 span ${(40 - 15) * PERIOD}`, 'block 40'],
  );
  t.is(r.counter('gaps'), 1);
});

test("the driver's gaps dropped with the blocks merge into the ring's gap; a reset among them makes the count unknown", (t) => {
  const r = rig(2);
  r.drain();
  r.put(0);
  r.put(4);
  // Full. The driver loses 3 conversions (its own gap, counted by it), then stalls and re-initialises.
  r.put(8);
  r.gap({ fromSample: 11, toSample: 15 });
  r.gap({ cause: 'outage', fromSample: 18, toSample: 0, missingSamples: Number.NaN, hostSpanMs: Number.NaN, deviceReset: true });
  t.is(r.counter('gaps'), 0, 'the two merged gaps are not gaps of their own');
  r.drain();
  r.put(0);
  r.drain();
  t.deepEqual(
    r.out.slice(2).map((o) => ('gap' in o ? o.gap : o.block[0])),
    [{ outage: true, missingSamples: Number.NaN, hostSpanMs: Number.NaN, fromSample: 7, toSample: 0, deviceReset: true }, 0],
  );
  t.is(r.counter('gaps'), 1);
});
