import test from 'ava';
import type { ReflexError } from '../src/core/errors.js';
import { monotonicMs } from '../src/time/monotonic.js';
import * as zmq from 'zeromq';
import { Status, decodeMessage, headerSize, writeHeader } from '../src/orakle/message.js';
import { ArrayPublisher } from '../src/orakle/publisher.js';
import { ArraySubscriber } from '../src/orakle/subscriber.js';
import { endpoint, pair } from './orakle-helpers.js';

for (const transport of ['ipc', 'tcp'] as const) {
  test(`${transport}: arrays arrive with shape, status, seq and timestamp`, async (t) => {
    const { pub, sub, close } = await pair(transport, { topic: 'emg', dtype: 'float32', shape: [2, 3] });
    t.teardown(close);
    const before = monotonicMs();
    const data = Float32Array.of(1, 2, 3, 4, 5, Number.NaN);
    await pub.publish(data);
    await pub.publish(Float32Array.of(0, 0, 0, 0, 0, 0), { status: Status.STALE, timestampMs: 12.5 });
    await pub.publish(new Float32Array(0), { shape: [0] });
    await pub.publish(Float32Array.of(7, 8), { shape: [2] });
    const a = (await sub.receive({ timeoutMs: 5000 }))!;
    t.is(a.topic, 'emg');
    t.deepEqual(a.shape, [2, 3]);
    t.deepEqual(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), new Uint8Array(data.buffer));
    t.true(a.data instanceof Float32Array);
    t.is(a.status, Status.OK);
    t.is(a.seq, 0);
    t.true(a.timestampMs >= before && a.timestampMs <= monotonicMs());
    const b = (await sub.receive({ timeoutMs: 5000 }))!;
    t.is(b.status, Status.STALE);
    t.is(b.timestampMs, 12.5);
    t.is(b.seq, 1);
    const c = (await sub.receive({ timeoutMs: 5000 }))!;
    t.is(c.status, Status.INVALID, 'an empty array is sent as INVALID');
    t.is(c.data.length, 0);
    const d = (await sub.receive({ timeoutMs: 5000 }))!;
    t.deepEqual(d.shape, [2]);
    t.deepEqual(d.data, Float32Array.of(7, 8));
    t.is(sub.latest, d);
    t.is(sub.counters.get('received'), 4);
    t.is(sub.counters.get('gaps'), 0);
    t.is(await sub.receive({ timeoutMs: 0 }), null, 'nothing queued');
  });
}

test('float64 arrays, prefix topics filtered exactly, async iteration ends on close', async (t) => {
  const { pub, sub, close } = await pair('ipc', { topic: 'pos2', dtype: 'float64' }, 'pos');
  t.teardown(close);
  const exact = new ArraySubscriber({ topic: 'pos2' });
  t.teardown(() => exact.close());
  await pub.publish(Float64Array.of(Math.PI, -0));
  const m = await sub.receive({ timeoutMs: 300 });
  t.is(m, null, 'topic "pos" does not match "pos2" even though ZeroMQ delivered it');
  t.is(sub.counters.get('otherTopic'), 1);
  // Same publisher, exact topic subscriber.
  exact.connect(pub.socket.lastEndpoint!);
  await pub.waitForSubscribers(2, { timeoutMs: 5000 });
  await pub.publish(Float64Array.of(Math.E));
  const seen: number[] = [];
  for await (const msg of exact) {
    seen.push(msg.data[0]!);
    exact.close();
  }
  t.deepEqual(seen, [Math.E]);
});

test('sequence gaps (messages never received) are counted; a restart is not a gap', async (t) => {
  // A raw publisher writes the framing itself, so the gaps are exactly the ones we make.
  const pub = new zmq.XPublisher({ linger: 0 });
  await pub.bind(endpoint('tcp'));
  const ep = pub.lastEndpoint!;
  const sub = new ArraySubscriber({ topic: 'g' });
  t.teardown(() => {
    sub.close();
    pub.close();
  });
  sub.connect(ep);
  await pub.receive(); // the subscription has arrived
  const header = Buffer.alloc(headerSize(1));
  const body = Float32Array.of(1);
  for (const seq of [0, 1, 4, 5, 0, 1]) {
    writeHeader(header, Status.OK, 'float32', seq, seq, [1]);
    await pub.send(['g', header, body]);
  }
  const seqs: number[] = [];
  for (let i = 0; i < 6; i++) seqs.push((await sub.receive({ timeoutMs: 5000 }))!.seq);
  t.deepEqual(seqs, [0, 1, 4, 5, 0, 1]);
  t.is(sub.counters.get('gaps'), 2);
  t.is(sub.counters.get('received'), 6);
});

test('publish checks dtype and shape; bad options are ConfigErrors', async (t) => {
  const pub = new ArrayPublisher({ topic: 'x', dtype: 'float32' });
  t.teardown(() => pub.close());
  t.is((await t.throwsAsync<ReflexError>(pub.publish(Float64Array.of(1)))).code, 'E_ORAKLE_DTYPE');
  t.is((await t.throwsAsync<ReflexError>(pub.publish(Float32Array.of(1, 2, 3), { shape: [2, 2] }))).code, 'E_ORAKLE_SHAPE');
  t.is(t.throws<ReflexError>(() => new ArrayPublisher({ topic: '' }))?.code, 'E_ORAKLE_TOPIC');
  t.is(t.throws<ReflexError>(() => new ArrayPublisher({ topic: 'a', dtype: 'int8' as 'float32' }))?.code, 'E_ORAKLE_DTYPE');
  t.is(t.throws<ReflexError>(() => new ArraySubscriber({ topic: '' }))?.code, 'E_ORAKLE_TOPIC');
  const lonely = new ArrayPublisher({ topic: 'y' });
  t.teardown(() => lonely.close());
  await lonely.bind(endpoint('tcp'));
  t.is((await t.throwsAsync<ReflexError>(lonely.waitForSubscribers(1, { timeoutMs: 50 }))).code, 'E_ORAKLE_TIMEOUT');
});

test('an aborted receive keeps the message for the next receive', async (t) => {
  const { pub, sub, close } = await pair('ipc', { topic: 'a' });
  t.teardown(close);
  const ac = new AbortController();
  const waiting = sub.receive({ signal: ac.signal });
  ac.abort();
  t.is((await t.throwsAsync<ReflexError>(waiting)).code, 'E_ORAKLE_ABORTED');
  await pub.publish(Float32Array.of(42));
  const m = await sub.receive({ timeoutMs: 5000 });
  t.deepEqual(m?.data, Float32Array.of(42));
});

test('decodeMessage rejects malformed frames with E_ORAKLE_FRAME', (t) => {
  const header = Buffer.alloc(28);
  header[0] = 0xa7;
  header[1] = 1;
  header[3] = 1;
  header[4] = 1;
  header.writeUInt32LE(2, 24);
  const ok = [Buffer.from('t'), header, Buffer.from(new Float32Array(2).buffer)];
  t.deepEqual(decodeMessage(ok).shape, [2]);
  const bad = (frames: Buffer[]): string | undefined => (t.throws<ReflexError>(() => decodeMessage(frames)) as ReflexError | undefined)?.code;
  t.is(bad([Buffer.from('t'), header]), 'E_ORAKLE_FRAME');
  t.is(bad([Buffer.from('t'), Buffer.from([1, 2, 3]), ok[2]!]), 'E_ORAKLE_FRAME');
  t.is(bad([Buffer.from('t'), header, Buffer.alloc(7)]), 'E_ORAKLE_FRAME');
  const v2 = Buffer.from(header);
  v2[1] = 2;
  t.is(bad([Buffer.from('t'), v2, ok[2]!]), 'E_ORAKLE_FRAME');
  const st = Buffer.from(header);
  st[2] = 9;
  t.is(bad([Buffer.from('t'), st, ok[2]!]), 'E_ORAKLE_FRAME');
});
