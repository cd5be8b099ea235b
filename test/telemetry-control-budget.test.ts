/** Control request budgets on a fake clock (no sleeps): buckets, lanes, peers, turns. */
import test from 'ava';
import { ReflexError } from '../src/core/errors.js';
import { ControlBudget, laneOf, TokenBucket, TurnBudget } from '../src/telemetry/control-budget.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** How many of `n` requests from `peer` are admitted, and the refusals by reason. */
function burst(b: ControlBudget, peer: string, cmd: string, n: number): { ok: number; peer: number; global: number } {
  const out = { ok: 0, peer: 0, global: 0 };
  for (let i = 0; i < n; i++) {
    const r = b.admit(peer, cmd);
    if (r === undefined) out.ok++;
    else out[r]++;
  }
  return out;
}

test('a token bucket starts full, refills at its rate and never holds more than its burst', (t) => {
  const b = new TokenBucket({ perSecond: 10, burst: 3 }, 0);
  t.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  t.false(b.take(99), '0.99 of a token after 99 ms');
  t.true(b.take(100));
  t.false(b.take(100));
  // A long quiet spell refills to the burst, not beyond.
  let n = 0;
  while (b.take(60_000)) n++;
  t.is(n, 3);
  // Time going backwards (it does not, but a bad clock must not mint tokens) changes nothing.
  t.false(b.take(50_000));
});

test('reads: a burst at once, then one token per 1/rate; the delay says how long until the next', (t) => {
  const c = clock();
  const b = new ControlBudget({ reads: { perSecond: 1000, burst: 3 }, now: c.now });
  t.deepEqual([b.readDelayMs(), b.readDelayMs(), b.readDelayMs()], [0, 0, 0]);
  t.is(b.readDelayMs(), 1);
  c.advance(0.25);
  t.is(b.readDelayMs(), 0.75);
  c.advance(0.75);
  t.is(b.readDelayMs(), 0);
  t.true(b.readDelayMs() > 0);
});

test('lanes: estop is safety, release and stop are priority, the rest ordinary', (t) => {
  t.is(laneOf('estop'), 'safety');
  t.is(laneOf('release'), 'priority');
  t.is(laneOf('stop'), 'priority');
  for (const c of ['status', 'set', 'model', 'start', 'anything']) t.is(laneOf(c), 'ordinary');
});

test('one peer past its own rate gets "peer" refusals and leaves the global budget to the others', (t) => {
  const c = clock();
  const b = new ControlBudget({ peer: { perSecond: 50, burst: 100 }, global: { perSecond: 200, burst: 200 }, now: c.now });
  // 10,000 requests in one second from one peer.
  let a = { ok: 0, peer: 0, global: 0 };
  for (let ms = 0; ms < 1000; ms++) {
    const r = burst(b, 'flooder', 'status', 10);
    a = { ok: a.ok + r.ok, peer: a.peer + r.peer, global: a.global + r.global };
    c.advance(1);
  }
  t.is(a.ok, 100 + 50 - 1, 'the burst, then 50/s');
  t.is(a.global, 0);
  t.is(a.peer, 10_000 - a.ok);
  // The global bucket still has room for another peer.
  t.deepEqual(burst(b, 'operator', 'status', 50), { ok: 50, peer: 0, global: 0 });
});

test('many peers (or one reconnecting under new ids) are bounded by the global rate', (t) => {
  const c = clock();
  const b = new ControlBudget({ peer: { perSecond: 50, burst: 100 }, global: { perSecond: 200, burst: 200 }, now: c.now });
  let ok = 0;
  let global = 0;
  for (let ms = 0; ms < 2000; ms++) {
    for (let i = 0; i < 10; i++) {
      const r = b.admit(`peer-${ms}-${i}`, 'set'); // a new routing id every request
      if (r === undefined) ok++;
      else if (r === 'global') global++;
    }
    c.advance(1);
  }
  t.true(ok <= 200 + 2 * 200, `${ok} admitted in 2 s`);
  t.true(ok >= 200 + 2 * 200 - 2);
  t.is(global, 20_000 - ok);
  t.true(b.peers <= 1024, 'the peer table stays bounded');
});

test('estop is never refused, whatever else is going on', (t) => {
  const c = clock();
  const b = new ControlBudget({
    peer: { perSecond: 1, burst: 1 },
    global: { perSecond: 1, burst: 1 },
    priorityPeer: { perSecond: 1, burst: 1 },
    priorityGlobal: { perSecond: 1, burst: 1 },
    now: c.now,
  });
  burst(b, 'a', 'status', 1000);
  burst(b, 'a', 'release', 1000);
  t.deepEqual(burst(b, 'a', 'estop', 100_000), { ok: 100_000, peer: 0, global: 0 });
  t.deepEqual(burst(b, 'b', 'estop', 10), { ok: 10, peer: 0, global: 0 });
});

test('a status flood from any number of peers never starves release; a release flood from one peer leaves room for others', (t) => {
  const c = clock();
  const b = new ControlBudget({ now: c.now });
  let ok = 0;
  for (let ms = 0; ms < 1000; ms++) {
    for (let p = 0; p < 20; p++) ok += burst(b, `flooder-${p}`, 'status', 10).ok;
    c.advance(1);
  }
  t.true(ok <= 200 + 200, `${ok} status admitted: the global burst and rate`);
  for (let p = 0; p < 20; p++) burst(b, `flooder-${p}`, 'status', 10); // the flood goes on
  t.deepEqual(burst(b, 'operator', 'status', 1), { ok: 0, peer: 0, global: 1 }, 'ordinary lane spent');
  t.deepEqual(burst(b, 'operator', 'release', 1), { ok: 1, peer: 0, global: 0 }, 'release has its own lane');
  t.deepEqual(burst(b, 'operator', 'stop', 1), { ok: 1, peer: 0, global: 0 });
  // One peer repeating release is held to its own small rate; the lane stays open for another.
  const spam = burst(b, 'spammer', 'release', 1000);
  t.is(spam.ok, b.limits.priorityPeer.burst);
  t.is(spam.peer, 1000 - spam.ok);
  t.deepEqual(burst(b, 'other-operator', 'release', 1), { ok: 1, peer: 0, global: 0 });
});

test('limits are checked: ConfigError with the key', (t) => {
  const bad = [
    () => new ControlBudget({ peer: { perSecond: 0, burst: 1 } }),
    () => new ControlBudget({ global: { perSecond: 1, burst: 0.5 } }),
    () => new ControlBudget({ priorityGlobal: { perSecond: Number.NaN, burst: 1 } }),
    () => new ControlBudget({ maxPeers: 0 }),
    () => new ControlBudget({ reads: { perSecond: -5, burst: 10 } }),
    () => new TurnBudget({ messages: 0 }),
    () => new TurnBudget({ ms: -1 }),
  ];
  for (const f of bad) {
    const err = t.throws(f);
    t.true(err instanceof ReflexError);
    t.is((err as ReflexError).code, 'E_CONFIG');
  }
  t.deepEqual(new ControlBudget().limits, {
    reads: { perSecond: 1000, burst: 200 },
    peer: { perSecond: 50, burst: 100 },
    global: { perSecond: 200, burst: 200 },
    priorityPeer: { perSecond: 2, burst: 4 },
    priorityGlobal: { perSecond: 20, burst: 20 },
    maxPeers: 1024,
  });
});

test('the peer table forgets the least recently seen peer first', (t) => {
  const c = clock();
  const b = new ControlBudget({ peer: { perSecond: 1, burst: 2 }, maxPeers: 3, now: c.now });
  burst(b, 'a', 'status', 2);
  burst(b, 'b', 'status', 2);
  burst(b, 'c', 'status', 2);
  t.deepEqual(burst(b, 'a', 'status', 1), { ok: 0, peer: 1, global: 0 }, 'a is remembered (and now most recent)');
  burst(b, 'd', 'status', 1); // forgets b, the least recently seen
  t.is(b.peers, 3);
  t.deepEqual(burst(b, 'a', 'status', 1), { ok: 0, peer: 1, global: 0 }, 'a still remembered');
  t.deepEqual(burst(b, 'b', 'status', 1), { ok: 1, peer: 0, global: 0 }, 'b was forgotten and starts again');
});

test('turn budget: yields after N messages or T ms in one turn, and starts again at each turn', (t) => {
  const c = clock();
  const scheduled: Array<() => void> = [];
  const turn = new TurnBudget({ messages: 4, ms: 2, now: c.now, schedule: (fn) => scheduled.push(fn) });
  t.deepEqual([turn.spend(), turn.spend(), turn.spend(), turn.spend()], [false, false, false, true]);
  t.is(scheduled.length, 1, 'one reset per turn');
  t.true(turn.spend(), 'still the same turn: keep yielding');
  scheduled.shift()!(); // the event loop reached its next turn
  t.false(turn.spend());
  c.advance(2);
  t.true(turn.spend(), 'the time budget ran out before the message budget');
  scheduled.shift()!();
  // An idle server (a turn per message) never yields.
  for (let i = 0; i < 100; i++) {
    t.false(turn.spend());
    scheduled.shift()!();
  }
});
