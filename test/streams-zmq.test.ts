import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import test from 'ava';
import type { ReflexError } from '../src/core/errors.js';
import { RemoteStreamError } from '../src/streams/errors.js';
import { Streamer } from '../src/streams/streamer.js';
import { ZmqStreamer } from '../src/streams/zmq-stream.js';
import type { Shaped, TypedArray } from '../src/streams/index.js';
import { crashing, endless, failing, makeRecord, records } from './streams-producers.js';

const producers = new URL('./streams-producers.ts', import.meta.url).href;
const described = <A extends number[], T>(name: string, fn: (...a: A) => Iterable<T> | AsyncIterable<T>, ...args: A): Streamer<T, A> =>
  Streamer.described<T, A>({ module: producers, export: name }, fn, ...args);

type Rec = { x: Float32Array; y: Float64Array; m: Shaped; i: number; tag: string };

/** Running (a zombie has exited: it only waits for its new parent, init, to reap it). */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

const bytes = (a: TypedArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

for (const transport of ['ipc', 'tcp'] as const) {
  test(`${transport}: records round-trip bit-exact (NaN payloads, -0, Inf, shapes, scalars)`, async (t) => {
    const it = new ZmqStreamer<Rec>(described('records', records, 6, 300), { transport }).iterate();
    const got = [];
    for await (const item of it) got.push(item);
    t.is(got.length, 6);
    got.forEach((g, i) => {
      const want = makeRecord(i, 300);
      t.true(g.x instanceof Float32Array && g.y instanceof Float64Array);
      t.deepEqual(bytes(g.x), bytes(want.x));
      t.deepEqual(bytes(g.y), bytes(want.y));
      const m = g.m;
      t.deepEqual(m.shape, [2, 3]);
      t.deepEqual(m.data, want.m.data);
      t.is(g.i, i);
      t.is(g.tag, `item-${i}`);
    });
    t.is(it.stats.received, 6);
    t.is(it.stats.copies, 0, 'arrays are views on the received frames');
    t.false(alive(it.pid), 'the producer exited');
    if (transport === 'ipc') t.false(existsSync(it.endpoint!.slice('ipc://'.length)), 'socket file removed');
  });

  test(`${transport}: stopping early stops the producer and leaves no process behind`, async (t) => {
    const it = new ZmqStreamer(described('endless', endless, 1000), { transport, highWaterMark: 2 }).iterate();
    let n = 0;
    for await (const a of it) {
      t.is((a as Float32Array)[0], n);
      if (++n === 5) break;
    }
    t.is(n, 5);
    t.true(it.pid !== undefined);
    t.false(alive(it.pid));
    t.deepEqual(await it.next(), { done: true, value: undefined });
  });
}

test('the producer blocks on the high-water mark (backpressure) instead of running ahead', async (t) => {
  const it = new ZmqStreamer(described('endless', endless, 16384), { highWaterMark: 1 }).iterate();
  const blocked = once(it.events, 'backpressure');
  const first = await it.next();
  t.false(first.done);
  const [at] = (await blocked) as [number];
  // Queues hold one item per side plus what fits in the kernel's socket buffers.
  t.true(at < 64, `producer ran ${at} items ahead`);
  await it.return();
  t.false(alive(it.pid));
});

test('a producer error reaches the consumer with its code, after the items before it', async (t) => {
  const it = new ZmqStreamer(described('failing', failing, 3)).iterate();
  const got: number[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const a of it) got.push((a as Float64Array)[0]!);
  });
  t.deepEqual(got, [0, 1, 2]);
  t.true(err instanceof RemoteStreamError);
  t.is((err as RemoteStreamError).code, 'E_STREAM_PRODUCER');
  t.is((err as RemoteStreamError).remoteCode, 'E_DATASET');
  t.false(alive(it.pid));
});

test('a producer that dies mid-stream is reported as E_STREAM_WORKER_EXIT', async (t) => {
  const it = new ZmqStreamer(described('crashing', crashing, 2), { exitGraceMs: 500 }).iterate();
  const got: number[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const a of it) got.push((a as Float64Array)[0]!);
  });
  // A crash (process.exit with sends still in the child's socket queue) may lose what had not
  // left the process yet, like any crashed producer; what arrives is in order and nothing else.
  t.deepEqual(got, [0, 1].slice(0, got.length));
  t.is((err as ReflexError).code, 'E_STREAM_WORKER_EXIT');
  t.regex(err.message, /code 3/);
});

test('each iterate() is a fresh producer; maxIter is applied in the child', async (t) => {
  const zs = new ZmqStreamer(described('endless', endless, 4), { transport: 'tcp' });
  const a: number[] = [];
  const b: number[] = [];
  const i1 = zs.iterate(3);
  for await (const x of i1) a.push((x as Float32Array)[0]!);
  const i2 = zs.iterate(2);
  for await (const x of i2) b.push((x as Float32Array)[0]!);
  t.deepEqual(a, [0, 1, 2]);
  t.deepEqual(b, [0, 1]);
  t.not(i1.pid, i2.pid);
});

test('bad options and undescribed streamers are refused up front', (t) => {
  t.is(t.throws<ReflexError>(() => new ZmqStreamer(new Streamer(endless, 1)))?.code, 'E_STREAM_NOT_DESCRIBED');
  t.is(t.throws<ReflexError>(() => new ZmqStreamer(described('endless', endless, 1), { highWaterMark: 0 }))?.code, 'E_STREAM_HWM');
  t.is(t.throws<ReflexError>(() => new ZmqStreamer(described('endless', endless, 1), { transport: 'udp' as 'tcp' }))?.code, 'E_STREAM_TRANSPORT');
});

test('a producer whose parent is killed stops by itself (no orphan)', async (t) => {
  const { spawn } = await import('node:child_process');
  const zmqStream = new URL('../src/streams/zmq-stream.ts', import.meta.url).href;
  const script = `
    import { ZmqStreamer } from ${JSON.stringify(zmqStream)};
    // tcp: a SIGKILLed parent cannot remove an ipc file
    const it = new ZmqStreamer({ module: ${JSON.stringify(producers)}, export: 'endless', args: [8] }, { highWaterMark: 1, transport: 'tcp' }).iterate();
    await it.next();
    process.stdout.write(it.pid + '\\n');
    await new Promise(() => {}); // wait to be killed
  `;
  // A file, not -e: the child forks its producer with its own execArgv, which must not carry the script.
  const file = join(tmpdir(), `reflex-zs-parent-${process.pid}.mts`);
  writeFileSync(file, script);
  t.teardown(() => rmSync(file, { force: true }));
  const parent = spawn(process.execPath, [...process.execArgv, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ended = once(parent.stdout, 'end'); // EOF only once the parent AND its child have closed the pipe
  parent.stdout.setEncoding('utf8');
  const pid = await new Promise<number>((resolve, reject) => {
    parent.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    parent.once('exit', (code) => reject(new Error(`parent exited early with ${code}`)));
  });
  t.true(alive(pid));
  parent.kill('SIGKILL');
  await ended;
  // The kernel closes an exiting process's files before it marks it a zombie, and nothing tells
  // this process when a process it did not start is gone: poll that last step, bounded.
  for (let i = 0; i < 400 && alive(pid); i++) await new Promise((r) => setTimeout(r, 5));
  t.false(alive(pid), 'the producer noticed its parent was gone and exited');
});
