/**
 * `npm run bench -- mux [--duration S] [--k 8] [--lam 64] [--streams 100]`
 *
 * Mux overhead per item: a StochasticMux over `streams` streamers that each yield one
 * pre-made item forever, against a baseline loop pulling the same item from one plain
 * generator, measured alternately in the same run. `ns_per_item` is the median sync overhead
 * (mux minus baseline); the async path (for await) is reported alongside.
 */
import { parseArgs } from 'node:util';
import { StochasticMux } from '../src/streams/mux-stochastic.js';
import { Streamer } from '../src/streams/streamer.js';
import { benchArgs, log, machine, median } from './_util.js';

type Item = { readonly x: Float32Array; readonly y: number };

function* repeat(item: Item): Generator<Item> {
  for (;;) yield item;
}
// eslint-disable-next-line @typescript-eslint/require-await -- the baseline is a bare async generator: an await would add the cost it measures against
async function* repeatAsync(item: Item): AsyncGenerator<Item> {
  for (;;) yield item;
}

let sink = 0;
const BATCH = 200_000;

function timeSync(it: Iterator<Item>, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = it.next();
    sink += (r.value as Item).y;
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

async function timeAsync(it: AsyncIterator<Item>, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    sink += (r.value as Item).y;
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 8 });
  // benchArgs only declares --duration; undeclared flags would parse as booleans, so declare ours.
  const { values } = parseArgs({
    args: argv,
    options: { duration: { type: 'string' }, k: { type: 'string' }, lam: { type: 'string' }, streams: { type: 'string' } },
    strict: true,
  });
  const k = Number(values.k ?? 8);
  const lam = Number(values.lam ?? 64);
  const nStreams = Number(values.streams ?? 100);
  if (!(k >= 1) || !(lam > 0) || !(nStreams >= 1)) throw new Error('--k, --lam and --streams must be positive numbers');
  const items: Item[] = Array.from({ length: nStreams }, (_, i) => ({ x: new Float32Array(16), y: i }));
  const pool = items.map((item) => new Streamer(repeat, item));
  const mux = new StochasticMux(pool, { k, lam, seed: 1 });
  const muxSync = mux.iterateSync();
  const baseSync = repeat(items[0]!);
  const muxAsync = mux.iterate();
  const baseAsync = repeatAsync(items[0]!);

  // Warm up every path so the JIT has settled before anything is recorded.
  for (let i = 0; i < 3; i++) {
    timeSync(muxSync, BATCH);
    timeSync(baseSync, BATCH);
    await timeAsync(muxAsync, BATCH / 4);
    await timeAsync(baseAsync, BATCH / 4);
  }
  const s = { mux: [] as number[], base: [] as number[], over: [] as number[] };
  const a = { mux: [] as number[], base: [] as number[], over: [] as number[] };
  const end = performance.now() + duration * 1000;
  while (performance.now() < end || s.over.length < 5) {
    const bs = timeSync(baseSync, BATCH);
    const ms = timeSync(muxSync, BATCH);
    s.base.push(bs);
    s.mux.push(ms);
    s.over.push(ms - bs);
    const ba = await timeAsync(baseAsync, BATCH / 4);
    const ma = await timeAsync(muxAsync, BATCH / 4);
    a.base.push(ba);
    a.mux.push(ma);
    a.over.push(ma - ba);
  }
  muxSync.return?.();
  await muxAsync.return?.();
  const r = (x: number): number => Math.round(x * 10) / 10;
  const out = {
    ns_per_item: r(median(s.over)),
    target_ns: 1000,
    sync: { mux_ns: r(median(s.mux)), baseline_ns: r(median(s.base)), overhead_ns: r(median(s.over)) },
    async: { mux_ns: r(median(a.mux)), baseline_ns: r(median(a.base)), overhead_ns: r(median(a.over)) },
    rounds: s.over.length,
    items_per_round: { sync: BATCH, async: BATCH / 4 },
    config: { streams: nStreams, k, lam, mode: 'with_replacement' },
    machine: machine(),
  };
  log(`mux: sync ${out.sync.mux_ns} ns/item vs baseline ${out.sync.baseline_ns}; async ${out.async.mux_ns} vs ${out.async.baseline_ns} (sink ${sink > 0})`);
  return out;
}
