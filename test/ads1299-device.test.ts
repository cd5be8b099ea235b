/**
 * The ADS1299 driver against the datasheet model (src/hal/spi-fake.ts) and fake data-ready edges
 * (FakeGpio), on an injected host clock: the setup bytes, µV values against hand-computed ones,
 * missed edges as a `dropped` gap, a stuck data-ready line as a stall and a re-initialised chip.
 */
import test from 'ava';
import type { LineRef } from '../src/boards/types.js';
import { Ads1299Device, type Ads1299Gap } from '../src/devices/ads1299/device.js';
import { uvPerCount, type Ads1299SourceDef } from '../src/devices/ads1299/registers.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';
import { FakeAds1299 } from '../src/hal/spi-fake.js';

const REF: LineRef = { chip: 'reflex-sim', line: 25 };

function rig(source: Ads1299SourceDef, opts: { id?: number; stallMs?: number } = {}) {
  const spi = new FakeAds1299({ ...(opts.id !== undefined && { id: opts.id }) });
  let now = 1000;
  // Edges are stamped on the same clock the driver reads (here: on time, at the conversion).
  const gpio = new FakeGpio(undefined, { now: () => now });
  spi.onDataReady = (level, at) => gpio.drive(REF, level, at);
  const dev = new Ads1299Device({
    spi,
    dataReady: gpio.input(REF, 'falling'),
    source,
    now: () => now,
    stallMs: opts.stallMs ?? 500,
    stallCheckMs: 0,
    resetWait: () => Promise.resolve(),
  });
  const blocks: Array<{ first: number; data: number[]; samples: number; at: number; deviceUs: number }> = [];
  const gaps: Ads1299Gap[] = [];
  const states: string[] = [];
  dev.on('samples', (b, at) => blocks.push({ first: b.firstSample, data: [...b.data], samples: b.samples, at, deviceUs: b.deviceTimeUs }));
  dev.on('gap', (g) => gaps.push(g));
  const codes: string[] = [];
  dev.on('state', (s, d) => {
    states.push(s);
    if (d.code) codes.push(d.code);
  });
  /** One conversion `ms` after the last, with `skipped` earlier ones lost. */
  const tick = (ms: number, skipped = 0) => {
    now += ms;
    spi.convert(skipped);
  };
  return { spi, dev, blocks, gaps, states, codes, tick, advance: (ms: number) => (now += ms) };
}

test('setup: SDATAC, RESET, SDATAC, ID read, CONFIG3, CONFIG1 (rate), CONFIG2, CHnSET (gain, mux, unused off), START, RDATAC', async (t) => {
  const r = rig({
    kind: 'ads1299',
    rate: 2000,
    channels: 6,
    gain: 12,
    inputs: ['normal', 'shorted', 'test', 'normal', 'normal', 'normal'],
    gains: [24, 12, 1, 2, 4, 6],
  });
  await r.dev.start();
  t.deepEqual(r.spi.log, [
    [0x11],
    [0x06],
    [0x11],
    [0x20, 0x00, 0x00],
    [0x43, 0x00, 0xe0],
    [0x41, 0x00, 0x93], // 2 kSPS: DR = 011
    [0x42, 0x00, 0xd0],
    // gain 24 normal = 0x60, gain 12 shorted = 0x51, gain 1 test = 0x05, gain 2 = 0x10, gain 4 = 0x20, gain 6 = 0x30, two powered down 0x81
    [0x45, 0x07, 0x60, 0x51, 0x05, 0x10, 0x20, 0x30, 0x81, 0x81],
    [0x08],
    [0x10],
  ]);
  // The model took them: its registers read back as written.
  t.is(r.spi.regs[1], 0x93);
  t.is(r.spi.rate, 2000);
  t.deepEqual([...r.spi.regs.subarray(5, 13)], [0x60, 0x51, 0x05, 0x10, 0x20, 0x30, 0x81, 0x81]);
  t.true(r.spi.running && r.spi.rdatac);
  t.deepEqual(r.states, ['streaming']);
  r.dev.stop();
});

test('rates map onto CONFIG1 DR', async (t) => {
  const want: Record<number, number> = { 250: 0x96, 500: 0x95, 1000: 0x94, 2000: 0x93, 4000: 0x92, 8000: 0x91, 16000: 0x90 };
  for (const [rate, c1] of Object.entries(want)) {
    const r = rig({ kind: 'ads1299', rate: Number(rate) as 250, channels: 8 });
    await r.dev.start();
    t.is(r.spi.regs[1], c1, `${rate} SPS`);
    r.dev.stop();
  }
});

test('a chip that is not an ADS1299-8 is refused with E_ADS1299_ID', async (t) => {
  const r = rig({ kind: 'ads1299', rate: 250, channels: 8 }, { id: 0x00 });
  const err = await t.throwsAsync(r.dev.start());
  t.is((err as { code?: string }).code, 'E_ADS1299_ID');
  t.regex(err.message, /reads 0x00, expected 0x3e/);
});

test('µV: counts x 2 x 4.5 V / gain / 2^24, per channel gain, both signs; blocks stamped at their first edge', async (t) => {
  t.is(uvPerCount(24), (9 / 24 / 16777216) * 1e6);
  t.true(Math.abs(uvPerCount(1) - 0.536441802978515625) < 1e-15);
  const r = rig({ kind: 'ads1299', rate: 500, channels: 3, gains: [24, 1, 6], blockSamples: 2 });
  // Input counts (before gain) 100 + n on ch1, -(200 + n) on ch2, 0x7fffff/6 on ch3 (clips at gain 6).
  r.spi.signal = (n, ch) => (ch === 0 ? 100 + n : ch === 1 ? -(200 + n) : 0x7fffff);
  await r.dev.start();
  r.tick(2);
  r.tick(2);
  r.tick(2);
  r.tick(2);
  t.is(r.blocks.length, 2);
  const [b0, b1] = r.blocks;
  t.is(b0!.first, 0);
  t.is(b1!.first, 2);
  t.is(b0!.at, 1002, 'the first sample edge');
  t.is(b1!.at, 1006);
  t.is(b1!.deviceUs, 4000, 'device clock = counter / rate');
  // Hand-computed: ch1 (100+n)*24 counts at gain 24 -> (100+n) * 0.536441802978515625 µV; ch2 -(200+n) * 0.5364...; ch3 0x7fffff counts at gain 6.
  const lsb1 = 0.536441802978515625;
  t.deepEqual(b0!.data, [100 * lsb1, 101 * lsb1, -200 * lsb1, -201 * lsb1, 8388607 * (lsb1 / 6), 8388607 * (lsb1 / 6)].map(Math.fround));
  t.deepEqual(b1!.data.slice(0, 2), [102 * lsb1, 103 * lsb1].map(Math.fround));
  t.is(r.dev.counter('samples'), 4);
  t.is(r.dev.counter('missed_edges'), 0);
  r.dev.stop();
});

test('shorted and test inputs: zero, and the ±1.875 mV internal test signal', async (t) => {
  const r = rig({ kind: 'ads1299', rate: 250, channels: 2, inputs: ['shorted', 'test'], gain: 24, blockSamples: 1 });
  await r.dev.start();
  r.tick(4);
  t.is(r.blocks[0]!.data[0], 0);
  t.true(Math.abs(r.blocks[0]!.data[1]! - 1875) < 0.05, `${r.blocks[0]!.data[1]} µV`);
  r.dev.stop();
});

test('missed edges: an edge 3 periods late is a dropped gap of 2, the counter jumps, blocks stay contiguous', async (t) => {
  const r = rig({ kind: 'ads1299', rate: 1000, channels: 1, blockSamples: 4 });
  r.spi.signal = (n) => n;
  await r.dev.start();
  r.tick(1);
  r.tick(1);
  r.tick(1);
  // Conversions 3 and 4 overwritten unread: the next edge comes 3 ms later with conversion 5.
  r.tick(3, 2);
  r.tick(1);
  r.tick(1);
  r.tick(1);
  t.deepEqual(r.gaps, [{ cause: 'dropped', missingSamples: 2, hostSpanMs: 3, fromSample: 2, toSample: 5, deviceReset: false }]);
  t.is(r.dev.counter('missed_edges'), 2);
  t.is(r.dev.counter('lost'), 2);
  t.is(r.dev.counter('late_reads'), 0);
  t.is(r.dev.counter('gaps'), 1);
  // A short block of the 3 before the gap, then samples 5..8 with their own values (n * 24 counts at gain 24 = n * lsb1).
  t.deepEqual(
    r.blocks.map((b) => [b.first, b.samples]),
    [
      [0, 3],
      [5, 4],
    ],
  );
  t.deepEqual(
    r.blocks[1]!.data,
    [5, 6, 7, 8].map((n) => Math.fround(n * 0.536441802978515625)),
  );
  // An edge 1.4 periods late is jitter, not a loss.
  r.tick(1.4);
  t.is(r.gaps.length, 1);
  r.dev.stop();
});

test('a stuck data-ready line: a stall after stallMs, an outage gap, the chip re-initialised, streaming again', async (t) => {
  const r = rig({ kind: 'ads1299', rate: 250, channels: 2, blockSamples: 1 }, { stallMs: 100 });
  await r.dev.start();
  r.tick(4);
  r.tick(4);
  r.advance(50);
  r.dev.checkStall();
  t.is(r.dev.counter('stalls'), 0, 'not yet');
  // Someone (a brown-out) reset the chip: it sits in its reset state, converting nothing.
  r.spi.transfer(new Uint8Array([0x06]), new Uint8Array(1));
  const before = r.spi.log.length;
  r.advance(60);
  r.dev.checkStall();
  t.is(r.dev.counter('stalls'), 1);
  t.is(r.dev.counter('reinits'), 1);
  t.like(r.gaps[0], { cause: 'outage', deviceReset: true, fromSample: 1 });
  t.is(r.codes[0], 'E_ADS1299_STALL');
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.deepEqual(r.states, ['streaming', 'reconnecting', 'streaming']);
  // The setup went out again and the model holds it.
  t.deepEqual(r.spi.log.slice(before, before + 3), [[0x11], [0x06], [0x11]]);
  t.is(r.spi.regs[1], 0x96);
  t.is(r.spi.regs[5], 0x60);
  const n = r.blocks.length;
  r.tick(4);
  t.is(r.blocks.length, n + 1);
  t.is(r.blocks.at(-1)!.first, 0, 'the counter starts over with the chip');
  r.dev.stop();
});
