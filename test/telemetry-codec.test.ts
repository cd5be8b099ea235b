import test from 'ava';
import fc from 'fast-check';
import { nullLogger } from '../src/core/log.js';
import { CborWriter } from '../src/telemetry/cbor-writer.js';
import { createDecoder } from '../src/telemetry/codec.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { parseTopicFrame, SCHEMA_VERSION, subscriptionPrefixes, topicFrame } from '../src/telemetry/topics.js';
import { bindEndpoint } from './telemetry-helpers.js';

const dec = createDecoder();

test('typed arrays are RFC 8746 tags in little-endian order, byte for byte', (t) => {
  const w = new CborWriter();
  t.is(w.encode({ a: new Float32Array([1.5, -2]) }).toString('hex'), 'a16161d855480000c03f000000c0');
  t.is(w.encode(new Float64Array([1])).toString('hex'), 'd85648000000000000f03f');
  t.is(w.encode(new Int32Array([-1])).toString('hex'), 'd84e44ffffffff');
  t.is(w.encode(new Uint8Array([7])).toString('hex'), 'd8404107');
  t.is(w.encode(new Uint16Array([0x0102])).toString('hex'), 'd8454202' + '01');
});

test('numbers: shortest integers, 64-bit integers beyond 32 bits, float64 for the rest', (t) => {
  const w = new CborWriter();
  t.is(w.encode(0).toString('hex'), '00');
  t.is(w.encode(23).toString('hex'), '17');
  t.is(w.encode(24).toString('hex'), '1818');
  t.is(w.encode(-1).toString('hex'), '20');
  t.is(w.encode(65536).toString('hex'), '1a00010000');
  t.is(w.encode(2 ** 40).toString('hex'), '1b0000010000000000');
  t.is(w.encode(1.5).toString('hex'), 'fb3ff8000000000000');
  t.is(w.encode(Number.NaN).toString('hex'), 'fb7ff8000000000000');
  t.is(w.encode(-0).toString('hex'), 'fb8000000000000000');
  t.is(w.encode({ a: undefined, b: true, c: null }).toString('hex'), 'a26162f56163f6');
});

const plain: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.double(),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.float32Array({ maxLength: 20 }),
    fc.float64Array({ maxLength: 20 }),
    fc.int32Array({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;

function sameBits(a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(b)) {
    return (
      ArrayBuffer.isView(a) &&
      a.constructor === b.constructor &&
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
    );
  }
  if (typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(b)) return Array.isArray(a) && a.length === b.length && b.every((x, i) => sameBits(a[i], x));
  if (b !== null && typeof b === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b);
    return ka.length === kb.length && kb.every((k) => sameBits((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

test('anything a body can hold decodes back identically with a standard CBOR decoder', (t) => {
  const w = new CborWriter();
  fc.assert(
    fc.property(plain, (v) => sameBits(dec.decode(w.encode(v)), v)),
    { numRuns: 500 },
  );
  t.pass();
});

test('earlier messages are never overwritten (zeromq.js sends them zero-copy)', (t) => {
  const w = new CborWriter();
  const first = w.encode({ data: new Float32Array(1000).fill(3.25) });
  const copy = Buffer.from(first);
  // Enough large messages to move to fresh slabs several times.
  for (let i = 0; i < 50; i++) w.encode({ data: new Float32Array(40_000).fill(i) });
  t.true(first.equals(copy));
  const big = w.encode({ data: new Float64Array(200_000).fill(1.25) });
  t.is((dec.decode(big) as { data: Float64Array }).data[199_999], 1.25);
});

test('maps of 24 keys and more get a wider header, also ahead of large typed arrays', (t) => {
  const w = new CborWriter();
  for (const n of [0, 23, 24, 255, 256, 300]) {
    const inner: Record<string, number> = {};
    for (let i = 0; i < n; i++) inner[`k${i}`] = i;
    const big = new Float32Array(20_000).map((_, i) => i * 0.5);
    const value = { inner, after: { big, small: new Int32Array([n]) }, tail: 'x' };
    t.true(sameBits(dec.decode(w.encode(value)), value), `n=${n}`);
  }
});

test('messages with large typed arrays get a buffer of exactly their size and the caller keeps its array', (t) => {
  const w = new CborWriter();
  const data = new Float32Array(65_536).fill(1.5);
  const a = w.encode({ data, n: 1 });
  data.fill(-7);
  const b = w.encode({ data, n: 2 });
  // tag (2) + byte-string head (5) + bytes, inside a map of 2 with 1-byte keys.
  t.is(a.length, 1 + 5 + 2 + 5 + data.byteLength + 2 + 1);
  t.is(a.byteOffset, 0);
  t.is(a.buffer.byteLength, a.length);
  t.is((dec.decode(a) as { data: Float32Array }).data[65_535], 1.5);
  t.is((dec.decode(b) as { data: Float32Array }).data[0], -7);
  t.deepEqual(dec.decode(w.encode({ ok: 1 })), { ok: 1 });
});

test('the envelope is v, seq, mono_ms, wall_ms and body: source and topic are only in frame 1', (t) => {
  const w = new CborWriter();
  const env = dec.decode(w.encodeEnvelope(w.envelopePrefix(SCHEMA_VERSION), 7, 12.5, 1.7e12, { kind: 'k' })) as Record<string, unknown>;
  t.deepEqual(Object.keys(env), ['v', 'seq', 'mono_ms', 'wall_ms', 'body']);
  t.deepEqual(env, { v: SCHEMA_VERSION, seq: 7, mono_ms: 12.5, wall_ms: 1.7e12, body: { kind: 'k' } });
});

test('non-ASCII text is UTF-8, cached or not', (t) => {
  const w = new CborWriter();
  const v = { µV: 'héllo 😀', unit: 'µV', long: 'ü'.repeat(100), ascii: 'a'.repeat(100) };
  for (let i = 0; i < 3; i++) t.deepEqual(dec.decode(w.encode(v)), v);
  t.is(w.encode('µ').toString('hex'), '62c2b5');
});

test('unencodable values throw a TypeError and leave the writer usable', (t) => {
  const w = new CborWriter();
  t.throws(() => w.encode({ m: new Map() }), { instanceOf: TypeError });
  t.throws(() => w.encode({ b: 1n }), { instanceOf: TypeError });
  t.deepEqual(dec.decode(w.encode({ ok: 1 })), { ok: 1 });
});

test('a body the encoder refuses is counted, never thrown into the loop', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'r', boardId: 'b', logger: nullLogger() });
  await pub.start();
  try {
    t.notThrows(() => pub.publish('event', { kind: 'x', level: 'info', message: 'm', data: { when: new Date() as never } }));
    const s = pub.stats();
    t.is(s.errors, 1);
    t.is(s.topics.event.dropped, 1);
  } finally {
    await pub.close();
  }
  pub.publish('event', { kind: 'x', level: 'info', message: 'after close' });
  t.is(pub.stats().not_running, 1);
});

test('topic frames and subscription prefixes', (t) => {
  t.is(topicFrame('emg.raw', 'rig-a', 'cyton1'), 'emg.raw/rig-a/cyton1');
  t.deepEqual(parseTopicFrame('emg.raw/rig-a/cyton1'), { topic: 'emg.raw', runtime: 'rig-a', board: 'cyton1' });
  t.is(parseTopicFrame('emg.raw/rig-a'), undefined);
  t.is(parseTopicFrame('nope/rig-a/b'), undefined);
  t.deepEqual(subscriptionPrefixes(undefined, undefined), ['']);
  t.deepEqual(subscriptionPrefixes(['loop'], undefined), ['loop/']);
  t.deepEqual(subscriptionPrefixes(['loop', 'clock'], ['a', 'b']), ['loop/a/', 'loop/b/', 'clock/a/', 'clock/b/']);
  t.is(subscriptionPrefixes(undefined, ['a']).length, 9);
});
