import test from 'ava';
import type { ClockStatus } from '../src/time/clock-model.js';
import { TrackerMonitor, type TrackerEvent } from '../src/devices/tracker/monitor.js';
import type { TrackerFeed, TrackerLinkListener, TrackerListener, TrackerTimeBase } from '../src/devices/tracker/types.js';

/** A feed the test drives by hand: samples, transport events, its clock and time base. */
class ScriptedFeed implements TrackerFeed {
  readonly name = 'scripted';
  readonly dims = 1;
  base: TrackerTimeBase | null = null;
  status: ClockStatus | null = null;
  #samples: TrackerListener[] = [];
  #links: TrackerLinkListener[] = [];
  onSample(l: TrackerListener) {
    this.#samples.push(l);
    return () => (this.#samples = this.#samples.filter((x) => x !== l));
  }
  onLink(l: TrackerLinkListener) {
    this.#links.push(l);
    return () => (this.#links = this.#links.filter((x) => x !== l));
  }
  sample(): void {
    for (const l of this.#samples) l({ hostTimeMs: 0, values: new Float32Array(1), valid: true, seq: 0 });
  }
  link(kind: 'connected' | 'disconnected'): void {
    for (const l of this.#links) l({ kind, address: 'tcp://sender:5570' });
  }
  counters() {
    return { samples: 1, short: 2 };
  }
  clockStatus() {
    return this.status;
  }
  timeBase() {
    return this.base;
  }
  async close() {}
}

function setup(opts: { interval?: number } = {}) {
  let now = 10_000;
  const feed = new ScriptedFeed();
  const events: TrackerEvent[] = [];
  const mon = new TrackerMonitor(feed, { stream: 'tracker', staleAfterMs: 500, eventIntervalMs: opts.interval ?? 1000, now: () => now }, (e) => events.push(e));
  return { feed, mon, events, at: (ms: number) => (now = ms), kinds: () => events.map((e) => e.kind) };
}

test('stale and fresh: announced once per change, a silent start included, counted', (t) => {
  const { feed, mon, at, kinds, events } = setup({ interval: 0 });
  at(10_000);
  mon.check();
  t.is(mon.report().feed, 'waiting');
  at(10_400);
  mon.check();
  t.deepEqual(kinds(), [], 'not stale before the limit');
  at(10_600);
  mon.check();
  t.deepEqual(kinds(), ['tracker.stale']);
  t.like(events[0]!.data, { never: true, silence_ms: 600 });
  feed.sample();
  at(10_700);
  mon.check();
  mon.check();
  t.deepEqual(kinds(), ['tracker.stale', 'tracker.fresh']);
  t.is(mon.report().feed, 'fresh');
  t.is(mon.report().silence_ms, 100);
  at(11_300);
  mon.check();
  t.deepEqual(kinds(), ['tracker.stale', 'tracker.fresh', 'tracker.stale']);
  t.like(mon.counters(), { samples: 1, short: 2, stale: 2, reconnects: 0 });
});

test('a flapping feed makes at most one freshness event a second, and the last state is always told', (t) => {
  const { feed, mon, at, kinds, events } = setup();
  let now = 20_000;
  at(now);
  feed.sample();
  mon.check();
  // Every 600 ms silent, then one sample: stale, fresh, stale, fresh... checked at 10 Hz for 6 s.
  for (let k = 0; k < 60; k++) {
    now += 100;
    at(now);
    if (k % 7 === 6) feed.sample();
    mon.check();
  }
  // One event per second at most: 6 s gives at most 7 (the first is free).
  t.true(events.length <= 7, `${events.length} events: ${kinds().join(', ')}`);
  t.true(
    events.some((e) => (e.data.changes as number) > 1),
    'suppressed changes are counted in the next event',
  );
  // Quiet from here on: the state settles and the last event says it.
  for (let k = 0; k < 20; k++) {
    now += 100;
    at(now);
    mon.check();
  }
  t.is(kinds().at(-1), 'tracker.stale');
  t.is(mon.report().feed, 'stale');
});

test('transport: the first connection, a loss and the return, rate-limited; a sender never seen is no loss', (t) => {
  const { feed, mon, at, events: all } = setup();
  // Freshness events (the feed delivers nothing here) are another test's business.
  const kinds = () => all.filter((e) => e.kind !== 'tracker.stale').map((e) => e.kind);
  at(30_000);
  mon.check();
  t.is(mon.report().link, 'down');
  t.deepEqual(kinds(), []);
  feed.link('connected');
  t.deepEqual(kinds(), ['tracker.connect']);
  at(30_100);
  feed.link('disconnected');
  feed.link('connected');
  feed.link('disconnected');
  t.deepEqual(kinds(), ['tracker.connect'], 'held back within the second');
  at(31_100);
  mon.check();
  t.deepEqual(kinds(), ['tracker.connect', 'tracker.disconnect']);
  t.is(all.filter((e) => e.kind === 'tracker.disconnect')[0]!.data.changes, 3);
  at(32_200);
  feed.link('connected');
  t.deepEqual(kinds(), ['tracker.connect', 'tracker.disconnect', 'tracker.reconnect']);
  t.is(mon.counters().reconnects, 2);
  t.is(mon.report().link, 'up');
});

test('clock report per time base; stale whenever the feed is silent', (t) => {
  const { feed, mon, at } = setup();
  at(40_000);
  mon.check();
  t.like(mon.clock(), { state: 'stale', time_base: 'none', points: 0 });
  t.true(Number.isNaN(mon.clock().offset_ms));
  feed.base = 'host';
  feed.sample();
  mon.check();
  t.deepEqual(mon.clock(), { state: 'locked', time_base: 'host', offset_ms: 0, drift_ppm: 0, residual_ms: 0, points: 0 });
  feed.base = 'arrival';
  t.like(mon.clock(), { state: 'locked', time_base: 'arrival', offset_ms: 0 });
  t.true(Number.isNaN(mon.clock().residual_ms));
  feed.base = 'device';
  feed.status = {
    name: 'x',
    state: 'converging',
    offsetMs: 12.5,
    driftPpm: 80,
    residualMs: 0.2,
    boundGapMs: Number.NaN,
    spanS: 3,
    observations: 300,
    rejected: 1,
    pending: 0,
    reseeds: 0,
    rateChanges: 0,
  };
  t.deepEqual(mon.clock(), { state: 'converging', time_base: 'device', offset_ms: 12.5, drift_ppm: 80, residual_ms: 0.2, points: 300 });
  at(41_000);
  mon.check();
  t.like(mon.clock(), { state: 'stale', time_base: 'device', offset_ms: 12.5 });
});
