import test from 'ava';
import { TelemetryClient } from '../src/telemetry/client.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { SCHEMA_VERSION, TOPICS, type TopicBodies } from '../src/telemetry/topics.js';
import { createBlock } from '../src/core/block.js';
import { isBlockTopic } from '../src/telemetry/blocks.js';
import { bindEndpoint, byTopic, collect, PROTOS, sampleBodies } from './telemetry-helpers.js';

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Deep equality where typed arrays must match in class and in every bit (NaN, -0 included). */
function sameValue(actual: unknown, expected: unknown, path = 'body'): string | undefined {
  if (ArrayBuffer.isView(expected)) {
    if (!ArrayBuffer.isView(actual) || actual.constructor !== expected.constructor)
      return `${path}: expected ${expected.constructor.name}, got ${String(actual?.constructor?.name)}`;
    return bytesOf(actual).equals(bytesOf(expected)) ? undefined : `${path}: bytes differ`;
  }
  if (typeof expected === 'number') return Object.is(actual, expected) ? undefined : `${path}: ${String(actual)} !== ${expected}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: array length`;
    for (let i = 0; i < expected.length; i++) {
      const e = sameValue(actual[i], expected[i], `${path}[${i}]`);
      if (e) return e;
    }
    return undefined;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return `${path}: not an object`;
    for (const [k, v] of Object.entries(expected)) {
      const e = sameValue((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
      if (e) return e;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${path}: ${String(actual)} !== ${String(expected)}`;
}

for (const proto of PROTOS) {
  test(`every topic round-trips bit-exact over ${proto}`, async (t) => {
    const pub = new TelemetryPublisher({ endpoints: [bindEndpoint(proto)], runtimeId: 'rig-a', boardId: 'sim' });
    const [ep] = await pub.start();
    const client = new TelemetryClient({ endpoints: [ep!] });
    try {
      await pub.waitForSubscription('');
      const bodies = sampleBodies();
      for (const topic of TOPICS) pub.publish(topic, bodies[topic]);
      const msgs = await collect(client, (m) => m.length === TOPICS.length);
      t.deepEqual(
        msgs.map((m) => m.topic),
        [...TOPICS],
      );
      for (const m of msgs) {
        t.is(m.v, SCHEMA_VERSION);
        // On block topics the stream's descriptor went first and took sequence number 0.
        t.is(m.seq, isBlockTopic(m.topic) ? 1 : 0);
        t.is(m.lost, 0);
        t.deepEqual(m.source, { endpoint: ep, runtime: 'rig-a', board: 'sim' });
        t.true(m.mono_ms > 0 && m.wall_ms > 1.6e12);
        t.is(sameValue(m.body, bodies[m.topic]), undefined, m.topic);
      }
      const health = byTopic(msgs, 'health')[0]!;
      t.is(health.topic, 'health');
      if (health.topic === 'health') {
        // The publisher's own stats ride along in every health body.
        t.is(health.body.telemetry.topics['emg.raw'].sent, 2);
        t.is(health.body.telemetry.topics['emg.raw'].descriptors, 1);
        t.is(health.body.telemetry.dropped, 0);
      }
      t.like(client.stats(), { descriptors: 3, undescribed: 0, malformed: 0, lost: 0 });
    } finally {
      await client.close();
      await pub.close();
    }
  });

  test(`topic and runtime filters select at the publisher over ${proto}`, async (t) => {
    const pub = new TelemetryPublisher({ endpoints: [bindEndpoint(proto)], runtimeId: 'rig-b', boardId: 'cyton' });
    const [ep] = await pub.start();
    const client = new TelemetryClient({ endpoints: [ep!], topics: ['emg.raw', 'event'], runtimes: ['rig-b'] });
    try {
      await pub.waitForSubscription('emg.raw/rig-b/');
      await pub.waitForSubscription('event/rig-b/');
      const bodies = sampleBodies();
      for (let k = 0; k < 3; k++) for (const topic of TOPICS) pub.publish(topic, bodies[topic]);
      // Per-socket order is kept, so seeing the last event means nothing else was let through.
      const msgs = await collect(client, (m) => byTopic(m, 'event').length === 3);
      t.deepEqual(new Set(msgs.map((m) => m.topic)), new Set(['emg.raw', 'event']));
      t.deepEqual(
        byTopic(msgs, 'emg.raw').map((m) => m.seq),
        [1, 2, 3],
      );
      t.deepEqual(pub.subscriptions(), { 'emg.raw/rig-b/': 1, 'event/rig-b/': 1 });
    } finally {
      await client.close();
      await pub.close();
    }
  });
}

test('decimation publishes every Nth call, counts the rest, and keeps sequence numbers dense', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', decimate: { 'emg.raw': 3 } });
  const [ep] = await pub.start();
  const client = new TelemetryClient({ endpoints: [ep!], topics: ['emg.raw', 'loop'] });
  try {
    await pub.waitForSubscription('emg.raw/');
    await pub.waitForSubscription('loop/');
    const block = createBlock({ stream: 'emg', channels: 2, samples: 4, rate: 1000 });
    for (let i = 0; i < 9; i++) {
      block.data.fill(i);
      block.seq = i;
      pub.publishBlock('emg.raw', block);
    }
    pub.publish('loop', sampleBodies().loop);
    const msgs = await collect(client, (m) => byTopic(m, 'loop').length === 1);
    const raw = byTopic(msgs, 'emg.raw');
    t.deepEqual(
      raw.map((m) => m.seq),
      [1, 2, 3],
    );
    t.deepEqual(
      raw.map((m) => (m.topic === 'emg.raw' ? m.body.block_seq : -1)),
      [0, 3, 6],
    );
    const first = raw[0]!;
    if (first.topic === 'emg.raw') {
      t.deepEqual(first.body.channels, ['ch1', 'ch2']);
      t.true(first.body.data instanceof Float32Array);
      t.is(first.body.data.length, 8);
    }
    t.deepEqual(pub.stats().topics['emg.raw'], { sent: 4, dropped: 0, decimated: 6, descriptors: 1 });
    t.is(client.stats().lost, 0);
  } finally {
    await client.close();
    await pub.close();
  }
});

test('one client follows several runtimes and tags each message with its source', async (t) => {
  const a = new TelemetryPublisher({ endpoints: [bindEndpoint('tcp')], runtimeId: 'rig-a', boardId: 'sim' });
  const b = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-b', boardId: 'bridge1' });
  const [epA] = await a.start();
  const [epB] = await b.start();
  const client = new TelemetryClient({ endpoints: [epA!, { endpoint: epB! }], topics: ['prediction'] });
  try {
    await a.waitForSubscription('prediction/');
    await b.waitForSubscription('prediction/');
    const body: TopicBodies['prediction'] = sampleBodies().prediction;
    for (let i = 0; i < 5; i++) {
      a.publish('prediction', { ...body, tick: i });
      b.publish('prediction', { ...body, tick: 100 + i });
    }
    const msgs = await collect(client, (m) => m.length === 10);
    const fromA = msgs.filter((m) => m.source.runtime === 'rig-a');
    const fromB = msgs.filter((m) => m.source.runtime === 'rig-b');
    t.is(fromA.length, 5);
    t.is(fromB.length, 5);
    t.true(fromA.every((m) => m.source.endpoint === epA && m.source.board === 'sim'));
    t.true(fromB.every((m) => m.source.endpoint === epB && m.source.board === 'bridge1'));
    t.deepEqual(
      fromB.map((m) => (m.topic === 'prediction' ? m.body.tick : -1)),
      [100, 101, 102, 103, 104],
    );
  } finally {
    await client.close();
    await a.close();
    await b.close();
  }
});

test('iteration ends cleanly when the client is closed while waiting', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim' });
  const [ep] = await pub.start();
  const client = new TelemetryClient({ endpoints: [ep!] });
  await pub.waitForSubscription('');
  const consumed = (async () => {
    let n = 0;
    for await (const _m of client) n++;
    return n;
  })();
  pub.publish('event', sampleBodies().event);
  await client.close();
  const n = await consumed;
  t.true(n === 0 || n === 1);
  await pub.close();
});

test('ids that would break topic frames are refused', (t) => {
  const err = t.throws(() => new TelemetryPublisher({ endpoints: ['ipc:///tmp/x'], runtimeId: 'rig/a', boardId: 'sim' }));
  t.is((err as { code?: string }).code, 'E_BAD_ID');
});
