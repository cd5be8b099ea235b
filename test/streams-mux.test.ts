import test from 'ava';
import type { ReflexError } from '../src/core/errors.js';
import { ConfigError } from '../src/core/errors.js';
import { ChainMux } from '../src/streams/mux-chain.js';
import { RoundRobinMux } from '../src/streams/mux-roundrobin.js';
import { ShuffledMux } from '../src/streams/mux-shuffled.js';
import { StochasticMux, type StochasticMuxOptions } from '../src/streams/mux-stochastic.js';
import { Streamer } from '../src/streams/streamer.js';

/** A pool whose generators record activations, concurrency and run lengths. */
class Probe {
  opened: number[];
  open: number[];
  maxOpen: number[];
  runs: number[] = [];
  constructor(n: number) {
    this.opened = new Array<number>(n).fill(0);
    this.open = new Array<number>(n).fill(0);
    this.maxOpen = new Array<number>(n).fill(0);
  }
  pool(lengths: readonly number[]): Streamer<string, [number, number]>[] {
    return lengths.map((len, id) => new Streamer((i: number, n: number) => this.gen(i, n), id, len));
  }
  *gen(id: number, len: number): Generator<string> {
    this.opened[id]!++;
    this.open[id]!++;
    this.maxOpen[id] = Math.max(this.maxOpen[id]!, this.open[id]!);
    let yielded = 0;
    try {
      for (let k = 0; k < len; k++) {
        yielded++; // before the yield: a run closed while suspended there did deliver this item
        yield `${id}:${k}`;
      }
    } finally {
      this.open[id]!--;
      this.runs.push(yielded);
    }
  }
}

const src = (x: string): number => Number(x.split(':')[0]);

test('StochasticMux k=1, lam=null, exhaustive: every stream drained once, in one piece', (t) => {
  const lengths = [3, 1, 4, 1, 5];
  const p = new Probe(5);
  const out = [...new StochasticMux(p.pool(lengths), { k: 1, lam: null, mode: 'exhaustive', seed: 11 }).iterateSync()];
  t.is(out.length, 14);
  t.deepEqual(p.opened, [1, 1, 1, 1, 1]);
  // k = 1 runs one stream to its end before the next: each stream's items are contiguous and ordered.
  const seen = new Set<number>();
  let prev = -1;
  for (const x of out) {
    const id = src(x);
    if (id !== prev) {
      t.false(seen.has(id), `stream ${id} came back`);
      seen.add(id);
      prev = id;
    }
  }
  for (let id = 0; id < 5; id++)
    t.deepEqual(
      out.filter((x) => src(x) === id),
      Array.from({ length: lengths[id]! }, (_, k) => `${id}:${k}`),
    );
});

test('StochasticMux exhaustive with k=3 yields every item exactly once, then ends', async (t) => {
  const p = new Probe(6);
  const mux = new StochasticMux(p.pool([5, 5, 5, 5, 5, 5]), { k: 3, lam: null, mode: 'exhaustive', seed: 3 });
  const out: string[] = [];
  for await (const x of mux) out.push(x);
  t.is(out.length, 30);
  t.is(new Set(out).size, 30);
  t.true(Math.max(...p.maxOpen) === 1);
});

test('StochasticMux is deterministic per seed, and the sync and async paths agree', async (t) => {
  const opts: StochasticMuxOptions = { k: 2, lam: 3, weights: [1, 2, 3], seed: 77 };
  const a = [...new StochasticMux(new Probe(3).pool([50, 50, 50]), opts).iterateSync(200)];
  const b = [...new StochasticMux(new Probe(3).pool([50, 50, 50]), opts).iterateSync(200)];
  const c: string[] = [];
  for await (const x of new StochasticMux(new Probe(3).pool([50, 50, 50]), opts).iterate(200)) c.push(x);
  t.deepEqual(a, b);
  t.deepEqual(a, c);
  const d = [...new StochasticMux(new Probe(3).pool([50, 50, 50]), { ...opts, seed: 78 }).iterateSync(200)];
  t.notDeepEqual(a, d);
});

test('StochasticMux activations follow the weights (binomial tolerance)', (t) => {
  const weights = [1, 2, 3, 4, 0];
  const total = 10;
  const p = new Probe(5);
  const pool = p.pool([1e9, 1e9, 1e9, 1e9, 1e9]);
  const it = new StochasticMux(pool, { k: 1, lam: 0.5, weights, seed: 2024 }).iterateSync(30_000);
  for (const _ of it);
  const A = p.opened.reduce((s, x) => s + x, 0);
  t.true(A > 15_000);
  weights.forEach((w, i) => {
    const q = w / total;
    const sd = Math.sqrt(A * q * (1 - q));
    t.true(Math.abs(p.opened[i]! - A * q) <= 5 * sd, `stream ${i}: ${p.opened[i]} activations, expected ${A * q} +- ${5 * sd}`);
  });
  t.is(p.opened[4], 0);
});

test('StochasticMux runs last 1 + Poisson(lam) items: mean run ~= 1 + lam', (t) => {
  const lam = 6;
  const p = new Probe(4);
  const it = new StochasticMux(p.pool([1e9, 1e9, 1e9, 1e9]), { k: 2, lam, seed: 5 }).iterateSync(80_000);
  for (const _ of it);
  const runs = p.runs.slice(0, -2); // the two runs cut by maxIter are not complete
  const mean = runs.reduce((s, x) => s + x, 0) / runs.length;
  t.true(runs.length > 5000);
  t.true(Math.min(...runs) >= 1, 'every run yields at least one item');
  t.true(Math.abs(mean - (1 + lam)) < 5 * Math.sqrt(lam / runs.length), `mean run ${mean}`);
});

test('with_replacement lets one streamer fill several slots at once', (t) => {
  const p = new Probe(1);
  const out = [...new StochasticMux(p.pool([1e9]), { k: 3, lam: 50, seed: 1 }).iterateSync(100)];
  t.is(out.length, 100);
  t.is(p.maxOpen[0], 3);
});

test('single_active revives exhausted streams but never runs one twice at once; exhaustive ends', (t) => {
  const p = new Probe(3);
  const out = [...new StochasticMux(p.pool([2, 2, 2]), { k: 2, lam: null, mode: 'single_active', seed: 9 }).iterateSync(60)];
  t.is(out.length, 60);
  t.deepEqual(p.maxOpen, [1, 1, 1]);
  t.true(
    p.opened.every((n) => n >= 5),
    `activations ${p.opened.join(',')}`,
  );
  const q = new Probe(3);
  t.is([...new StochasticMux(q.pool([2, 2, 2]), { k: 2, lam: null, mode: 'exhaustive', seed: 9 }).iterateSync(60)].length, 6);
  t.deepEqual(q.opened, [1, 1, 1]);
});

test('k larger than the pool: without replacement only the pool fills slots', (t) => {
  const p = new Probe(2);
  const out = [...new StochasticMux(p.pool([3, 3]), { k: 5, lam: null, mode: 'exhaustive', seed: 1 }).iterateSync()];
  t.is(out.length, 6);
});

test('empty streams are pruned (never reactivated); without pruning they are retried', (t) => {
  const p = new Probe(3);
  const out = [...new StochasticMux(p.pool([0, 4, 0]), { k: 1, lam: null, seed: 4 }).iterateSync(40)];
  t.is(out.length, 40);
  t.true(out.every((x) => src(x) === 1));
  t.true(p.opened[0]! <= 1 && p.opened[2]! <= 1, `empty streams opened ${p.opened.join(',')}`);
  const q = new Probe(3);
  Array.from(new StochasticMux(q.pool([0, 4, 0]), { k: 1, lam: null, seed: 4, pruneEmptyStreams: false }).iterateSync(40));
  t.true(q.opened[0]! + q.opened[2]! > 2);
});

test('a pool of only empty streams ends the mux instead of spinning', (t) => {
  const p = new Probe(3);
  t.deepEqual([...new StochasticMux(p.pool([0, 0, 0]), { k: 2, lam: 5, seed: 1 }).iterateSync()], []);
  t.deepEqual([...new ShuffledMux(new Probe(2).pool([0, 0])).iterateSync()], []);
});

test('StochasticMux argument errors carry codes', (t) => {
  const pool = new Probe(2).pool([1, 1]);
  const code = (f: () => unknown): string | undefined => t.throws<ReflexError>(f, { instanceOf: ConfigError })?.code;
  t.is(
    code(() => new StochasticMux([], { k: 1, lam: 1 })),
    'E_MUX_EMPTY_POOL',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: 1, weights: [0, 0] })),
    'E_MUX_WEIGHTS',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: 1, weights: [1, -1] })),
    'E_MUX_WEIGHTS',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: 1, weights: [1, Number.NaN] })),
    'E_MUX_WEIGHTS',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: 1, weights: [1, Number.POSITIVE_INFINITY] })),
    'E_MUX_WEIGHTS',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: 1, weights: [1] })),
    'E_MUX_WEIGHTS',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 0, lam: 1 })),
    'E_MUX_K',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1.5, lam: 1 })),
    'E_MUX_K',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: 0 })),
    'E_MUX_LAM',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: -2 })),
    'E_MUX_LAM',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: Number.NaN })),
    'E_MUX_LAM',
  );
  t.is(
    code(() => new StochasticMux(pool, { k: 1, lam: 1, mode: 'nope' as 'exhaustive' })),
    'E_MUX_MODE',
  );
  t.is(
    code(() => new ShuffledMux([])),
    'E_MUX_EMPTY_POOL',
  );
  t.is(
    code(() => new ShuffledMux(pool, { weights: [0, 0] })),
    'E_MUX_WEIGHTS',
  );
  t.is(
    code(() => new RoundRobinMux([])),
    'E_MUX_EMPTY_POOL',
  );
  t.is(
    code(() => new RoundRobinMux(pool, { mode: 'x' as 'cycle' })),
    'E_MUX_MODE',
  );
  t.is(
    code(() => new ChainMux([])),
    'E_MUX_EMPTY_POOL',
  );
  t.is(
    code(() => new ChainMux(pool, { mode: 'permuted_cycle' as 'cycle' })),
    'E_MUX_MODE',
  );
});

test('stopping early closes every active stream', async (t) => {
  const p = new Probe(4);
  const it = new StochasticMux(p.pool([100, 100, 100, 100]), { k: 3, lam: null, seed: 1 }).iterateSync();
  for (let i = 0; i < 10; i++) it.next();
  t.true(p.open.reduce((s, x) => s + x, 0) > 0);
  it.return?.();
  t.deepEqual(p.open, [0, 0, 0, 0]);
  const q = new Probe(4);
  let n = 0;
  for await (const _ of new ShuffledMux(q.pool([100, 100, 100, 100]), { seed: 2 })) if (++n === 10) break;
  t.deepEqual(q.open, [0, 0, 0, 0]);
});

test('an error in one stream closes the others and reaches the consumer', (t) => {
  const p = new Probe(2);
  const bad = new Streamer(function* () {
    yield 'bad:0';
    throw new Error('boom');
  });
  const mux = new RoundRobinMux<string>([...p.pool([10, 10]), bad], { mode: 'exhaustive' });
  t.throws<ReflexError>(() => [...mux.iterateSync()], { message: 'boom' });
  t.deepEqual(p.open, [0, 0]);
});

test('ShuffledMux keeps all streams active, restarts them, and pulls by weight', (t) => {
  const p = new Probe(3);
  const weights = [1, 3, 6];
  const N = 30_000;
  const counts = [0, 0, 0];
  for (const x of new ShuffledMux(p.pool([7, 7, 7]), { weights, seed: 8 }).iterateSync(N)) counts[src(x)]!++;
  weights.forEach((w, i) => {
    const q = w / 10;
    t.true(Math.abs(counts[i]! - N * q) <= 5 * Math.sqrt(N * q * (1 - q)), `stream ${i}: ${counts[i]}`);
  });
  t.true(
    p.opened.every((n) => n > 1),
    'finite streams restart',
  );
  const q = new Probe(3);
  const out = [...new ShuffledMux(q.pool([0, 2, 0]), { seed: 1 }).iterateSync(10)];
  t.true(out.every((x) => src(x) === 1) && out.length === 10);
});

test('RoundRobinMux: strict rotation; exhaustive drops ended streams; cycle and permuted_cycle restart', (t) => {
  const p = new Probe(3);
  t.deepEqual([...new RoundRobinMux(p.pool([2, 1, 3])).iterateSync()], ['0:0', '1:0', '2:0', '0:1', '2:1', '2:2']);
  t.deepEqual([...new RoundRobinMux(new Probe(2).pool([1, 2]), { mode: 'cycle' }).iterateSync(7)], ['0:0', '1:0', '1:1', '0:0', '1:0', '1:1', '0:0']);
  const perm = [...new RoundRobinMux(new Probe(4).pool([1, 1, 1, 1]), { mode: 'permuted_cycle', seed: 3 }).iterateSync(40)];
  const rounds = Array.from({ length: 10 }, (_, r) => perm.slice(r * 4, r * 4 + 4).map(src));
  for (const r of rounds) t.deepEqual([...r].sort(), [0, 1, 2, 3]);
  t.true(new Set(rounds.map((r) => r.join())).size > 1, 'orders change between rounds');
  t.deepEqual([...new RoundRobinMux(new Probe(2).pool([0, 0]), { mode: 'cycle' }).iterateSync()], []);
});

test('ChainMux: in order; cycle restarts; accepts a lazy collection; an empty cycle ends', (t) => {
  t.deepEqual([...new ChainMux(new Probe(2).pool([2, 1])).iterateSync()], ['0:0', '0:1', '1:0']);
  t.deepEqual([...new ChainMux(new Probe(2).pool([2, 1]), { mode: 'cycle' }).iterateSync(7)], ['0:0', '0:1', '1:0', '0:0', '0:1', '1:0', '0:0']);
  const probe = new Probe(3);
  const pool = probe.pool([1, 1, 1]);
  const lazy = {
    *[Symbol.iterator]() {
      yield* pool;
    },
  };
  t.deepEqual([...new ChainMux(lazy, { mode: 'cycle' }).iterateSync(5)], ['0:0', '1:0', '2:0', '0:0', '1:0']);
  t.deepEqual([...new ChainMux(new Probe(2).pool([0, 0]), { mode: 'cycle' }).iterateSync()], []);
});

test('muxes are sources themselves: nest, restart and cycle', async (t) => {
  const inner = new RoundRobinMux(new Probe(2).pool([1, 1]));
  const outer = new ChainMux([inner, inner]);
  t.deepEqual([...outer.iterateSync()], ['0:0', '1:0', '0:0', '1:0']);
  t.deepEqual([...inner.cycleSync(5)], ['0:0', '1:0', '0:0', '1:0', '0:0']);
  const out: string[] = [];
  for await (const x of outer.cycle(6)) out.push(x);
  t.deepEqual(out, ['0:0', '1:0', '0:0', '1:0', '0:0', '1:0']);
  t.is(t.throws<ReflexError>(() => [...new ChainMux([new RoundRobinMux(new Probe(1).pool([0]))]).cycleSync()])?.code, 'E_STREAM_EMPTY_CYCLE');
});

test('iterateSync over an async source is refused with a code', (t) => {
  // eslint-disable-next-line @typescript-eslint/require-await -- an async generator function is what this test needs; it has nothing to await
  const a = new Streamer(async function* () {
    yield 1;
  });
  const mux = new StochasticMux([a, Streamer.of([2])], { k: 1, lam: null });
  t.is(t.throws<ReflexError>(() => [...mux.iterateSync()])?.code, 'E_STREAM_NOT_SYNC');
  const asyncOnly = { iterate: () => a.iterate(), [Symbol.asyncIterator]: () => a.iterate() };
  t.is(t.throws<ReflexError>(() => new ChainMux([asyncOnly]).iterateSync())?.code, 'E_STREAM_NOT_SYNC');
});

test('big pools: exhaustive over 300 streamers with uneven weights drains each exactly once', (t) => {
  const n = 300;
  const p = new Probe(n);
  const weights = Array.from({ length: n }, (_, i) => (i % 7) + 0.5);
  const out = [...new StochasticMux(p.pool(new Array(n).fill(2)), { k: 7, lam: null, weights, mode: 'exhaustive', seed: 21 }).iterateSync()];
  t.is(out.length, 2 * n);
  t.is(new Set(out).size, 2 * n);
  t.true(p.opened.every((c) => c === 1));
  // Heavier streamers tend to come first: mean position of the heaviest class beats the lightest.
  const firstSeen = new Map<number, number>();
  out.forEach((x, i) => firstSeen.has(src(x)) || firstSeen.set(src(x), i));
  const meanPos = (cls: number): number => {
    const ids = [...firstSeen.keys()].filter((id) => id % 7 === cls);
    return ids.reduce((s, id) => s + firstSeen.get(id)!, 0) / ids.length;
  };
  t.true(meanPos(6) < meanPos(0), `heavy ${meanPos(6)} vs light ${meanPos(0)}`);
});
