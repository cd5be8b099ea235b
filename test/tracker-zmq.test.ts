import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Publisher } from 'zeromq';
import { ZmqTracker } from '../src/devices/tracker/zmq.js';
import type { TrackerSample } from '../src/devices/tracker/types.js';
import {
  decodeTrackerMessage,
  encodeTrackerMessage,
  FLAG_HAS_TIME,
  FLAG_HOST_CLOCK,
  FLAG_INVALID,
  type TrackerWireMessage,
} from '../src/devices/tracker/wire.js';
import { monotonicMs } from '../src/time/monotonic.js';

const dir = mkdtempSync(join(tmpdir(), 'reflex-trk-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let portBase = 20_000 + Math.floor(Math.random() * 20_000);
function endpoint(proto: 'tcp' | 'ipc', name: string): string {
  return proto === 'tcp' ? `tcp://127.0.0.1:${portBase++}` : `ipc://${join(dir, name)}`;
}

function waitFor<T>(what: string, ms: number, fn: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    fn((v) => {
      clearTimeout(guard);
      resolve(v);
    });
  });
}

/**
 * Publish invalid probes until the subscriber has joined (PUB drops messages before that), then a
 * barrier: ZeroMQ keeps order, so once the barrier is in, no probe can land among the test's messages.
 */
async function join_(pub: Publisher, feed: ZmqTracker, dims: number): Promise<void> {
  let joined = false;
  let barrierIn!: () => void;
  const barrier = new Promise<void>((r) => (barrierIn = r));
  const off = feed.onSample((s) => {
    joined = true;
    if (s.values[0] === 1) barrierIn();
  });
  for (let i = 0; i < 200 && !joined; i++) {
    await pub.send(['tracker', encodeTrackerMessage({ flags: FLAG_INVALID, seq: 0, values: new Float32Array(dims) })]);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!joined) throw new Error('subscriber never joined within 2 s');
  await pub.send(['tracker', encodeTrackerMessage({ flags: FLAG_INVALID, seq: 0, values: new Float32Array(dims).fill(1) })]);
  await waitFor('the barrier probe', 5000, (done) => void barrier.then(() => done(undefined)));
  off();
}

test('wire format: encode/decode round trip and refusals', (t) => {
  const buf = encodeTrackerMessage({ flags: FLAG_HAS_TIME, seq: 0xfffffffe, timeUs: 2 ** 40 + 123, values: [1.5, -2] });
  t.is(buf.length, 24);
  t.deepEqual(Array.from(buf.subarray(0, 16)), [1, 1, 2, 0, 0xfe, 0xff, 0xff, 0xff, 123, 0, 0, 0, 0, 1, 0, 0]);
  const out: TrackerWireMessage = { flags: 0, seq: 0, timeUs: 0, values: new Float32Array(2) };
  t.is(decodeTrackerMessage(buf, out), null);
  t.is(out.seq, 0xfffffffe);
  t.is(out.timeUs, 2 ** 40 + 123);
  t.deepEqual(Array.from(out.values), [1.5, -2]);
  t.is(decodeTrackerMessage(buf.subarray(0, 10), out), 'short');
  t.is(decodeTrackerMessage(buf.subarray(0, 23), out), 'bad_length');
  const v2 = buf.slice();
  v2[0] = 2;
  t.is(decodeTrackerMessage(v2, out), 'bad_version');
  const fl = buf.slice();
  fl[1] = 0x80;
  t.is(decodeTrackerMessage(fl, out), 'bad_flags');
  t.is(decodeTrackerMessage(buf, { ...out, values: new Float32Array(3) }), 'bad_dims');
  const noTime = encodeTrackerMessage({ flags: 0, seq: 1, timeUs: 99, values: [0, 0] });
  t.is(decodeTrackerMessage(noTime, out), null);
  t.true(Number.isNaN(out.timeUs));
});

for (const proto of ['tcp', 'ipc'] as const) {
  test(`zmq feed over ${proto}: host-clock and sender-clock stamps, bad messages counted`, async (t) => {
    const ep = endpoint(proto, 'host');
    const pub = new Publisher();
    await pub.bind(ep);
    const feed = await ZmqTracker.open({ endpoint: ep, dims: 3 });
    t.teardown(async () => {
      await feed.close();
      pub.close();
    });
    await join_(pub, feed, 3);
    const got: Array<{ t: number; v: number[]; valid: boolean; seq: number; arrival: number }> = [];
    feed.onSample((s: TrackerSample) => got.push({ t: s.hostTimeMs, v: Array.from(s.values), valid: s.valid, seq: s.seq, arrival: monotonicMs() }));
    const base = feed.counters();

    // A sender on this machine stamping CLOCK_MONOTONIC: used as is.
    const stamps: number[] = [];
    for (let k = 1; k <= 20; k++) {
      const tUs = Math.round(monotonicMs() * 1000);
      stamps.push(tUs / 1000);
      await pub.send(['tracker', encodeTrackerMessage({ flags: FLAG_HAS_TIME | FLAG_HOST_CLOCK, seq: k, timeUs: tUs, values: [k, k / 4, -k] })]);
    }
    // Garbage: wrong dims, wrong frame count, short.
    await pub.send(['tracker', encodeTrackerMessage({ flags: 0, seq: 21, values: [1, 2] })]);
    await pub.send(['tracker']);
    await pub.send(['tracker', new Uint8Array(5)]);
    // A remote clock 1e12 µs ahead running 100 ppm slow: mapped by the feed's model.
    const senderT0 = monotonicMs();
    for (let k = 22; k < 62; k++) {
      const host = monotonicMs();
      const tUs = 1e12 + (host - senderT0) * 1000 * (1 - 100e-6);
      await pub.send(['tracker', encodeTrackerMessage({ flags: FLAG_HAS_TIME, seq: k, timeUs: tUs, values: [k, 0, 0] })]);
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor('the last sender-clock message', 5000, (done) => {
      const check = () => (got.at(-1)?.seq === 61 ? done(undefined) : setTimeout(check, 5));
      check();
    });
    // The model that mapped the newest sample: the sender clock's.
    const st = feed.clockStatus()!;
    t.is(st.name, feed.name);
    t.is(st.observations, 40);
    t.is(feed.timeBase(), 'device');
    await pub.send(['tracker', encodeTrackerMessage({ flags: FLAG_HAS_TIME | FLAG_HOST_CLOCK | FLAG_INVALID, seq: 62, timeUs: 1, values: [0, 0, 0] })]);
    await waitFor('the last message', 5000, (done) => {
      const check = () => (got.at(-1)?.seq === 62 ? done(undefined) : setTimeout(check, 5));
      check();
    });
    t.is(got.length, 20 + 40 + 1);
    for (let k = 0; k < 20; k++) {
      t.is(got[k]!.seq, k + 1);
      t.is(got[k]!.t, stamps[k]!);
      t.deepEqual(got[k]!.v, [k + 1, (k + 1) / 4, -(k + 1)]);
      t.true(got[k]!.valid);
    }
    for (let k = 20; k < 60; k++) {
      const g = got[k]!;
      t.is(g.seq, k + 2);
      // Mapped onto our clock: never after it arrived, and near it on loopback (loose: hosts stall).
      t.true(g.t <= g.arrival + 1e-6 && g.t > g.arrival - 1000, `${g.t} vs arrival ${g.arrival}`);
    }
    t.false(got[60]!.valid);
    const c = feed.counters();
    t.is(c.bad_dims! - base.bad_dims!, 1);
    t.is(c.badFrames! - base.badFrames!, 1);
    t.is(c.short! - base.short!, 1);
    t.is(c.seqGaps! - base.seqGaps!, 1); // 21 and the two garbage messages never became samples
    // A host-clock stamp needs no model.
    t.is(feed.timeBase(), 'host');
    t.is(feed.clockStatus(), null);
  });
}

test('bind mode with a connecting sender, and the Python example sender', async (t) => {
  const ep = endpoint('tcp', 'py');
  const feed = await ZmqTracker.open({ endpoint: ep, bind: true, dims: 2 });
  t.teardown(() => feed.close());
  const got: Array<{ v: number[]; seq: number; t: number; arrival: number }> = [];
  feed.onSample((s) => got.push({ v: Array.from(s.values), seq: s.seq, t: s.hostTimeMs, arrival: monotonicMs() }));
  const child = spawn(
    '/usr/bin/python3',
    ['examples/python/tracker_sender.py', '--endpoint', ep, '--connect', '--rate', '200', '--count', '300', '--clock', 'host', '--wait', '0.5'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const code = await waitFor<number | null>('the python sender to exit', 15_000, (done) => child.on('exit', (c) => done(c)));
  t.is(code, 0, stderr);
  await waitFor('delivery', 2000, (done) => {
    const check = () => (got.at(-1)?.seq === 299 ? done(undefined) : setTimeout(check, 5));
    check();
  });
  t.true(got.length > 200, `got ${got.length}`);
  for (const g of got) {
    t.deepEqual(g.v, [Math.fround(Math.sin((2 * Math.PI * 0.5 * g.seq) / 200)), Math.fround(Math.sin((2 * Math.PI * 0.5 * g.seq) / 200 + 1))]);
    // Stamped by the sender on this machine's CLOCK_MONOTONIC before it was sent (loose: hosts stall).
    t.true(g.t <= g.arrival && g.t > g.arrival - 1000, `${g.t} vs arrival ${g.arrival}`);
  }
  t.is(feed.clockStatus(), null, 'host-clock stamps need no model');
});

test('transport events: the sender leaving and coming back is reported and counted', async (t) => {
  const pub = new Publisher();
  await pub.bind('tcp://127.0.0.1:*');
  const ep = pub.lastEndpoint!;
  const feed = await ZmqTracker.open({ endpoint: ep, dims: 1 });
  t.teardown(() => feed.close());
  const events: string[] = [];
  let wake: (() => void) | null = null;
  feed.onLink((e) => {
    events.push(e.kind);
    wake?.();
  });
  const until = (n: number, what: string) =>
    waitFor(what, 10_000, (done) => {
      const check = () => (events.length >= n ? done(undefined) : (wake = check));
      check();
    });
  await until(1, 'the connection');
  pub.close();
  await until(2, 'the disconnection');
  const again = new Publisher();
  t.teardown(() => again.close());
  await again.bind(ep);
  await until(3, 'the reconnection');
  t.deepEqual(events, ['connected', 'disconnected', 'connected']);
  t.like(feed.counters(), { connects: 2, disconnects: 1 });
});
