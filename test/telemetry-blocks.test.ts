/**
 * Block topics on the wire (schema 3): stream descriptors and packed blocks, from the
 * publisher's side (when it describes) and the client's side (how it joins them).
 */
import test from 'ava';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Subscriber, XPublisher } from 'zeromq';
import { nullLogger } from '../src/core/log.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { PACKED, PACKED_LENGTH } from '../src/telemetry/blocks.js';
import { CborWriter } from '../src/telemetry/cbor-writer.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { createDecoder, createEncoder } from '../src/telemetry/codec.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { SCHEMA_VERSION, type BlockBody, type TelemetryMessage } from '../src/telemetry/topics.js';
import { bindEndpoint, byTopic, collect, sampleBodies } from './telemetry-helpers.js';

/** The next n messages of a client without ending its iteration (collect() closes the client). */
async function take(it: AsyncIterator<TelemetryMessage>, n: number): Promise<TelemetryMessage[]> {
  const out: TelemetryMessage[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

function block(channels: string[], samples: number, seq: number): BlockBody {
  return {
    stream: 'emg',
    rate: 2000,
    unit: 'uV',
    channels,
    samples,
    first_sample: seq * samples,
    block_seq: seq,
    device_time_us: 1e6 + seq,
    host_time_ms: 5000.25 + seq,
    host_period_ms: 0.5,
    valid: true,
    data: new Float32Array(channels.length * samples).map((_, i) => i + seq / 8),
  };
}

test('a packed block is the documented array, and a 64-byte block fits a 128-byte frame', (t) => {
  const w = new CborWriter();
  const b = block(['ch1', 'ch2', 'ch3', 'ch4', 'ch5', 'ch6', 'ch7', 'ch8'], 2, 3);
  // Worst case below 2^32 for the counters and a 3-byte descriptor id.
  b.first_sample = 0xffffffff;
  b.block_seq = 0xffffffff;
  const bytes = w.encodePackedBlock(SCHEMA_VERSION, 0xffffffff, 1234.5678, 0xffff, b);
  // zeromq.js copies frames of at most 128 bytes and sends bigger ones through a slower zero-copy path.
  t.true(bytes.length <= 128, `${bytes.length} bytes`);
  const arr = createDecoder().decode(bytes) as unknown[];
  t.is(arr.length, PACKED_LENGTH);
  t.is(arr[PACKED.v], SCHEMA_VERSION);
  t.is(arr[PACKED.seq], 0xffffffff);
  t.is(arr[PACKED.mono_ms], 1234.5678);
  t.is(arr[PACKED.desc], 0xffff);
  t.is(arr[PACKED.samples], 2);
  t.is(arr[PACKED.first_sample], 0xffffffff);
  t.is(arr[PACKED.block_seq], 0xffffffff);
  t.is(arr[PACKED.device_time_us], b.device_time_us);
  t.is(arr[PACKED.host_time_ms], b.host_time_ms);
  t.is(arr[PACKED.host_period_ms], 0.5);
  t.is(arr[PACKED.valid], true);
  t.deepEqual(arr[PACKED.data], b.data);
  // The samples are the last 64 bytes, after tag 85 and a byte-string header: nothing re-encoded.
  t.deepEqual(bytes.subarray(bytes.length - 64), Buffer.from(b.data.buffer));
  t.deepEqual([...bytes.subarray(bytes.length - 68, bytes.length - 64)], [0xd8, 85, 0x58, 64]);
});

test('the description travels once: a changed description gets a new id and is sent before the block that needs it', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', describeEveryMs: 1e9 });
  const [ep] = await pub.start();
  // A bare SUB sees the frames as they are on the wire.
  const sub = new Subscriber({ linger: 0 });
  sub.subscribe('emg.raw/');
  sub.connect(ep!);
  const dec = createDecoder();
  try {
    await pub.waitForSubscription('emg.raw/');
    const four = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < 3; i++) pub.publish('emg.raw', block(four, 2, i));
    // Same names in a new array: still the same description.
    pub.publish('emg.raw', block([...four], 2, 3));
    pub.publish('emg.raw', block(['a', 'b'], 2, 4));
    pub.publish('emg.raw', block(['a', 'b'], 3, 5));
    const kinds: string[] = [];
    const descIds: number[] = [];
    for (let i = 0; i < 8; i++) {
      const [, body] = await sub.receive();
      const v = dec.decode(body!) as unknown;
      if (Array.isArray(v)) {
        kinds.push(`block:${v[PACKED.block_seq] as number}`);
        t.is(v[PACKED.desc], descIds[descIds.length - 1], 'a block names the latest descriptor');
      } else {
        const d = (v as { body: { desc: number; channels: string[] } }).body;
        kinds.push(`desc:${d.channels.join('')}`);
        descIds.push(d.desc);
      }
    }
    t.deepEqual(kinds, ['desc:abcd', 'block:0', 'block:1', 'block:2', 'block:3', 'desc:ab', 'block:4', 'block:5']);
    t.not(descIds[0], descIds[1]);
    t.is(pub.stats().topics['emg.raw'].descriptors, 2);
  } finally {
    sub.close();
    await pub.close();
  }
});

test('a subscriber that joins later is described before its next block, and the earlier one is not confused', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('tcp')], runtimeId: 'rig-a', boardId: 'sim', describeEveryMs: 1e9 });
  const [ep] = await pub.start();
  const early = new TelemetryClient({ endpoints: [ep!], topics: ['emg.raw'] });
  let late: TelemetryClient | undefined;
  try {
    await pub.waitForSubscription('emg.raw/');
    const names = ['x1', 'x2'];
    for (let i = 0; i < 3; i++) pub.publish('emg.raw', block(names, 4, i));
    const earlyIt = early[Symbol.asyncIterator]();
    const first = await take(earlyIt, 3);
    t.deepEqual(
      first.map((m) => m.topic === 'emg.raw' && m.body.block_seq),
      [0, 1, 2],
    );
    // A second client subscribes to everything: its subscription makes the publisher describe again.
    late = new TelemetryClient({ endpoints: [ep!] });
    await pub.waitForSubscription('');
    for (let i = 3; i < 6; i++) pub.publish('emg.raw', block(names, 4, i));
    const got = await collect(late, (m) => m.length === 3);
    t.deepEqual(
      got.map((m) => m.topic === 'emg.raw' && m.body.block_seq),
      [3, 4, 5],
    );
    const m0 = got[0]!;
    if (m0.topic === 'emg.raw') {
      t.deepEqual(m0.body.channels, names);
      t.is(m0.body.unit, 'uV');
      t.deepEqual(m0.body.data, block(names, 4, 3).data);
    }
    t.like(late.stats(), { descriptors: 1, undescribed: 0, lost: 0 });
    const more = await take(earlyIt, 3);
    t.deepEqual(
      more.map((m) => m.seq),
      [5, 6, 7],
      'the repeated descriptor took seq 4 and is no loss',
    );
    t.like(early.stats(), { descriptors: 2, undescribed: 0, lost: 0 });
    t.is(pub.stats().topics['emg.raw'].descriptors, 2);
  } finally {
    await early.close();
    await late?.close();
    await pub.close();
  }
});

test('while blocks flow the descriptor is repeated every describeEveryMs, and not at all without blocks', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', describeEveryMs: 20, logger: nullLogger() });
  await pub.start();
  try {
    const b = block(['a'], 1, 0);
    pub.publish('emg.raw', b);
    pub.publish('emg.raw', b);
    t.is(pub.stats().topics['emg.raw'].descriptors, 1);
    // This test is about a time rule, so it lets time pass (not a synchronisation sleep).
    const t0 = monotonicMs();
    while (monotonicMs() - t0 < 25) await nextTurn();
    t.is(pub.stats().topics['emg.raw'].descriptors, 1, 'no blocks, no descriptors');
    pub.publish('emg.raw', b);
    pub.publish('emg.raw', b);
    t.is(pub.stats().topics['emg.raw'].descriptors, 2);
    t.is(pub.stats().topics.tracker.descriptors, 0);
  } finally {
    await pub.close();
  }
});

test('the client drops blocks it cannot describe, and forgets descriptors when a publisher restarts', async (t) => {
  // Hand-made frames from the document, so the client is checked against the contract, not the publisher.
  const sock = new XPublisher({ linger: 0 });
  await sock.bind(bindEndpoint('ipc'));
  const client = new TelemetryClient({ endpoints: [sock.lastEndpoint!], topics: ['emg.raw', 'event'], logger: nullLogger() });
  const enc = createEncoder();
  const frame = 'emg.raw/rig-x/b1';
  const packed = (seq: number, desc: number, data: Float32Array, samples: number): Buffer =>
    enc.encode([3, seq, 100 + seq, desc, samples, seq * samples, seq, Number.NaN, 50 + seq, 1, true, data]);
  const describe = (seq: number, desc: number, channels: string[]): Buffer =>
    enc.encode({ v: 3, seq, mono_ms: 100 + seq, wall_ms: 1.7e12 + seq, body: { desc, stream: 'emg', rate: 1000, unit: 'mV', channels } });
  const event = (seq: number): Buffer => enc.encode({ v: 3, seq, mono_ms: 1, wall_ms: 1, body: { kind: 'mark', level: 'info', message: String(seq) } });
  try {
    await sock.receive();
    await sock.receive();
    const d2 = new Float32Array([1, 2, 3, 4]);
    await sock.send([frame, packed(0, 7, d2, 2)]); // before any descriptor
    await sock.send([frame, describe(1, 7, ['p', 'q'])]);
    await sock.send([frame, packed(2, 7, d2, 2)]);
    await sock.send([frame, packed(3, 8, d2, 2)]); // names a descriptor never sent
    await sock.send([frame, packed(4, 7, d2, 3)]); // 4 values are not 2 channels x 3 samples
    // The publisher restarts: seq goes back; a block naming the old id must not be read with it.
    await sock.send([frame, packed(0, 7, d2, 2)]);
    await sock.send([frame, describe(1, 7, ['r', 's'])]);
    await sock.send([frame, packed(2, 7, d2, 2)]);
    await sock.send(['event/rig-x/b1', event(0)]);
    const msgs = await collect(client, (m) => byTopic(m, 'event').length === 1);
    const blocks = byTopic(msgs, 'emg.raw');
    t.is(blocks.length, 2);
    const [a, b] = blocks;
    if (a?.topic === 'emg.raw' && b?.topic === 'emg.raw') {
      t.deepEqual(a.body.channels, ['p', 'q']);
      t.deepEqual(b.body.channels, ['r', 's']);
      t.like(a.body, { stream: 'emg', rate: 1000, unit: 'mV', samples: 2, first_sample: 4, block_seq: 2, host_time_ms: 52, host_period_ms: 1, valid: true });
      t.true(Number.isNaN(a.body.device_time_us));
      t.deepEqual(a.body.data, d2);
      // Wall time of a block: its monotonic time plus the descriptor's wall-minus-monotonic.
      t.is(a.wall_ms, 102 + (1.7e12 + 1 - 101));
    }
    t.like(client.stats(), { descriptors: 2, undescribed: 3, malformed: 1, restarts: 1 });
  } finally {
    await client.close();
    sock.close();
  }
});

test('non-block topics keep the map envelope; a packed array on them is malformed', async (t) => {
  const sock = new XPublisher({ linger: 0 });
  await sock.bind(bindEndpoint('ipc'));
  const client = new TelemetryClient({ endpoints: [sock.lastEndpoint!], topics: ['prediction'], logger: nullLogger() });
  const enc = createEncoder();
  try {
    await sock.receive();
    const body = sampleBodies().prediction;
    await sock.send(['prediction/r/b', enc.encode([3, 0, 1, 0, 1, 0, 0, 0, 0, 1, true, new Float32Array(1)])]);
    await sock.send(['prediction/r/b', enc.encode({ v: 3, seq: 1, mono_ms: 1, wall_ms: 2, body })]);
    const [m] = await collect(client, (ms) => ms.length === 1);
    t.is(m?.seq, 1);
    t.is(client.stats().malformed, 1);
  } finally {
    await client.close();
    sock.close();
  }
});

test('immutable large blocks go uncopied as a third frame; joined, the frames are the same packed block; small ones stay two frames', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', describeEveryMs: 1e9 });
  const [ep] = await pub.start();
  const sub = new Subscriber({ linger: 0 });
  sub.subscribe('emg.raw/');
  sub.connect(ep!);
  const client = new TelemetryClient({ endpoints: [ep!], topics: ['emg.raw'] });
  const dec = createDecoder();
  try {
    await pub.waitForSubscription('emg.raw/');
    const names = Array.from({ length: 8 }, (_, i) => `ch${i}`);
    const big = block(names, 1024, 1); // 32 KiB of samples
    const small = block(names, 4, 2); // 128 bytes
    pub.publish('emg.raw', big, { immutable: true });
    pub.publish('emg.raw', small, { immutable: true });
    pub.publish('emg.raw', big); // the same array, copied
    const frames: Buffer[][] = [];
    for (let i = 0; i < 4; i++) frames.push(await sub.receive());
    t.deepEqual(
      frames.map((f) => f.length),
      [2, 3, 2, 2],
      'descriptor, uncopied block, small block, copied block',
    );
    // The third frame is the caller's samples, byte for byte; joined, frames 2-3 equal the copied message.
    t.deepEqual(frames[1]![2], Buffer.from(big.data.buffer));
    const joined = Buffer.concat(frames[1]!.slice(1));
    const copied = frames[3]![1]!;
    const a = dec.decode(joined) as unknown[];
    const b = dec.decode(copied) as unknown[];
    t.deepEqual(a[PACKED.data], big.data);
    t.deepEqual(
      a.filter((_, i) => i !== PACKED.seq && i !== PACKED.mono_ms),
      b.filter((_, i) => i !== PACKED.seq && i !== PACKED.mono_ms),
    );
    // The client joins them too.
    const got = await take(client[Symbol.asyncIterator](), 3);
    t.deepEqual(
      got.map((m) => m.topic === 'emg.raw' && m.body.samples),
      [1024, 4, 1024],
    );
    const m0 = got[0]!;
    if (m0.topic === 'emg.raw') t.deepEqual(m0.body.data, big.data);
    t.like(client.stats(), { malformed: 0, lost: 0 });
  } finally {
    sub.close();
    await client.close();
    await pub.close();
  }
});
