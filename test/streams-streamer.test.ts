import test from 'ava';
import { ConfigError, ReflexError } from '../src/core/errors.js';
import { Streamer } from '../src/streams/streamer.js';
import { tuples, tuplesSync } from '../src/streams/tuples.js';
import { endless, records } from './streams-producers.js';

const producers = new URL('./streams-producers.ts', import.meta.url).href;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function* count(n: number, calls?: { opened: number; closed: number; pulled: number }): Generator<number> {
  if (calls) calls.opened++;
  try {
    for (let i = 0; i < n; i++) {
      if (calls) calls.pulled++;
      yield i;
    }
  } finally {
    if (calls) calls.closed++;
  }
}

test('each iteration calls the generator afresh (restartable)', async (t) => {
  const calls = { opened: 0, closed: 0, pulled: 0 };
  const s = new Streamer(count, 3, calls);
  t.deepEqual([...s.iterateSync()], [0, 1, 2]);
  t.deepEqual([...s.iterateSync()], [0, 1, 2]);
  t.deepEqual(await collect(s), [0, 1, 2]);
  t.is(calls.opened, 3);
});

test('iterate(maxIter) bounds the pass, closes the generator and never pulls an extra item', async (t) => {
  const calls = { opened: 0, closed: 0, pulled: 0 };
  const s = new Streamer(count, 10, calls);
  t.deepEqual([...s.iterateSync(4)], [0, 1, 2, 3]);
  t.is(calls.pulled, 4);
  t.is(calls.closed, 1);
  t.deepEqual(await collect(s.iterate(2)), [0, 1]);
  t.is(calls.closed, 2);
  // maxIter 0 does not even start the generator.
  t.deepEqual([...s.iterateSync(0)], []);
  t.is(calls.opened, 2);
  // maxIter above the length: the whole stream.
  t.deepEqual([...s.iterateSync(50)], [...Array(10).keys()]);
});

test('bad maxIter is a ConfigError with a code', (t) => {
  const s = new Streamer(count, 3);
  for (const bad of [-1, 1.5, Number.NaN]) {
    const err = t.throws<ReflexError>(() => s.iterateSync(bad), { instanceOf: ConfigError });
    t.is(err?.code, 'E_STREAM_MAX_ITER');
  }
  t.deepEqual([...s.iterateSync(Number.POSITIVE_INFINITY)], [0, 1, 2]);
});

test('cycle restarts the generator; maxIter bounds the total', async (t) => {
  const s = new Streamer(count, 3);
  t.deepEqual([...s.cycleSync(8)], [0, 1, 2, 0, 1, 2, 0, 1]);
  t.deepEqual(await collect(s.cycle(5)), [0, 1, 2, 0, 1]);
});

test('cycling an empty stream throws instead of spinning', async (t) => {
  const s = new Streamer(count, 0);
  t.is(t.throws<ReflexError>(() => [...s.cycleSync()])?.code, 'E_STREAM_EMPTY_CYCLE');
  const err = await t.throwsAsync(collect(s.cycle()));
  t.is((err as ReflexError).code, 'E_STREAM_EMPTY_CYCLE');
});

test('async generator functions: iterate works, iterateSync refuses with a code', async (t) => {
  // eslint-disable-next-line @typescript-eslint/require-await -- an async generator function is what this test needs; it has nothing to await
  async function* agen(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i * 10;
  }
  const s = new Streamer(agen, 3);
  t.deepEqual(await collect(s.iterate()), [0, 10, 20]);
  t.deepEqual(await collect(s.cycle(4)), [0, 10, 20, 0]);
  t.is(t.throws<ReflexError>(() => s.iterateSync())?.code, 'E_STREAM_NOT_SYNC');
});

test('Streamer.of: arrays restart, one-shot generators do not', (t) => {
  const arr = Streamer.of([1, 2]);
  t.deepEqual([...arr.iterateSync()], [1, 2]);
  t.deepEqual([...arr.iterateSync()], [1, 2]);
  const once = Streamer.of(count(2));
  t.deepEqual([...once.iterateSync()], [0, 1]);
  t.deepEqual([...once.iterateSync()], []);
  t.is(t.throws<ReflexError>(() => Streamer.of(42 as unknown as number[]))?.code, 'E_STREAM_NOT_ITERABLE');
  t.is(t.throws<ReflexError>(() => [...new Streamer(() => 5 as unknown as number[]).iterateSync()])?.code, 'E_STREAM_NOT_ITERABLE');
});

test('described streamers round-trip through their spec', async (t) => {
  const s = Streamer.described({ module: producers, export: 'records' }, records, 2, 4);
  const spec = s.toSpec();
  t.deepEqual(JSON.parse(JSON.stringify(spec)), { module: producers, export: 'records', args: [2, 4] });
  const again = await Streamer.load<ReturnType<typeof records> extends Iterable<infer R> ? R : never>(spec);
  const a = [...s.iterateSync()];
  const b = [...again.iterateSync()];
  t.is(b.length, 2);
  t.deepEqual(
    b.map((r) => r.tag),
    a.map((r) => r.tag),
  );
  t.deepEqual(new Uint8Array(b[1]!.y.buffer), new Uint8Array(a[1]!.y.buffer));
});

test('spec errors: undescribed, relative module, missing export, non-JSON args', async (t) => {
  t.is(t.throws<ReflexError>(() => new Streamer(endless, 3).toSpec())?.code, 'E_STREAM_NOT_DESCRIBED');
  t.is(t.throws<ReflexError>(() => Streamer.described({ module: './streams-producers.ts', export: 'endless' }, endless, 3))?.code, 'E_STREAM_SPEC');
  const bad = await t.throwsAsync<ReflexError>(Streamer.load({ module: producers, export: 'nope', args: [] }));
  t.is(bad.code, 'E_STREAM_SPEC');
  const nan = t.throws<ReflexError>(() => Streamer.described({ module: producers, export: 'endless' }, endless, Number.NaN));
  t.is(nan?.code, 'E_STREAM_SPEC');
});

test('tuples orders record fields by key; missing keys and no keys are coded errors', async (t) => {
  const items = [
    { x: Float32Array.of(1), y: 2, z: 'a' },
    { x: Float32Array.of(3), y: 4, z: 'b' },
  ];
  const out = [...tuplesSync(items, 'y', 'x')];
  t.deepEqual(out, [
    [2, Float32Array.of(1)],
    [4, Float32Array.of(3)],
  ]);
  t.not(out[0], out[1]);
  const a: [number, string][] = [];
  for await (const [y, z] of tuples(Streamer.of(items), 'y', 'z')) a.push([y, z]);
  t.deepEqual(a, [
    [2, 'a'],
    [4, 'b'],
  ]);
  t.is(t.throws<ReflexError>(() => tuplesSync(items))?.code, 'E_TUPLES_KEYS');
  const missing = t.throws<ReflexError>(() => [...tuplesSync(items as { x: Float32Array; y: number; w?: number }[], 'x', 'w')]);
  t.is(missing?.code, 'E_TUPLES_KEYS');
});
