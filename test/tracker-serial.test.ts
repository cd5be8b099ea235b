import test from 'ava';
import { FakeSerialBus } from '../src/hal/serial-fake.js';
import { SerialTracker } from '../src/devices/tracker/serial.js';
import type { TrackerSample } from '../src/devices/tracker/types.js';
import { prng } from '../src/testing/clock-sim.js';

const enc = (s: string) => new TextEncoder().encode(s);

interface Got {
  t: number;
  v: number[];
  valid: boolean;
  seq: number;
}

function record(feed: SerialTracker): Got[] {
  const got: Got[] = [];
  feed.onSample((s: TrackerSample) => got.push({ t: s.hostTimeMs, v: Array.from(s.values), valid: s.valid, seq: s.seq }));
  return got;
}

test('sender-clock lines are mapped onto the host clock by the feed clock model', async (t) => {
  const bus = new FakeSerialBus();
  bus.createPort('/dev/ttyTRK');
  let now = 50_000;
  const feed = await SerialTracker.open({ opener: bus.open, path: '/dev/ttyTRK', dims: 2, now: () => now });
  const got = record(feed);
  const port = bus.port('/dev/ttyTRK');
  // Sender clock: starts at 7 s, runs 300 ppm fast; 200 Hz; delivered 0..2 ms late.
  const rnd = prng(3);
  const senderUs = (hostMs: number) => 7e6 + (hostMs - 50_000) * 1000 * (1 + 300e-6);
  const truth: number[] = [];
  for (let k = 0; k < 4000; k++) {
    const measured = 50_000 + k * 5;
    now = measured + 0.2 + rnd() * 2;
    truth.push(measured);
    port.emitData(enc(`${Math.floor(senderUs(measured))} ${k} ${-k * 0.5}\n`));
  }
  t.is(got.length, 4000);
  t.deepEqual(got[10]!.v, [10, -5]);
  // After 10 s of convergence, mapped times are within the clock targets (the 0.2 ms minimum latency is the bias).
  let sq = 0;
  let max = 0;
  for (let k = 2000; k < 4000; k++) {
    const e = got[k]!.t - truth[k]!;
    sq += e * e;
    max = Math.max(max, Math.abs(e));
  }
  t.true(Math.sqrt(sq / 2000) <= 0.25, `rms ${Math.sqrt(sq / 2000)}`);
  t.true(max <= 1, `max ${max}`);
  const st = feed.clockStatus()!;
  t.is(st.state, 'locked');
  t.true(Math.abs(st.driftPpm - 300) < 10, `drift ${st.driftPpm}`);
  await feed.close();
});

test('host-clock lines are used as is; no-timestamp lines use arrival; latency subtracted', async (t) => {
  const bus = new FakeSerialBus();
  bus.createPort('/dev/ttyA');
  let now = 1000;
  const feed = await SerialTracker.open({ opener: bus.open, path: '/dev/ttyA', dims: 1, timeBase: 'host', latencyMs: 2, now: () => now });
  const got = record(feed);
  const port = bus.port('/dev/ttyA');
  port.emitData(enc('900500 1\n- 2\n'));
  now = 1010;
  port.emitData(enc('1005250 nan\n'));
  t.deepEqual(
    got.map((g) => g.t),
    [900.5 - 2, 1000 - 2, 1005.25 - 2],
  );
  t.deepEqual(
    got.map((g) => g.valid),
    [true, true, false],
  );
  t.is(feed.clockStatus(), null, 'no model involved for host-clock stamps');
  await feed.close();
});

test('nonsense timestamps are dropped and counted; bad lines counted', async (t) => {
  const bus = new FakeSerialBus();
  bus.createPort('/dev/ttyB');
  let now = 0;
  const feed = await SerialTracker.open({ opener: bus.open, path: '/dev/ttyB', dims: 1, now: () => now });
  const got = record(feed);
  const port = bus.port('/dev/ttyB');
  for (let k = 0; k < 100; k++) {
    now = k * 10 + 0.5;
    port.emitData(enc(`${1e6 + k * 10_000} ${k}\n`));
  }
  now += 10;
  port.emitData(enc('-5 1\n')); // negative time
  port.emitData(enc(`${1e6 + 100 * 10_000} oops\n`));
  now += 10;
  port.emitData(enc(`${1e6 + 101 * 10_000} 101\n`));
  t.is(got.length, 101);
  t.deepEqual(feed.counters(), { lines: 102, comments: 0, badLine: 1, oversize: 0, samples: 101, badTime: 1, opens: 1, disconnects: 0, openErrors: 0 });
  await feed.close();
});

test('unplug: the feed reopens the port when it comes back and re-seeds the sender clock', async (t) => {
  const bus = new FakeSerialBus();
  bus.createPort('/dev/ttyC');
  let now = 0;
  const feed = await SerialTracker.open({ opener: bus.open, path: '/dev/ttyC', dims: 1, now: () => now, reconnectMs: [5, 20] });
  const got = record(feed);
  const links: string[] = [];
  feed.onLink((e) => links.push(`${e.kind} ${e.address}`));
  bus.port('/dev/ttyC').emitData(enc('1000000 1\n1010000 2\n'));
  bus.unplug('/dev/ttyC');
  const reopened = feed.whenOpen();
  // Absent for a few retries, then back.
  await new Promise((r) => setTimeout(r, 30));
  bus.replug('/dev/ttyC');
  await reopened;
  now = 5000;
  // The sender restarted: its clock is near zero now; the model takes it without complaint.
  bus.port('/dev/ttyC').emitData(enc('500 3\n'));
  t.is(got.length, 3);
  t.is(got[2]!.t, 5000);
  const c = feed.counters();
  t.is(c.opens, 2);
  t.is(c.disconnects, 1);
  t.true(c.openErrors! >= 1);
  t.is(c.badTime, 0);
  t.deepEqual(links, ['disconnected /dev/ttyC', 'connected /dev/ttyC'], 'the transport events a run announces');
  await feed.close();
  t.throws(() => bus.port('/dev/ttyC'));
});

test('the first open failing rejects with the fake bus error', async (t) => {
  const bus = new FakeSerialBus();
  await t.throwsAsync(SerialTracker.open({ opener: bus.open, path: '/dev/none', dims: 1 }), { code: 'E_DISCONNECTED' });
});
