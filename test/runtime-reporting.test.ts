/**
 * RunReporter: one `prediction` and one `actuators` message per loop cycle reach the publisher's
 * tap (the recorder), from the loop's output ring, while subscribers get them decimated to about
 * 100 Hz; cycles the ring lost are counted and marked by an event.
 */
import test from 'ava';
import { EventEmitter } from 'node:events';
import { loadBoard } from '../src/boards/load.js';
import { Counters } from '../src/core/counters.js';
import { ControlLoop } from '../src/loop/loop.js';
import { defaultConfig, type RunConfig } from '../src/runtime/config.js';
import { outputMapping } from '../src/runtime/loop-setup.js';
import { RunReporter } from '../src/runtime/reporting.js';
import type { Source } from '../src/runtime/source.js';
import { type PublishTap, TelemetryPublisher } from '../src/telemetry/publisher.js';
import type { Topic, TopicBodies } from '../src/telemetry/topics.js';
import { ClockModel } from '../src/time/clock-model.js';
import { monotonicMs } from '../src/time/monotonic.js';

const board = loadBoard('sim');
/** Outputs (x[0], x[1]) of a 4-value window: each cycle names the window it used. */
const PREDICTOR = `data:text/javascript,${encodeURIComponent(`
export function createPredictor() {
  return { inputSize: 4, outputSize: 2, predict(x, y) { y[0] = x[0]; y[1] = x[1]; } };
}`)}`;

/** The parts of a source the reporter reads: its clock and counters (no device here). */
function quietSource(): Source {
  return Object.assign(new EventEmitter(), {
    kind: 'test',
    clock: new ClockModel(),
    tracker: null,
    actuatorSink: null,
    describe: () => ({}),
    start: async () => {},
    pause: async () => {},
    resume: async () => {},
    stop: async () => {},
    counters: () => ({}),
  }) as unknown as Source;
}

interface Tapped {
  topic: Topic;
  tick: number;
  safe?: boolean;
  applied?: number[];
  values?: number[];
  data?: Record<string, unknown>;
}

async function setUp(t: { teardown(fn: () => unknown): void }, rateHz: number, opts: { decimate?: Record<string, number>; outputRing?: number } = {}) {
  const config: RunConfig = defaultConfig('sim');
  config.loop.rateHz = rateHz;
  const tapped: Tapped[] = [];
  const tap: PublishTap = {
    message<T extends Topic>(topic: T, body: TopicBodies[T]): void {
      if (topic === 'prediction') {
        const b = body as TopicBodies['prediction'];
        tapped.push({ topic, tick: b.tick, values: Array.from(b.values) });
      } else if (topic === 'actuators') {
        const b = body as TopicBodies['actuators'];
        tapped.push({ topic, tick: b.tick, safe: b.safe_state, applied: Array.from(b.applied) });
      } else if (topic === 'event') {
        const b = body as TopicBodies['event'];
        tapped.push({ topic, tick: -1, ...(b.data && { data: b.data }) });
      }
    },
    block(): void {},
  };
  const pub = new TelemetryPublisher({
    endpoints: ['tcp://127.0.0.1:*'],
    runtimeId: 'rt',
    boardId: 'sim',
    tap,
    ...(opts.decimate && { decimate: opts.decimate }),
  });
  await pub.start();
  t.teardown(() => pub.close());
  const mapping = outputMapping(config, board);
  const loop = await ControlLoop.start({
    schedule: { rateHz, policy: 'skip' },
    watchdog: { staleMs: 10_000, overrunStreak: 1_000_000 },
    predictor: { kind: 'module', url: PREDICTOR, inputSize: 4, outputNames: ['wrist_angle', 'grip'] },
    actuators: board.actuators,
    mapping,
    startArmed: true,
    ...(opts.outputRing !== undefined && { outputRing: opts.outputRing }),
  });
  t.teardown(() => loop.stop());
  const reporter = new RunReporter({
    config,
    board,
    counters: new Counters(),
    pub,
    source: quietSource(),
    startedMs: monotonicMs(),
    live: { state: 'running', loop, meta: null, control: null, tracker: null },
  });
  reporter.attach(loop, mapping);
  return { loop, pub, reporter, tapped };
}

/** Wait on the event loop (a bounded failure guard) until `cond` holds. */
async function until(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const end = monotonicMs() + timeoutMs;
  while (!cond()) {
    if (monotonicMs() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test.serial('every cycle reaches the tap as one prediction and one actuators message; subscribers get about 100 Hz', async (t) => {
  const { loop, pub, reporter, tapped } = await setUp(t, 1000);
  loop.pushWindow(Float32Array.of(0.25, 0.5, 0, 0), 1);
  await until(() => loop.outputRingPending >= 300, '300 cycles');
  reporter.tick();
  await loop.stop();
  reporter.drainCycles();
  const preds = tapped.filter((m) => m.topic === 'prediction');
  const acts = tapped.filter((m) => m.topic === 'actuators');
  t.true(preds.length >= 300, String(preds.length));
  t.deepEqual(
    acts.map((m) => m.tick),
    preds.map((m) => m.tick),
  );
  // One per cycle, in order; the ticks jump only where the schedule skipped deadlines.
  for (let i = 1; i < preds.length; i++) t.true(preds[i]!.tick > preds[i - 1]!.tick);
  t.is(loop.outputRingOverruns, 0);
  const taken = preds.filter((m) => m.values![0] === 0.25);
  t.true(taken.length > 0);
  // Subscribers: every 10th cycle of each at 1 kHz, the same ticks for both topics.
  const s = pub.stats().topics;
  t.is(s.prediction.sent + s.prediction.decimated, preds.length);
  t.is(s.prediction.sent, Math.ceil(preds.length / 10));
  t.is(s.actuators.sent, s.prediction.sent);
});

test.serial('telemetry.decimate wins over the default; at 100 Hz every cycle goes to subscribers', async (t) => {
  const a = await setUp(t, 1000, { decimate: { prediction: 1 } });
  await until(() => a.loop.outputRingPending >= 50, '50 cycles');
  a.reporter.tick();
  const s = a.pub.stats().topics;
  t.is(s.prediction.decimated, 0);
  t.true(s.actuators.decimated > 0);
  await a.loop.stop();
  t.is(a.pub.decimateByDefault('prediction', 7), 1);
  t.is(a.pub.decimateByDefault('actuators', 7), 7);

  const b = await setUp(t, 100);
  await until(() => b.loop.outputRingPending >= 5, '5 cycles');
  b.reporter.tick();
  t.is(b.pub.stats().topics.prediction.decimated, 0);
  t.true(b.pub.stats().topics.prediction.sent >= 5);
});

test.serial('cycles the ring lost are counted in health and marked by an event naming the ticks around the gap', async (t) => {
  const { loop, reporter, tapped } = await setUp(t, 1000, { outputRing: 3 });
  // Nothing drains while more than the ring's worth of cycles runs.
  await until(() => loop.outputRingPending >= 20, '20 cycles');
  reporter.tick();
  const lost = loop.outputRingOverruns;
  t.true(lost >= 17, String(lost));
  const evs = tapped.filter((m) => m.topic === 'event' && m.data?.lost !== undefined);
  const ev = evs[0];
  t.truthy(ev);
  // Usually one event; more if the worker overran the ring again while it was being drained.
  t.is(
    evs.reduce((n, e) => n + (e.data!.lost as number), 0),
    lost,
  );
  const preds = tapped.filter((m) => m.topic === 'prediction');
  t.is(ev!.data!.next_tick, preds[0]!.tick);
  t.is(ev!.data!.after_tick, -1);
  t.is((reporter.status().counters as Record<string, number>)['loop.output_ring_overruns'], lost);
});
