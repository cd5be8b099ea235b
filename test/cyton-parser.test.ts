import test from 'ava';
import fc from 'fast-check';
import type { SampleBlock } from '../src/core/block.js';
import { CytonParser, type CytonAuxEvent, type CytonGapEvent } from '../src/devices/cyton/parser.js';
import { microvoltsPerCount } from '../src/devices/cyton/format.js';
import { concat, int16be, packet, uint32be, uvPerCount } from './cyton-packets.js';

interface Out {
  blocks: Array<{ firstSample: number; seq: number; deviceTimeUs: number; samples: number; data: number[] }>;
  aux: Array<Record<string, unknown>>;
  gaps: CytonGapEvent[];
}

function collect(opts: { gain?: number; blockSamples?: number } = {}): {
  parser: CytonParser;
  out: Out;
  blockObjects: Set<SampleBlock>;
  auxObjects: Set<CytonAuxEvent>;
} {
  const out: Out = { blocks: [], aux: [], gaps: [] };
  const blockObjects = new Set<SampleBlock>();
  const auxObjects = new Set<CytonAuxEvent>();
  const parser = new CytonParser({
    ...opts,
    onBlock: (b) => {
      blockObjects.add(b);
      out.blocks.push({ firstSample: b.firstSample, seq: b.seq, deviceTimeUs: b.deviceTimeUs, samples: b.samples, data: Array.from(b.data) });
    },
    onAux: (a) => {
      auxObjects.add(a);
      out.aux.push(a.kind === 'raw' ? { ...a, bytes: Array.from(a.bytes) } : { ...a });
    },
    onGap: (g) => out.gaps.push(g),
  });
  return { parser, out, blockObjects, auxObjects };
}

const COUNTS = [0, 1, -1, 8388607, -8388608, 1000, -1000, 123456];

test('scale: known counts become µV with 4.5 V / gain / (2^23 - 1)', (t) => {
  for (const gain of [24, 8, 1]) {
    const { parser, out } = collect({ gain });
    parser.push(packet(0, COUNTS));
    t.is(out.blocks.length, 1);
    const got = out.blocks[0]!.data;
    COUNTS.forEach((c, ch) => t.is(got[ch], Math.fround(c * uvPerCount(gain)), `gain ${gain} ch${ch + 1}`));
  }
  // OpenBCI quotes 0.02235 µV per count at the default gain of 24.
  t.true(Math.abs(microvoltsPerCount(24) - 0.02235) < 0.00001);
  t.throws(() => new CytonParser({ gain: 3, onBlock: () => {} }), { instanceOf: RangeError });
});

test('a block per packet: stream emg, 8 channels, 250 Hz, µV, sample-clock device time', (t) => {
  const { parser, out, blockObjects } = collect();
  const got: SampleBlock[] = [];
  parser.push(concat([packet(7, COUNTS), packet(8, COUNTS)]));
  t.is(out.blocks.length, 2);
  t.deepEqual(
    out.blocks.map((b) => [b.firstSample, b.seq, b.deviceTimeUs]),
    [
      [0, 7, 0],
      [1, 8, 4000],
    ],
  );
  const p = new CytonParser({ onBlock: (b) => got.push(b) });
  p.push(packet(0, COUNTS));
  const b = got[0]!;
  t.is(b.stream, 'emg');
  t.is(b.channels, 8);
  t.is(b.rate, 250);
  t.is(b.unit, 'uV');
  t.true(b.valid);
  // The block object is reused (no allocation per packet): one object for both packets.
  t.is(blockObjects.size, 1);
});

test('blocks of N samples are channel-major; a gap flushes the partial block', (t) => {
  const { parser, out } = collect({ blockSamples: 4 });
  const ps = [0, 1, 2, 3, 4, 5].map((sn) =>
    packet(
      sn,
      COUNTS.map((_c, ch) => ch * 100 + sn),
    ),
  );
  parser.push(concat(ps), 100);
  t.is(out.blocks.length, 1);
  const b = out.blocks[0]!;
  t.is(b.samples, 4);
  const k = uvPerCount(24);
  // data[c * samples + i] is channel c, sample i.
  for (let ch = 0; ch < 8; ch++) for (let i = 0; i < 4; i++) t.is(b.data[ch * 4 + i], Math.fround((ch * 100 + i) * k));
  parser.push(packet(9, COUNTS), 116.5); // samples 6..8 missing
  t.is(out.blocks.length, 2);
  t.is(out.blocks[1]!.samples, 2);
  t.is(out.blocks[1]!.firstSample, 4);
  // Spans from the samples either side: arrivals 100 -> 116.5 ms on the host, samples 5 -> 9 on the device.
  t.deepEqual(out.gaps, [
    {
      stream: 'emg',
      reason: 'dropped',
      fromSample: 6,
      missingSamples: 3,
      deviceTimeUs: 24000,
      deviceSpanUs: 16000,
      hostFromMs: 100,
      hostToMs: 116.5,
      hostSpanMs: 16.5,
      fromSeq: 5,
      toSeq: 9,
    },
  ]);
  t.is(parser.lastPacketRxMs, 116.5);
  parser.push(concat([10, 11, 12].map((sn) => packet(sn, COUNTS))));
  t.is(out.blocks.length, 3);
  t.is(out.blocks[2]!.firstSample, 9);
  parser.flush();
  t.is(out.blocks.length, 3, 'nothing left to flush after a full block');
});

test('sample number wraps without a gap; drops across the wrap are counted', (t) => {
  const { parser, out } = collect();
  const sns = [250, 251, 252, 253, 254, 255, 0, 1, 2];
  parser.push(concat(sns.map((sn) => packet(sn, COUNTS))));
  t.deepEqual(
    out.blocks.map((b) => b.firstSample),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  );
  t.deepEqual(out.gaps, []);
  parser.push(packet(254, COUNTS)); // 2 -> 254: 251 missing
  parser.push(packet(1, COUNTS)); // 254 -> 1: 255 and 0 missing
  t.deepEqual(
    out.gaps.map((g) => [g.fromSample, g.missingSamples]),
    [
      [9, 251],
      [261, 2],
    ],
  );
  t.is(out.blocks.at(-1)!.firstSample, 263);
  t.is(parser.counters.get('dropped_samples'), 253);
  t.is(parser.counters.get('gaps'), 2);
  parser.push(packet(1, COUNTS));
  t.is(parser.counters.get('repeated_sample'), 1);
  t.is(out.blocks.length, 11, 'a repeated sample number is dropped');
});

test('garbage and a torn packet: resync on header/footer, bad input counted by kind', (t) => {
  const { parser, out } = collect();
  const torn = packet(0, [1, 2, 3, 4, 5, 6, 7, 8]).subarray(0, 20);
  const text = new TextEncoder().encode('OpenBCI V3 8-16 channel\n$$$');
  parser.push(concat([text, torn, packet(1, COUNTS), packet(2, COUNTS)]));
  t.deepEqual(
    out.blocks.map((b) => b.seq),
    [1, 2],
  );
  t.is(parser.counters.get('bad_footer'), 1);
  t.is(parser.counters.get('garbage_bytes'), text.length + torn.length);
  t.deepEqual(
    out.blocks[0]!.data,
    COUNTS.map((c) => Math.fround(c * uvPerCount(24))),
  );
});

test('restart: a new session continues at the index it is given', (t) => {
  const { parser, out } = collect();
  parser.push(concat([packet(40, COUNTS), packet(41, COUNTS)]));
  parser.restart(100);
  parser.push(packet(0, COUNTS));
  t.deepEqual(
    out.blocks.map((b) => [b.firstSample, b.deviceTimeUs]),
    [
      [0, 0],
      [1, 4000],
      [100, 400000],
    ],
  );
  t.deepEqual(out.gaps, [], 'the parser does not invent the outage: the session reports it');
});

test('aux 0xC0: accelerometer in g; all-zero aux means no new reading', (t) => {
  const { parser, out, auxObjects } = collect();
  // 8000 counts x 0.002/16 g = 1 g
  parser.push(packet(0, COUNTS, 0xc0, [...int16be(8000), ...int16be(-4000), ...int16be(16)]));
  parser.push(packet(1, COUNTS, 0xc0));
  parser.push(packet(2, COUNTS, 0xc0, [...int16be(0), ...int16be(0), ...int16be(8000)]));
  t.deepEqual(out.aux, [
    { kind: 'accel', sample: 0, x: 1, y: -0.5, z: 0.002, boardTimeMs: Number.NaN },
    { kind: 'accel', sample: 2, x: 0, y: 0, z: 1, boardTimeMs: Number.NaN },
  ]);
  t.is(auxObjects.size, 1, 'the accel event object is reused');
});

test('aux 0xC1/0xC2: raw bytes passed on; 0xC7..0xCF counted as unknown but kept', (t) => {
  const { parser, out } = collect();
  parser.push(packet(0, COUNTS, 0xc1, [1, 2, 3, 4, 5, 6]));
  parser.push(packet(1, COUNTS, 0xc2, [9, 8, 7, 6, 5, 4]));
  parser.push(packet(2, COUNTS, 0xc9, [0, 0, 0, 0, 0, 1]));
  t.deepEqual(out.aux, [
    { kind: 'raw', sample: 0, footer: 0xc1, bytes: [1, 2, 3, 4, 5, 6], boardTimeMs: Number.NaN },
    { kind: 'raw', sample: 1, footer: 0xc2, bytes: [9, 8, 7, 6, 5, 4], boardTimeMs: Number.NaN },
    { kind: 'raw', sample: 2, footer: 0xc9, bytes: [0, 0, 0, 0, 0, 1], boardTimeMs: Number.NaN },
  ]);
  t.is(out.blocks.length, 3);
  t.is(parser.counters.get('unknown_footer'), 1);
});

test('aux 0xC3/0xC4: accel assembled from AC/AV bytes, board timestamp gives device time', (t) => {
  const { parser, out } = collect();
  const ts = 1_000_000; // ms since board start
  const seq: Array<[number, number]> = [
    [0x58, 0x1f],
    [0x78, 0x40],
    [0x59, 0xf0],
    [0x79, 0x60],
    [0, 0],
    [0x5a, 0x00],
    [0x7a, 0x10],
  ];
  seq.forEach(([ac, av], i) => parser.push(packet(i, COUNTS, i === 0 ? 0xc3 : 0xc4, [ac, av, ...uint32be(ts + 4 * i)])));
  t.deepEqual(
    out.blocks.map((b) => b.deviceTimeUs),
    seq.map((_, i) => (ts + 4 * i) * 1000),
  );
  const accel = out.aux.filter((a) => a.kind === 'accel');
  t.deepEqual(accel, [{ kind: 'accel', sample: 6, x: (0x1f40 * 0.002) / 16, y: (-4000 * 0.002) / 16, z: (16 * 0.002) / 16, boardTimeMs: ts + 24 }]);
  t.deepEqual(
    out.aux.filter((a) => a.kind === 'time_sync'),
    [{ kind: 'time_sync', sample: 0, boardTimeMs: ts }],
  );
  // A low byte without its high byte is ignored rather than combined with a stale one.
  const second = collect();
  second.parser.push(packet(0, COUNTS, 0xc4, [0x78, 0x40, ...uint32be(1)]));
  t.deepEqual(second.out.aux, []);
});

test('aux 0xC5/0xC6: raw user bytes with the timestamp; board time unwraps past 2^32 ms', (t) => {
  const { parser, out } = collect();
  parser.push(packet(0, COUNTS, 0xc5, [0xab, 0xcd, ...uint32be(0xfffffffe)]));
  parser.push(packet(1, COUNTS, 0xc6, [0x01, 0x02, ...uint32be(2)]));
  t.deepEqual(out.aux, [
    { kind: 'time_sync', sample: 0, boardTimeMs: 0xfffffffe },
    { kind: 'raw', sample: 0, footer: 0xc5, bytes: [0xab, 0xcd, 0xff, 0xff, 0xff, 0xfe], boardTimeMs: 0xfffffffe },
    { kind: 'raw', sample: 1, footer: 0xc6, bytes: [0x01, 0x02, 0, 0, 0, 2], boardTimeMs: 2 ** 32 + 2 },
  ]);
  t.deepEqual(
    out.blocks.map((b) => b.deviceTimeUs),
    [0xfffffffe * 1000, (2 ** 32 + 2) * 1000],
  );
});

// ---- properties ----

const countArb = fc.integer({ min: -8388608, max: 8388607 });
const packetArb = fc.record({
  step: fc.oneof({ arbitrary: fc.constant(1), weight: 8 }, { arbitrary: fc.integer({ min: 2, max: 5 }), weight: 1 }),
  counts: fc.array(countArb, { minLength: 8, maxLength: 8 }),
  footer: fc.integer({ min: 0xc0, max: 0xc6 }),
  aux: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }),
});

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

test('property: any chunking of any bytes gives the same blocks, aux, gaps and counters', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          packetArb.map((p) => ({ p })),
          fc.uint8Array({ maxLength: 40 }).map((g) => ({ g })),
        ),
        { maxLength: 30 },
      ),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.integer({ min: 1, max: 5 }),
      (items, cuts, blockSamples) => {
        let sn = 0;
        const bytes = concat(items.map((it) => ('p' in it ? packet((sn += it.p.step), it.p.counts, it.p.footer, it.p.aux) : it.g)));
        const whole = collect({ blockSamples });
        whole.parser.push(bytes);
        whole.parser.flush();
        const chunked = collect({ blockSamples });
        for (const part of splitAt(bytes, cuts)) chunked.parser.push(part);
        chunked.parser.flush();
        t.deepEqual(chunked.out, whole.out);
        t.deepEqual(chunked.parser.counters.snapshot(), whole.parser.counters.snapshot());
      },
    ),
    { numRuns: 150 },
  );
});

test('property: packets separated by header-free garbage are all recovered exactly', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          packetArb,
          fc.uint8Array({ maxLength: 50 }).map((g) => g.filter((b) => b !== 0xa0)),
        ),
        { minLength: 1, maxLength: 25 },
      ),
      fc.array(fc.nat(), { maxLength: 20 }),
      (items, cuts) => {
        let sn = 0;
        const expectedIndex: number[] = [];
        let index = 0;
        const parts: Uint8Array[] = [];
        items.forEach(([p, garbage], i) => {
          sn += p.step;
          index += i === 0 ? 0 : p.step;
          expectedIndex.push(index);
          // Plain 0xC0 packets here so the aux decoding does not matter to the check.
          parts.push(garbage, packet(sn, p.counts, 0xc0, [0, 0, 0, 0, 0, 0]));
        });
        const { parser, out } = collect();
        for (const part of splitAt(concat(parts), cuts)) parser.push(part);
        t.deepEqual(
          out.blocks.map((b) => b.firstSample),
          expectedIndex,
        );
        t.deepEqual(
          out.blocks.map((b) => b.data),
          items.map(([p]) => p.counts.map((c) => Math.fround(c * uvPerCount(24)))),
        );
        const dropped = items.slice(1).reduce((n, [p]) => n + p.step - 1, 0);
        t.is(parser.counters.get('dropped_samples'), dropped);
        t.is(parser.counters.get('packets'), items.length);
      },
    ),
    { numRuns: 150 },
  );
});
