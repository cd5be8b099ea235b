import test from 'ava';
import { ConfigError, ReflexError } from '../src/core/errors.js';
import { Batcher, batch, batchSync } from '../src/streams/batch.js';
import { Streamer } from '../src/streams/streamer.js';

const rec = (i: number): { x: Float32Array; y: number; z: Int16Array } => ({ x: Float32Array.of(i, i + 0.5), y: i * 10, z: Int16Array.of(-i) });

test('records stack along a leading batch axis; numbers become Float64Array', (t) => {
  const out = [...batchSync([rec(0), rec(1), rec(2), rec(3)], 2)];
  t.is(out.length, 2);
  t.deepEqual(out[0], { x: Float32Array.of(0, 0.5, 1, 1.5), y: Float64Array.of(0, 10), z: Int16Array.of(0, -1) });
  t.deepEqual(out[1], { x: Float32Array.of(2, 2.5, 3, 3.5), y: Float64Array.of(20, 30), z: Int16Array.of(-2, -3) });
  t.not(out[0]!.x.buffer, out[1]!.x.buffer, 'fresh arrays per batch by default');
});

test('bare typed arrays batch into one typed array', async (t) => {
  const s = Streamer.of([Float64Array.of(1, 2), Float64Array.of(3, 4), Float64Array.of(5, 6)]);
  const out: Float64Array[] = [];
  for await (const b of batch(s, 3)) out.push(b);
  t.deepEqual(out, [Float64Array.of(1, 2, 3, 4, 5, 6)]);
});

test('partial last batch: drop (default), keep, error', async (t) => {
  const items = [rec(0), rec(1), rec(2)];
  t.is([...batchSync(items, 2)].length, 1);
  const kept = [...batchSync(items, 2, { partial: 'keep' })];
  t.is(kept.length, 2);
  t.deepEqual(kept[1], { x: Float32Array.of(2, 2.5), y: Float64Array.of(20), z: Int16Array.of(-2) });
  const err = t.throws<ReflexError>(() => [...batchSync(items, 2, { partial: 'error' })]);
  t.is(err?.code, 'E_BATCH_PARTIAL');
  t.deepEqual([...batchSync(items.slice(0, 2), 2, { partial: 'error' })].length, 1, 'no leftover, no error');
  t.deepEqual([...batchSync([], 2, { partial: 'keep' })], [], 'empty stream yields nothing');
  const asyncKept: unknown[] = [];
  for await (const b of batch(Streamer.of(items), 5, { partial: 'keep' })) asyncKept.push(b);
  t.is(asyncKept.length, 1);
});

test('reuse refills the same arrays; a kept partial batch is a view on them', (t) => {
  const out = [...batchSync([rec(0), rec(1), rec(2)], 2, { reuse: true, partial: 'keep' })];
  t.is(out[0]!.x.buffer, out[1]!.x.buffer);
  t.is(out[1]!.x.length, 2);
  t.deepEqual(out[1]!.y, Float64Array.of(20));
});

test('batch size 1 and mismatched items', (t) => {
  t.deepEqual([...batchSync([Uint8Array.of(1), Uint8Array.of(2)], 1)], [Uint8Array.of(1), Uint8Array.of(2)]);
  const code = (items: unknown[]): string | undefined =>
    (t.throws<ReflexError>(() => [...batchSync(items as Float32Array[], 2)]) as ReflexError | undefined)?.code;
  t.is(code([Float32Array.of(1, 2), Float32Array.of(1)]), 'E_BATCH_SHAPE');
  t.is(code([Float32Array.of(1), Float64Array.of(1)]), 'E_BATCH_TYPE');
  t.is(code([{ a: Float32Array.of(1) }, { b: Float32Array.of(1) }]), 'E_BATCH_KEYS');
  t.is(code([{ a: Float32Array.of(1) }, { a: Float32Array.of(1), b: 2 }]), 'E_BATCH_KEYS');
  t.is(code([{ a: 1 }, { a: 'x' }]), 'E_BATCH_TYPE');
  t.is(code([{ a: [1, 2] }]), 'E_BATCH_TYPE');
  t.is(code([{}]), 'E_BATCH_KEYS');
  t.is(code([42]), 'E_BATCH_TYPE');
  // A new batch may start a new layout (no reuse): only items within a batch must agree.
  t.is([...batchSync([Float32Array.of(1), Float32Array.of(2), Float32Array.of(1, 2), Float32Array.of(3, 4)], 2)].length, 2);
});

test('bad sizes and policies are ConfigErrors up front', (t) => {
  for (const size of [0, -1, 1.5, Number.NaN]) t.is(t.throws<ReflexError>(() => batchSync([], size), { instanceOf: ConfigError })?.code, 'E_BATCH_SIZE');
  t.is(t.throws<ReflexError>(() => new Batcher(2, { partial: 'pad' as 'keep' }), { instanceOf: ConfigError })?.code, 'E_BATCH_PARTIAL');
});

test('Batcher is a pure transformer: push and flush', (t) => {
  const b = new Batcher<Float32Array>(3, { partial: 'keep' });
  t.is(b.push(Float32Array.of(1)), null);
  t.is(b.pending, 1);
  t.is(b.push(Float32Array.of(2)), null);
  t.deepEqual(b.push(Float32Array.of(3)), Float32Array.of(1, 2, 3));
  t.is(b.flush(), null);
  b.push(Float32Array.of(4));
  t.deepEqual(b.flush(), Float32Array.of(4));
  t.is(b.pending, 0);
});
