import test from 'ava';
import type { ReflexError } from '../src/core/errors.js';
import { collectPairs } from '../src/orakle/collect.js';
import { Status, type FloatArray } from '../src/orakle/message.js';
import { predictAndPublish } from '../src/orakle/predict.js';
import { ArraySubscriber } from '../src/orakle/subscriber.js';
import { drainUntilInSync, lockstep, type LockstepStats } from '../src/orakle/sync.js';
import { pair } from './orakle-helpers.js';

for (const transport of ['ipc', 'tcp'] as const) {
  test(`${transport}: drainUntilInSync drops the backlog and waits for the source that lags`, async (t) => {
    const a = await pair(transport, { topic: 'emg' });
    const b = await pair(transport, { topic: 'pos', dtype: 'float64' });
    t.teardown(() => {
      a.close();
      b.close();
    });
    for (let ts = 100; ts <= 104; ts++) await a.pub.publish(Float32Array.of(ts), { timestampMs: ts });
    await b.pub.publish(Float64Array.of(90), { timestampMs: 90 }); // far behind: must not count as in sync
    const synced = drainUntilInSync([a.sub, b.sub], 0.5, { timeoutMs: 5000 });
    await b.pub.publish(Float64Array.of(104), { timestampMs: 104 });
    const [la, lb] = await synced;
    t.is(la!.timestampMs, 104);
    t.is(lb!.timestampMs, 104);
    t.is(a.sub.counters.get('received'), 5, 'the backlog was read, not left queued');
    t.is(await a.sub.receive({ timeoutMs: 0 }), null);
  });
}

test('drainUntilInSync times out with a code when a source is silent; argument errors', async (t) => {
  const a = await pair('ipc', { topic: 'a' });
  const silent = new ArraySubscriber({ topic: 'nobody' });
  t.teardown(() => {
    a.close();
    silent.close();
  });
  await a.pub.publish(Float32Array.of(1));
  const err = await t.throwsAsync<ReflexError>(drainUntilInSync([a.sub, silent], 1, { timeoutMs: 100 }));
  t.is(err.code, 'E_ORAKLE_TIMEOUT');
  t.regex(err.message, /nobody/);
  t.is((await t.throwsAsync<ReflexError>(drainUntilInSync([], 1))).code, 'E_ORAKLE_EMPTY');
  t.is((await t.throwsAsync<ReflexError>(drainUntilInSync([a.sub], -1))).code, 'E_ORAKLE_TOLERANCE');
});

test('lockstep gives one message per source per step and skips steps with a bad status', async (t) => {
  const a = await pair('tcp', { topic: 'x' });
  const b = await pair('ipc', { topic: 'y' });
  t.teardown(() => {
    a.close();
    b.close();
  });
  for (let i = 0; i < 5; i++) {
    await a.pub.publish(Float32Array.of(i));
    await b.pub.publish(Float32Array.of(i * 10), { status: i === 2 ? Status.INVALID : Status.OK });
  }
  const ac = new AbortController();
  const stats: LockstepStats = { steps: 0, skipped: 0 };
  const steps: number[][] = [];
  for await (const step of lockstep([a.sub, b.sub], { signal: ac.signal }, stats)) {
    steps.push(step.map((m) => m.data[0]!));
    if (steps.length === 4) ac.abort(); // the next receive sees the abort and the loop ends cleanly
  }
  t.deepEqual(steps, [
    [0, 0],
    [1, 10],
    [3, 30],
    [4, 40],
  ]);
  t.deepEqual(stats, { steps: 4, skipped: 1 });
  // With skipInvalid false the bad step is yielded as is.
  await a.pub.publish(Float32Array.of(5));
  await b.pub.publish(new Float32Array(0));
  const it = lockstep([a.sub, b.sub], { skipInvalid: false });
  const r = await it.next();
  t.is(r.done, false);
  t.is((r.value as { status: number }[])[1]!.status, Status.INVALID);
  await it.return();
});

test('collectPairs builds X and Y row by row, skipping bad steps and skewed pairs', async (t) => {
  const x = await pair('ipc', { topic: 'feat', dtype: 'float32' });
  const y = await pair('ipc', { topic: 'target', dtype: 'float64' });
  t.teardown(() => {
    x.close();
    y.close();
  });
  const rows = [
    { x: [1, 2, 3], y: [10, 20], tx: 0, ty: 0 },
    { x: [4, 5, 6], y: [40, 50], tx: 10, ty: 10, bad: true },
    { x: [7, 8, 9], y: [70, 80], tx: 20, ty: 35 },
    { x: [0, 1, 0], y: [1, 1], tx: 30, ty: 30.5 },
    { x: [2, 2, 2], y: [3, 3], tx: 40, ty: 40 },
  ];
  for (const r of rows) {
    await x.pub.publish(Float32Array.from(r.x), { timestampMs: r.tx, status: r.bad ? Status.STALE : Status.OK });
    await y.pub.publish(Float64Array.from(r.y), { timestampMs: r.ty });
  }
  const set = await collectPairs(x.sub, y.sub, 3, { maxSkewMs: 1 });
  t.is(set.rows, 3);
  t.deepEqual(set.xShape, [3, 3]);
  t.deepEqual(set.yShape, [3, 2]);
  t.deepEqual(set.X, Float32Array.of(1, 2, 3, 0, 1, 0, 2, 2, 2));
  t.deepEqual(set.Y, Float64Array.of(10, 20, 1, 1, 3, 3));
  t.is(set.invalid, 1);
  t.is(set.skewed, 1);
});

test('collectPairs stops early on abort with the rows it has; width changes are errors', async (t) => {
  const x = await pair('tcp', { topic: 'fx' });
  const y = await pair('tcp', { topic: 'fy' });
  t.teardown(() => {
    x.close();
    y.close();
  });
  await x.pub.publish(Float32Array.of(1, 2));
  await y.pub.publish(Float32Array.of(3));
  const ac = new AbortController();
  const set = await collectPairs(x.sub, y.sub, 10, { signal: ac.signal, onRow: (rows) => rows === 1 && ac.abort() });
  t.is(set.rows, 1);
  t.deepEqual(set.xShape, [1, 2]);
  t.deepEqual(set.X, Float32Array.of(1, 2));
  t.deepEqual(set.Y, Float32Array.of(3));
  for (const w of [3, 2]) {
    await x.pub.publish(new Float32Array(w));
    await y.pub.publish(Float32Array.of(5));
  }
  t.is((await t.throwsAsync<ReflexError>(collectPairs(x.sub, y.sub, 2))).code, 'E_ORAKLE_SHAPE');
  t.is((await t.throwsAsync<ReflexError>(collectPairs(x.sub, y.sub, 0))).code, 'E_ORAKLE_ROWS');
});

test('predictAndPublish serves predictions with the input timestamps and forwards bad inputs as INVALID', async (t) => {
  const input = await pair('ipc', { topic: 'emg' });
  const output = await pair('tcp', { topic: 'pred', dtype: 'float64' });
  t.teardown(() => {
    input.close();
    output.close();
  });
  const ac = new AbortController();
  const out = new Float64Array(2);
  const predict = (x: FloatArray): Float64Array => {
    out[0] = x[0]! * 2;
    out[1] = x[1]! + 1;
    return out;
  };
  const loop = predictAndPublish(input.sub, predict, output.pub, { signal: ac.signal });
  await input.pub.publish(Float32Array.of(1, 2), { timestampMs: 5 });
  await input.pub.publish(Float32Array.of(3, 4), { timestampMs: 6, status: Status.STALE });
  await input.pub.publish(Float32Array.of(5, 6), { timestampMs: 7 });
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await output.sub.receive({ timeoutMs: 5000 }))!);
  ac.abort();
  t.deepEqual(await loop, { predicted: 2, invalidInputs: 1 });
  t.deepEqual(
    got.map((m) => [m.status, m.timestampMs, [...m.data]]),
    [
      [Status.OK, 5, [2, 3]],
      [Status.INVALID, 6, []],
      [Status.OK, 7, [10, 7]],
    ],
  );
});

test('a throwing predict publishes INVALID and ends the loop with the error', async (t) => {
  const input = await pair('ipc', { topic: 'in' });
  const output = await pair('ipc', { topic: 'out' });
  t.teardown(() => {
    input.close();
    output.close();
  });
  const loop = predictAndPublish(
    input.sub,
    () => {
      throw new Error('model missing');
    },
    output.pub,
  );
  await input.pub.publish(Float32Array.of(1), { timestampMs: 9 });
  const err = await t.throwsAsync<ReflexError>(loop);
  t.is(err.code, 'E_ORAKLE_PREDICT');
  t.regex(err.message, /model missing/);
  const m = (await output.sub.receive({ timeoutMs: 5000 }))!;
  t.is(m.status, Status.INVALID);
  t.is(m.timestampMs, 9);
});
