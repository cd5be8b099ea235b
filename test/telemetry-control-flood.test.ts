/**
 * A flood of valid requests (issue 11, item 2): 10,000 `status`/s from one DEALER in a worker
 * thread against a real ControlServer. Before the fix the server handled every queued
 * request inside one event-loop turn, so timers and I/O on its thread stopped for as long as
 * the flood lasted. Behaviour checks only: bounds are generous, not speed targets.
 */
import test from 'ava';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Flooder } from '../bench/control-flood.js';
import { nullLogger } from '../src/core/log.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { ControlServer } from '../src/telemetry/control-server.js';

test('one peer flooding status: E_BUSY past its rate, others answered, estop served at once, the event loop keeps turning', async (t) => {
  t.timeout(40_000);
  const srv = new ControlServer({ endpoints: ['tcp://127.0.0.1:*'], logger: nullLogger() });
  // A status answer about the size of the runtime's (a few hundred counters).
  const counters = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`group.counter_${i}`, i * 3]));
  let statusCalls = 0;
  const estops: number[] = [];
  srv.handle('status', () => {
    statusCalls++;
    return { state: 'running', safe: false, counters: { ...counters } };
  });
  srv.handle('estop', () => {
    estops.push(performance.now());
    return { safe: true };
  });
  srv.handle('release', () => ({ safe: false }));
  const [ep] = await srv.start();
  const flooder = await Flooder.start({ endpoint: ep!, clients: 1, perClientHz: 10_000 });
  const operator = new ControlClient({ endpoint: ep!, timeoutMs: 10_000 });
  const safety = new ControlClient({ endpoint: ep!, timeoutMs: 10_000 });
  // Timer lateness on the server's thread while the flood runs.
  const lags: number[] = [];
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    lags.push(now - last - 10);
    last = now;
  }, 10);
  try {
    // The flood is on once half a second of it has been sent.
    const on = performance.now() + 20_000;
    while ((await flooder.counts()).sent < 5000) {
      if (performance.now() > on) throw new Error('the flooder could not send 5000 requests in 20 s');
      await nextTurn();
    }
    lags.length = 0;
    last = performance.now();

    // A well-behaved second peer polling at about 20 Hz is answered every time.
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await operator.send('status');
      answers.push(r.ok ? 'ok' : r.error.code);
      await sleep(50); // pacing of a polling GUI, not synchronisation
    }
    t.deepEqual(answers, Array(20).fill('ok'));

    // estop from a third peer is served promptly, and release still gets through.
    const sent = performance.now();
    const stopped = await safety.send('estop', { reason: 'flood test' });
    const estopMs = performance.now() - sent;
    t.true(stopped.ok);
    t.true(estopMs < 2000, `estop answered in ${estopMs.toFixed(0)} ms during the flood`);
    t.is(estops.length, 1);
    t.true((await operator.send('release')).ok);

    const during = [...lags];
    const counts = await flooder.stop();
    t.true(counts.busy > 0);
    // The flooder was held to its rate: the burst plus 50/s (with slack for timing), and
    // every status handler call is one of those or the operator's.
    t.true(counts.ok <= 100 + 50 * counts.seconds + 25, `${counts.ok} status answered ok in ${counts.seconds.toFixed(1)} s`);
    t.true(statusCalls <= counts.ok + 20 + 5);
    t.is(counts.other, 0);
    t.true(srv.counters.get('busy') >= counts.busy);
    t.is(srv.counters.get('busy'), srv.counters.get('busy_peer') + srv.counters.get('busy_global') + srv.counters.get('busy_in_flight'));
    t.true(srv.counters.get('yields') > 0, 'the server yielded to the event loop');
    // A 10 ms timer kept firing all through the flood: at least a fifth as often as
    // unloaded, and never held back for a second (before the fix: once in 1.5 s).
    const spanMs = during.reduce((s, x) => s + x + 10, 0);
    t.true(during.length >= spanMs / 10 / 5, `${during.length} timer ticks in ${spanMs.toFixed(0)} ms`);
    t.true(Math.max(...during) < 1000, `timer held back ${Math.max(...during).toFixed(0)} ms`);
  } finally {
    clearInterval(probe);
    await flooder.stop();
    await operator.close();
    await safety.close();
    await srv.close();
  }
});

test('with no rate limits at all, handlers slower than the flood still leave the event loop turning', async (t) => {
  t.timeout(40_000);
  const unlimited = { perSecond: 1e9, burst: 1e9 };
  const srv = new ControlServer({
    endpoints: ['tcp://127.0.0.1:*'],
    logger: nullLogger(),
    rate: { reads: unlimited, peer: unlimited, global: unlimited, priorityPeer: unlimited, priorityGlobal: unlimited },
  });
  // 0.3 ms of work per status: 10,000/s would need three seconds of CPU every second.
  srv.handle('status', () => {
    const until = performance.now() + 0.3;
    let x = 0;
    while (performance.now() < until) x++;
    return { x };
  });
  const [ep] = await srv.start();
  const flooder = await Flooder.start({ endpoint: ep!, clients: 1, perClientHz: 10_000 });
  const ticks: number[] = [];
  const probe = setInterval(() => ticks.push(performance.now()), 10);
  try {
    const on = performance.now() + 20_000;
    while ((await flooder.counts()).sent < 5000) {
      if (performance.now() > on) throw new Error('the flooder could not send 5000 requests in 20 s');
      await nextTurn();
    }
    // One second of the backlog building up; the timer must keep firing through it.
    const from = performance.now();
    ticks.length = 0;
    await sleep(1000);
    const span = performance.now() - from;
    const gaps = ticks.map((x, i) => x - (i === 0 ? from : ticks[i - 1]!));
    t.true(ticks.length >= span / 10 / 5, `${ticks.length} timer ticks in ${span.toFixed(0)} ms`);
    t.true(Math.max(...gaps) < 1000, `timer held back ${Math.max(...gaps).toFixed(0)} ms`);
    t.true(srv.counters.get('yields') > 0);
  } finally {
    clearInterval(probe);
    await flooder.stop();
    await srv.close();
  }
});
