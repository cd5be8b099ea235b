/**
 * A run on the simulated board with an external ZeroMQ tracker fed by the test, as a mocap
 * workstation would: the tracker's clock model and counters reach `clock`, `health` and `status`,
 * malformed messages show in the counters, and silence, resumption and a restarted sender are
 * announced on `event`.
 */
import test from 'ava';
import { Publisher } from 'zeromq';
import { Logger } from '../src/core/log.js';
import { encodeTrackerMessage, FLAG_HAS_TIME } from '../src/devices/tracker/wire.js';
import { defaultConfig, validateConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import type { TelemetryMessage } from '../src/telemetry/topics.js';
import { monotonicMs } from '../src/time/monotonic.js';

/**
 * A sender stamping its own clock (an arbitrary epoch) at about 100 Hz, stoppable and movable to a
 * new socket. Every send goes through one chain: zeromq.js allows one send in progress per socket.
 */
class Sender {
  pub: Publisher;
  seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #error: unknown = null;
  constructor(pub: Publisher) {
    this.pub = pub;
  }
  static stampUs(): number {
    return 7e12 + Math.round(monotonicMs() * 1000);
  }
  send(frames: Array<string | Uint8Array>): Promise<void> {
    this.#pending++;
    this.#chain = this.#chain
      .then(() => this.pub.send(frames))
      .catch((err: unknown) => {
        this.#error ??= err;
      })
      .finally(() => void this.#pending--);
    return this.#chain;
  }
  /** The first send that failed, if any (the test checks there was none). */
  get error(): unknown {
    return this.#error;
  }
  start(): void {
    this.#timer ??= setInterval(() => {
      if (this.#pending > 0) return;
      const seq = this.seq++;
      void this.send(['tracker', encodeTrackerMessage({ flags: FLAG_HAS_TIME, seq, timeUs: Sender.stampUs(), values: [Math.sin(seq / 50), 0.5] })]);
    }, 10);
  }
  /** Stop sending; resolves when the last send is done. */
  stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    return this.#chain;
  }
}

test.serial('external ZeroMQ tracker: clock model and counters published, stale, fresh and reconnect announced', async (t) => {
  t.timeout(90_000);
  let pub = new Publisher();
  await pub.bind('tcp://127.0.0.1:*');
  const endpoint = pub.lastEndpoint!;
  const sender = new Sender(pub);
  t.teardown(async () => {
    await sender.stop();
    sender.pub.close();
  });
  const cfg = defaultConfig('sim');
  cfg.runtimeId = 'trk-rt';
  cfg.model = null;
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  cfg.tracker = validateConfig({ tracker: { kind: 'zmq', endpoint, dims: 2, names: ['angle', 'grip'], staleMs: 500 } }).tracker;
  const log = new Logger({ sink: () => {}, level: 'error' });
  sender.start();
  const rt = await Runtime.start(cfg, { log, guardProcess: false });
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!], topics: ['clock', 'health', 'event'] });
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 20_000 });
  try {
    const iter = client[Symbol.asyncIterator]();
    const events: string[] = [];
    const next = async <M extends TelemetryMessage>(pred: (m: TelemetryMessage) => m is M, what: string): Promise<M> => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const r = await iter.next();
        if (r.done) break;
        if (r.value.topic === 'event') events.push(r.value.body.kind);
        if (pred(r.value)) return r.value;
      }
      throw new Error(`no telemetry message: ${what} (events so far: ${events.join(', ')})`);
    };
    type Health = Extract<TelemetryMessage, { topic: 'health' }>;
    type Clock = Extract<TelemetryMessage, { topic: 'clock' }>;
    type Event = Extract<TelemetryMessage, { topic: 'event' }>;
    const isHealth = (m: TelemetryMessage): m is Health => m.topic === 'health';
    const trackerClock = (m: TelemetryMessage): m is Clock => m.topic === 'clock' && m.body.source === 'tracker';
    const event =
      (kind: string) =>
      (m: TelemetryMessage): m is Event =>
        m.topic === 'event' && m.body.kind === kind;

    // Delivering: the sender's clock is mapped by the feed's own model, published beside the EMG's.
    const fresh = await next(
      (m): m is Health => isHealth(m) && m.body.trackers.tracker?.feed === 'fresh' && (m.body.counters['tracker.samples'] ?? 0) > 20,
      'a fresh tracker in health',
    );
    t.is(fresh.body.trackers.tracker!.link, 'up');
    const clock = await next((m): m is Clock => trackerClock(m) && m.body.points > 20, 'the tracker clock model');
    t.is(clock.body.time_base, 'device');
    t.not(clock.body.state, 'stale');
    // Host minus sender time: the sender's epoch is 7e9 ms ahead of CLOCK_MONOTONIC.
    t.true(Math.abs(clock.body.offset_ms + 7e9) < 1000, `offset ${clock.body.offset_ms}`);
    t.true(Number.isFinite(clock.body.drift_ppm) && Number.isFinite(clock.body.residual_ms));
    const emgClock = await next((m): m is Clock => m.topic === 'clock' && m.body.source === 'emg', 'the EMG clock beside it');
    t.is(emgClock.body.time_base, 'device');

    // Malformed messages, a stamp from the past and a sequence gap, between good ones: counted by reason.
    // None of the refused ones takes a sequence number (they never become samples); the stamp from the
    // past decodes, so it does; then five numbers are skipped: one gap.
    const msg = (o: { seq?: number; dt?: number; values?: number[] }) =>
      encodeTrackerMessage({ flags: FLAG_HAS_TIME, seq: o.seq ?? sender.seq, timeUs: Sender.stampUs() + (o.dt ?? 0), values: o.values ?? [0, 0] });
    const badVersion = msg({});
    badVersion[0] = 9;
    await sender.send(['tracker', msg({}).subarray(0, 10)]);
    await sender.send(['tracker', badVersion]);
    await sender.send(['tracker']);
    await sender.send(['tracker', msg({ values: [1, 2, 3] })]);
    await sender.send(['tracker', msg({ seq: sender.seq++, dt: -10e6 })]);
    sender.seq += 5;
    const counted = await next(
      (m): m is Health => isHealth(m) && m.body.counters['tracker.seqGaps'] === 1 && m.body.counters['tracker.badTime'] === 1,
      'the bad messages counted',
    );
    t.like(counted.body.counters, {
      'tracker.short': 1,
      'tracker.bad_version': 1,
      'tracker.badFrames': 1,
      'tracker.bad_dims': 1,
      'tracker.badTime': 1,
      'tracker.seqGaps': 1,
    });
    const status = (await ctl.request('status')) as { tracker: { feed: string; clock: { time_base: string }; counters: Record<string, number> } };
    t.like(status.tracker, { feed: 'fresh', clock: { time_base: 'device' }, counters: { short: 1, bad_dims: 1, seqGaps: 1 } });
    t.true(status.tracker.counters.samples! >= counted.body.counters['tracker.samples']!);

    // The sender goes quiet: a stale event, and the clock says stale.
    await sender.stop();
    const stale = await next(event('tracker.stale'), 'a stale event');
    t.is(stale.body.level, 'warn');
    t.true((stale.body.data!.silence_ms as number) >= 500);
    await next((m): m is Clock => trackerClock(m) && m.body.state === 'stale', 'a stale tracker clock');
    // ... and resumes: fresh again.
    sender.start();
    const again = await next(event('tracker.fresh'), 'a fresh event');
    t.is(again.body.data!.first, false);

    // The sender restarts (its socket closes and a new one binds the same endpoint): lost, then back.
    await sender.stop();
    pub.close();
    await next(event('tracker.disconnect'), 'a disconnect event');
    pub = new Publisher();
    await pub.bind(endpoint);
    sender.pub = pub;
    sender.start();
    const back = await next(event('tracker.reconnect'), 'a reconnect event');
    t.true((back.body.data!.reconnects as number) >= 1);
    await next(
      (m): m is Health => isHealth(m) && (m.body.counters['tracker.reconnects'] ?? 0) >= 1 && m.body.trackers.tracker?.feed === 'fresh',
      'the reconnect counted, delivering',
    );
    t.is(sender.error, null, 'every send went out');
  } finally {
    await ctl.close();
    await client.close();
    await rt.stop();
  }
});
