import test from 'ava';
import fc from 'fast-check';
import { BridgeDecoder, type BridgeDecoderHandlers } from '../src/bridge/decoder.js';
import { FrameWriter } from '../src/bridge/encode.js';
import { BAD_KINDS, FrameType, type BadKind } from '../src/bridge/frames.js';
import { versionHello } from './bridge-helpers.js';

const UV = Math.fround(0.5);

interface BlockSpec {
  seq: number;
  firstSample: number;
  tUs: number;
  channels: number;
  samples: number;
  counts: number[];
}

/** Everything a decoder reports, copied out of the reused structures. */
function recorder(): { events: unknown[]; handlers: BridgeDecoderHandlers } {
  const events: unknown[] = [];
  return {
    events,
    handlers: {
      onSamples: (b, h) => events.push(['samples', h.seq, h.firstSample, b.deviceTimeUs, b.channels, b.samples, b.seq, b.firstSample, Array.from(b.data)]),
      onHello: (h) => events.push(['hello', h]),
      onAck: (a) => events.push(['ack', a]),
      onError: (e) => events.push(['error', e]),
      onPong: (p) => events.push(['pong', p.pingId, p.hostToken.toString()]),
      onHeartbeat: (h) => events.push(['heartbeat', h]),
      onTracker: (tr) => events.push(['tracker', tr.seq, tr.tUs, Array.from(tr.values)]),
      onGap: (g) => events.push(['gap', g]),
      onRestart: (r) => events.push(['restart', r]),
      onForeignHello: (v) => events.push(['foreign', v]),
      onBad: (k) => events.push(['bad', k]),
    },
  };
}

/** Channel-major µV values of a block spec, as the decoder should produce them. */
function expectedData(b: BlockSpec): number[] {
  const out: number[] = [];
  for (let c = 0; c < b.channels; c++) for (let i = 0; i < b.samples; i++) out.push(Math.fround(b.counts[i * b.channels + c]! * UV));
  return out;
}

const int24 = fc.integer({ min: -8388608, max: 8388607 });
const shape = fc.record({ channels: fc.integer({ min: 1, max: 16 }), samples: fc.integer({ min: 1, max: 4 }) });
/** A consecutive SAMPLES stream with random shapes and values, mixed with other frame types. */
const streamSpec = fc.array(
  fc.oneof(
    {
      weight: 6,
      arbitrary: shape.chain((s) =>
        fc.array(int24, { minLength: s.channels * s.samples, maxLength: s.channels * s.samples }).map((counts) => ({ kind: 'samples' as const, ...s, counts })),
      ),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('ack' as const), reqId: fc.integer({ min: 0, max: 0xfffe }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tracker' as const), values: fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 6 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('pong' as const), pingId: fc.nat() }) },
  ),
  { minLength: 1, maxLength: 40 },
);
type StreamSpec = typeof streamSpec extends fc.Arbitrary<infer T> ? T : never;

/** Encode a spec to one byte stream; also returns each frame's byte range and the blocks. */
function build(spec: StreamSpec): { bytes: Uint8Array; frames: [number, number][]; blocks: BlockSpec[] } {
  const w = new FrameWriter();
  const parts: Uint8Array[] = [];
  const frames: [number, number][] = [];
  const blocks: BlockSpec[] = [];
  let seq = 0;
  let first = 0;
  let tUs = 1_000_000;
  let tseq = 0;
  let at = 0;
  const add = (f: Uint8Array) => {
    parts.push(f.slice());
    frames.push([at, at + f.length]);
    at += f.length;
  };
  for (const item of spec) {
    if (item.kind === 'samples') {
      const b: BlockSpec = { seq, firstSample: first, tUs, channels: item.channels, samples: item.samples, counts: item.counts };
      add(w.samples({ ...b, uvPerLsb: UV, format: 0 }));
      blocks.push(b);
      seq++;
      first += item.samples;
      tUs += item.samples * 250;
    } else if (item.kind === 'ack') {
      add(w.ack({ reqId: item.reqId, commandType: FrameType.START }));
    } else if (item.kind === 'tracker') {
      add(w.tracker(tseq++, tUs, item.values));
    } else {
      add(w.pong({ pingId: item.pingId, hostToken: 7n, tRxUs: tUs, tTxUs: tUs + 3 }));
    }
  }
  const bytes = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, frames, blocks };
}

function decodeChunked(bytes: Uint8Array, cuts: number[]): { events: unknown[]; dec: BridgeDecoder } {
  const r = recorder();
  const dec = new BridgeDecoder(r.handlers, { rate: 4000 });
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    // Copy each chunk so the decoder cannot depend on memory past the chunk it was given.
    dec.push(bytes.slice(prev, p));
    prev = p;
  }
  return { events: r.events, dec };
}

test('any chunking of a stream gives identical output', (t) => {
  fc.assert(
    fc.property(streamSpec, fc.array(fc.nat(), { maxLength: 60 }), (spec, cuts) => {
      const { bytes, blocks } = build(spec);
      const whole = decodeChunked(bytes, []);
      const chunked = decodeChunked(bytes, cuts);
      const samples = whole.events.filter((e) => (e as unknown[])[0] === 'samples');
      return (
        JSON.stringify(chunked.events) === JSON.stringify(whole.events) &&
        whole.dec.stats().bad === 0 &&
        samples.length === blocks.length &&
        blocks.every((b, k) => JSON.stringify((samples[k] as unknown[])[8]) === JSON.stringify(expectedData(b)))
      );
    }),
    { numRuns: 150, seed: 1 },
  );
  t.pass();
});

test('byte-at-a-time feeding gives the same output as one push', (t) => {
  const spec: StreamSpec = [
    { kind: 'samples', channels: 16, samples: 20, counts: Array.from({ length: 320 }, (_, k) => ((k * 104729) % 16777216) - 8388608) },
    { kind: 'ack', reqId: 0 },
    { kind: 'samples', channels: 3, samples: 1, counts: [0, 0, 0] },
  ];
  const { bytes } = build(spec);
  const whole = decodeChunked(bytes, []);
  const single = decodeChunked(
    bytes,
    Array.from({ length: bytes.length }, (_, i) => i),
  );
  t.deepEqual(single.events, whole.events);
  t.is(whole.events.length, 3);
});

/** Delivered blocks must each equal the original block with the same (seq, first_sample, t_us). */
function blocksAreOriginal(events: unknown[], blocks: BlockSpec[]): boolean {
  const bySeq = new Map(blocks.map((b) => [b.seq, b]));
  for (const e of events as unknown[][]) {
    if (e[0] !== 'samples') continue;
    const b = bySeq.get(e[1] as number);
    if (!b || e[2] !== b.firstSample || e[3] !== b.tUs || e[4] !== b.channels || e[5] !== b.samples) return false;
    if (JSON.stringify(e[8]) !== JSON.stringify(expectedData(b))) return false;
  }
  return true;
}

test('random corruption never yields a block that differs from an original block', (t) => {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 30 }) }),
  );
  fc.assert(
    fc.property(streamSpec, fc.array(mutation, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (spec, muts, cuts) => {
      const { bytes, blocks, frames } = build(spec);
      const b = Array.from(bytes);
      for (const m of muts) {
        const at = m.at % (b.length + 1);
        if (m.op === 'flip' && at < b.length) b[at] = b[at]! ^ m.xor;
        else if (m.op === 'insert') b.splice(at, 0, ...m.bytes);
        else if (m.op === 'delete') b.splice(at, m.n);
      }
      const out = decodeChunked(Uint8Array.from(b), cuts);
      const delivered = out.events.filter((e) => (e as unknown[])[0] === 'samples').length;
      const s = out.dec.stats();
      return blocksAreOriginal(out.events, blocks) && delivered <= blocks.length && s.frames <= frames.length;
    }),
    { numRuns: 300, seed: 2 },
  );
  t.pass();
});

test('flipping one byte inside a frame loses exactly that frame and counts it once', (t) => {
  fc.assert(
    fc.property(streamSpec, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 254 }), (spec, which, pos, delta) => {
      const { bytes, frames } = build(spec);
      const [start, end] = frames[which % frames.length]!;
      const at = start + (pos % (end - 1 - start)); // any byte but the delimiter
      const corrupted = bytes.slice();
      // Keep it non-zero so the frame boundaries stay where they were.
      corrupted[at] = ((corrupted[at]! - 1 + delta) % 255) + 1;
      const clean = decodeChunked(bytes, []);
      const out = decodeChunked(corrupted, []);
      const s = out.dec.stats();
      return s.bad === 1 && s.frames === clean.dec.stats().frames - 1;
    }),
    { numRuns: 300, seed: 3 },
  );
  t.pass();
});

test('garbage between frames is counted segment by segment and every frame survives', (t) => {
  fc.assert(
    fc.property(streamSpec, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 3000 }), (spec, which, garbage) => {
      const { bytes, frames, blocks } = build(spec);
      const at = frames[which % frames.length]![1]; // just after a delimiter
      const g = Uint8Array.from([...garbage, 0]);
      const stream = Uint8Array.from([...bytes.subarray(0, at), ...g, ...bytes.subarray(at)]);
      // Each non-empty zero-delimited run of garbage is one bad frame (oversize ones included).
      const segments = Buffer.from(g)
        .toString('latin1')
        .split('\0')
        .filter((x) => x.length > 0).length;
      const out = decodeChunked(stream, [at + 1, at + 700]);
      const s = out.dec.stats();
      return s.bad === segments && s.frames === frames.length && blocksAreOriginal(out.events, blocks);
    }),
    { numRuns: 200, seed: 4 },
  );
  t.pass();
});

/** Feed frames and report which single kind (if any) was counted. */
function kindOf(...chunks: Uint8Array[]): { bad: BadKind[]; events: unknown[]; counters: Record<string, number> } {
  const r = recorder();
  const dec = new BridgeDecoder(r.handlers, { rate: 1000 });
  for (const c of chunks) dec.push(c);
  return {
    bad: r.events.filter((e) => (e as unknown[])[0] === 'bad').map((e) => (e as unknown[])[1] as BadKind),
    events: r.events,
    counters: dec.counters.snapshot(),
  };
}

const w = new FrameWriter();
const good = (): Uint8Array => w.samples({ seq: 0, firstSample: 0, tUs: 0, uvPerLsb: 1, channels: 1, samples: 1, format: 0, counts: [5] }).slice();
/** Encode a packet (version, type, payload) with a correct CRC but arbitrary contents. */
function rawFrame(type: number, payload: number[], version = 1): Uint8Array {
  const fw = new FrameWriter();
  fw.version = version;
  return fw.raw(type, Uint8Array.from(payload)).slice();
}
const samplesPayload = (channels: number, samples: number, extra = 0, format = 0): number[] => [
  ...new Array<number>(20).fill(0),
  channels,
  samples,
  format,
  0,
  ...new Array<number>(channels * samples * 3 + extra).fill(1),
];

test('each bad kind is classified on its own', (t) => {
  t.deepEqual(kindOf(Uint8Array.of(0x05, 0x01, 0x02, 0x00)).bad, ['bad_cobs']);
  t.deepEqual(kindOf(Uint8Array.of(0x03, 0x01, 0x02, 0x00)).bad, ['truncated'], 'a 2-byte packet');
  const crc = good();
  crc[crc.length - 2]! ^= 0x01;
  t.deepEqual(kindOf(crc).bad, ['bad_crc']);
  t.deepEqual(kindOf(rawFrame(FrameType.SAMPLES, samplesPayload(1, 1), 2)).bad, ['wrong_version']);
  t.deepEqual(kindOf(rawFrame(0x08, [1, 2, 3])).bad, ['unknown_type']);
  t.deepEqual(kindOf(rawFrame(FrameType.PING, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).bad, ['unknown_type'], 'a host-to-device type');
  t.deepEqual(kindOf(rawFrame(FrameType.SAMPLES, samplesPayload(2, 2).slice(0, 30))).bad, ['truncated']);
  t.deepEqual(kindOf(rawFrame(FrameType.SAMPLES, samplesPayload(2, 2, 1))).bad, ['bad_payload'], 'extra bytes');
  t.deepEqual(kindOf(rawFrame(FrameType.SAMPLES, samplesPayload(0, 2))).bad, ['bad_payload'], '0 channels');
  t.deepEqual(kindOf(rawFrame(FrameType.SAMPLES, samplesPayload(17, 1))).bad, ['bad_payload'], '17 channels');
  t.deepEqual(kindOf(rawFrame(FrameType.SAMPLES, samplesPayload(2, 2, 0, 1))).bad, ['bad_payload'], 'unknown format');
  t.deepEqual(kindOf(rawFrame(FrameType.TRACKER, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).bad, ['bad_payload'], '0 dims');
  t.deepEqual(kindOf(rawFrame(FrameType.ACK, [1, 0, 0x41])).bad, ['truncated']);
  t.deepEqual(kindOf(rawFrame(FrameType.ERROR, [1, 0, 0x41, 2, 0, 10, 65])).bad, ['truncated'], 'message shorter than msg_len');
  t.deepEqual(kindOf(rawFrame(FrameType.HELLO, new Array<number>(22).fill(1))).bad, ['truncated']);
  const big = new Array<number>(1031).fill(7);
  t.deepEqual(kindOf(Uint8Array.from([...big, 0])).bad, ['oversize']);
  // Every kind leaves the decoder able to take the next good frame.
  const after = kindOf(Uint8Array.of(0x05, 0x01, 0x00), good());
  t.is(after.events.filter((e) => (e as unknown[])[0] === 'samples').length, 1);
  t.deepEqual(Object.keys(kindOf().counters), []);
  t.is(BAD_KINDS.length, 7);
});

test('oversize: more than 1030 bytes without a delimiter is dropped up to the next 0x00, across chunks', (t) => {
  const junk = new Uint8Array(700).fill(0x41);
  const r = kindOf(junk, junk, junk, Uint8Array.of(0x41, 0x00), good());
  t.deepEqual(r.bad, ['oversize']);
  t.is(r.events.filter((e) => (e as unknown[])[0] === 'samples').length, 1);
  // Exactly 1030 encoded bytes is still a frame (here: bad COBS, not oversize).
  const edge = new Uint8Array(1031).fill(0x41);
  edge[1030] = 0;
  t.deepEqual(kindOf(edge).bad, ['bad_cobs']);
});

test('a HELLO with a foreign major version is read for its version, not acted upon', (t) => {
  const fw = new FrameWriter();
  fw.version = 2;
  const hello = fw.hello(versionHello({ protoMajor: 2, protoMinor: 3, fwMajor: 9, name: 'future' }));
  const r = kindOf(hello);
  t.deepEqual(r.events, [['foreign', { version: 2, protoMajor: 2, protoMinor: 3 }]]);
  t.deepEqual(r.bad, []);
  t.is(r.counters.hello_foreign, 1);
});

function samplesFrame(seq: number, firstSample: number, tUs: number, samples = 2): Uint8Array {
  return w.samples({ seq, firstSample, tUs, uvPerLsb: 1, channels: 1, samples, format: 0, counts: new Array(samples).fill(3) }).slice();
}

test('gaps are reported with exact spans, and the block counters keep counting through them', (t) => {
  // 2 samples per block at 1 kHz: 2000 µs per block.
  const r = kindOf(samplesFrame(0, 0, 10_000), samplesFrame(1, 2, 12_000), samplesFrame(5, 10, 20_000), samplesFrame(6, 12, 22_000));
  const gaps = r.events.filter((e) => (e as unknown[])[0] === 'gap');
  t.deepEqual(gaps, [['gap', { fromSeq: 1, toSeq: 5, missingFrames: 3, missingSamples: 6, deviceSpanUs: 8000 }]]);
  const blocks = r.events.filter((e) => (e as unknown[])[0] === 'samples').map((e) => (e as unknown[]).slice(6, 8));
  t.deepEqual(blocks, [
    [0, 0],
    [1, 2],
    [5, 10],
    [6, 12],
  ]);
  t.like(r.counters, { gaps: 1, missing_frames: 3, missing_samples: 6 });
  // The gap event comes before the first block after the gap.
  t.deepEqual((r.events[2] as unknown[])[0], 'gap');
});

test('a first_sample jump with consecutive seq is a gap too (samples lost inside the device)', (t) => {
  const r = kindOf(samplesFrame(0, 0, 0), samplesFrame(1, 7, 3500));
  t.deepEqual(
    r.events.filter((e) => (e as unknown[])[0] === 'gap'),
    [['gap', { fromSeq: 0, toSeq: 1, missingFrames: 0, missingSamples: 5, deviceSpanUs: 3500 }]],
  );
});

test('seq back to 0 is a stream restart, not a gap; wrapping at 2^32 is neither', (t) => {
  const r = kindOf(samplesFrame(0, 0, 0), samplesFrame(1, 2, 2000), samplesFrame(0, 0, 50));
  t.deepEqual(
    r.events.filter((e) => ['gap', 'restart'].includes((e as unknown[])[0] as string)),
    [['restart', { lastSeq: 1, lastFirstSample: 2, lastTUs: 2000, tUs: 50 }]],
  );
  t.is(r.counters.restarts, 1);
  const wrap = kindOf(samplesFrame(0xfffffffe, 0xfffffffc, 0), samplesFrame(0xffffffff, 0xfffffffe, 2000), samplesFrame(0, 0, 4000), samplesFrame(1, 2, 6000));
  t.deepEqual(
    wrap.events.filter((e) => ['gap', 'restart'].includes((e as unknown[])[0] as string)),
    [],
  );
  // Extended counters keep growing past 2^32.
  const ext = wrap.events.filter((e) => (e as unknown[])[0] === 'samples').map((e) => (e as unknown[]).slice(6, 8));
  t.deepEqual(ext, [
    [0xfffffffe, 0xfffffffc],
    [0xffffffff, 0xfffffffe],
    [2 ** 32, 2 ** 32],
    [2 ** 32 + 1, 2 ** 32 + 2],
  ]);
});

test('reset() forgets partial frames and gap tracking (a new connection)', (t) => {
  const r = recorder();
  const dec = new BridgeDecoder(r.handlers, { rate: 1000 });
  dec.push(samplesFrame(0, 0, 0));
  const f = samplesFrame(1, 2, 2000);
  dec.push(f.subarray(0, 5));
  dec.reset();
  dec.push(samplesFrame(40, 80, 9000));
  t.deepEqual(
    r.events.map((e) => (e as unknown[])[0]),
    ['samples', 'samples'],
  );
  t.is(dec.stats().bad, 0);
});

test('blocks carry the rate, and a new rate gives new blocks', (t) => {
  const seen: number[] = [];
  const dec = new BridgeDecoder({ onSamples: (b) => seen.push(b.rate, b.hostPeriodMs) }, { rate: 2000 });
  dec.push(samplesFrame(0, 0, 0));
  dec.setRate(4000);
  dec.push(samplesFrame(1, 2, 500));
  t.deepEqual(seen, [2000, 0.5, 4000, 0.25]);
});
