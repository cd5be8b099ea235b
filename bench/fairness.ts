/**
 * Fairness: one telemetry subscriber that never reads must cost a subscriber that keeps up
 * nothing (docs/telemetry.md section 5).
 *   npm run bench -- fairness [--duration SECONDS] [--stalled-hwm=N] [--stalled-rcvbuf=BYTES] [--estop-every=SECONDS]
 *   (defaults: 30 s; the stalled socket's ZMQ_RCVHWM 10 and SO_RCVBUF 4096 bytes, so it stalls
 *   within seconds instead of the ~27 s its default buffers take; e-stop / release every 2 s)
 *
 * The sim board as `npm start` runs it (Runtime with the default run configuration, armed,
 * telemetry and control on free loopback ports), with two subscribers on the same endpoint:
 * - healthy: a TelemetryClient subscribed to every topic, reading everything as it comes;
 * - stalled: a bare SUB socket subscribed to everything that is never read until the end.
 * A ControlClient alternates `estop` and `release` every --estop-every seconds, so `event`
 * messages and `actuators` safe-state changes happen while the stalled subscriber is full.
 *
 * healthy_missed: the healthy subscriber's sequence gaps, summed over every topic (each
 * message's `lost`; descriptors of block topics take sequence numbers too, so a lost
 * descriptor counts). Must be 0.
 * stalled_dropped: after --duration, the healthy subscriber's latest sequence number per topic
 * marks the end of the run (it keeps up, so that is the publisher's). The stalled socket's
 * queue is then read until it has passed that mark on every topic (or 10 s). For each topic,
 * dropped = (end mark - first sequence number it received + 1) - messages it received in
 * that range: its gaps plus everything after the last message it kept.
 * healthy_undescribed_after_first_interval: blocks the healthy client dropped for want of a
 * descriptor after the first --estop-every seconds (the first ~10 ms after subscribing may
 * have some, docs/telemetry.md section 4; later ones would mean a lost descriptor).
 * stalled_last_kept_s: publish time (since the runtime started and the subscribers connected) of the newest message the stalled socket
 * kept before the end mark: from about then on it lost everything.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Subscriber } from 'zeromq';
import { nullLogger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { SeqAudit } from '../src/telemetry/seq-audit.js';
import { TOPICS, type Topic } from '../src/telemetry/topics.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { benchArgs, log, machine } from './_util.js';

interface HealthyTopic {
  received: number;
  missed: number;
  last: number;
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 30 });
  const stalledHwm = intFlag(argv, 'stalled-hwm', 10, 0);
  const stalledRcvbuf = intFlag(argv, 'stalled-rcvbuf', 4096, -1);
  const estopEvery = Number(flag(argv, 'estop-every') ?? 2);
  if (!(estopEvery > 0)) throw new Error('--estop-every must be a positive number of seconds');

  const cfg = defaultConfig('sim');
  cfg.runtimeId = 'fairness';
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  const rt = await Runtime.start(cfg, { log: nullLogger(), guardProcess: false, arm: true });
  const t0 = monotonicMs();
  const ep = rt.telemetryEndpoints[0]!;

  const stalled = new Subscriber({ receiveHighWaterMark: stalledHwm, receiveBufferSize: stalledRcvbuf, linger: 0 });
  stalled.subscribe('');
  stalled.connect(ep);

  const client = new TelemetryClient({ endpoints: [ep], topics: [...TOPICS], logger: nullLogger() });
  const healthy = new Map<Topic, HealthyTopic>(TOPICS.map((t) => [t, { received: 0, missed: 0, last: -1 }]));
  const eventKinds: Record<string, number> = {};
  let safeChanges = 0;
  let lastSafe: boolean | undefined;
  const reading = (async () => {
    for await (const m of client) {
      const h = healthy.get(m.topic)!;
      h.received++;
      h.missed += m.lost;
      h.last = m.seq;
      if (m.topic === 'event') eventKinds[m.body.kind] = (eventKinds[m.body.kind] ?? 0) + 1;
      if (m.topic === 'actuators') {
        if (lastSafe !== undefined && m.body.safe_state !== lastSafe) safeChanges++;
        lastSafe = m.body.safe_state;
      }
    }
  })();
  log(`fairness: sim board for ${duration} s, one subscriber reading everything, one never reading (RCVHWM ${stalledHwm}, SO_RCVBUF ${stalledRcvbuf})`);

  // Safety events and actuator state changes while the stalled subscriber is full.
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 10_000, logger: nullLogger() });
  const control = { ok: 0, failed: 0 };
  const command = async (cmd: 'estop' | 'release'): Promise<void> => {
    try {
      await ctl.request(cmd, cmd === 'estop' ? { reason: 'fairness bench' } : {});
      control.ok++;
    } catch (err) {
      control.failed++;
      log(`fairness: ${cmd} failed: ${(err as Error).message}`);
    }
  };
  let estopped = false;
  // Blocks the healthy client could not read for want of a descriptor: expected only in its first ~10 ms.
  let undescribedAtStart: number | undefined;
  const end = performance.now() + duration * 1000;
  while (performance.now() < end) {
    await sleep(Math.min(estopEvery * 1000, end - performance.now()));
    undescribedAtStart ??= client.stats().undescribed;
    if (performance.now() >= end) break;
    await command(estopped ? 'release' : 'estop');
    estopped = !estopped;
  }
  // The end mark: the healthy subscriber keeps up, so its latest sequence numbers are the publisher's.
  const mark = new Map<Topic, number>([...healthy].map(([t, h]) => [t, h.last]));
  const runS = (monotonicMs() - t0) / 1000;
  log(`fairness: ${runS.toFixed(1)} s; reading what the stalled subscriber kept`);

  // Drain the stalled socket up to the mark; a last e-stop and release give the event topic a message past it.
  const audit = new SeqAudit();
  const kept = new Map<Topic, { first: number; count: number; lastMono: number; passed: boolean }>();
  const drainEnd = performance.now() + 10_000;
  const after = (async () => {
    await command('estop');
    await command('release');
  })();
  const pending = (): boolean => TOPICS.some((t) => mark.get(t)! >= 0 && !kept.get(t)?.passed);
  while (pending() && performance.now() < drainEnd) {
    const frames = await Promise.race([stalled.receive(), sleep(Math.max(1, drainEnd - performance.now())).then(() => undefined)]);
    if (!frames) break;
    const m = audit.add(frames);
    if (!m) continue;
    let k = kept.get(m.topic);
    if (!k) kept.set(m.topic, (k = { first: m.seq, count: 0, lastMono: Number.NaN, passed: false }));
    if (m.seq > mark.get(m.topic)!) {
      k.passed = true;
      continue;
    }
    k.count++;
    k.lastMono = Array.isArray(m.value) ? (m.value[2] as number) : (m.value as { mono_ms: number }).mono_ms;
  }
  await after;
  const unfinished = TOPICS.filter((t) => mark.get(t)! >= 0 && !kept.get(t)?.passed);

  const status = rt.status() as { counters: Record<string, number> };
  stalled.close();
  await ctl.close();
  await client.close();
  await reading;
  await rt.stop();

  const perTopic: Record<string, unknown> = {};
  let healthyMissed = 0;
  let healthyReceived = 0;
  let stalledDropped = 0;
  let stalledKept = 0;
  let lastKeptMono = Number.NEGATIVE_INFINITY;
  for (const t of TOPICS) {
    const h = healthy.get(t)!;
    const k = kept.get(t);
    const endSeq = mark.get(t)!;
    const dropped = k && endSeq >= k.first ? endSeq - k.first + 1 - k.count : 0;
    healthyMissed += h.missed;
    healthyReceived += h.received;
    stalledDropped += dropped;
    stalledKept += k?.count ?? 0;
    if (k && k.count > 0) lastKeptMono = Math.max(lastKeptMono, k.lastMono);
    perTopic[t] = { healthy_received: h.received, healthy_missed: h.missed, stalled_kept: k?.count ?? 0, stalled_dropped: dropped, end_seq: endSeq };
  }
  const round = (v: number): number => Math.round(v * 100) / 100;
  return {
    duration_s: round(runS),
    healthy_missed: healthyMissed,
    stalled_dropped: stalledDropped,
    healthy_received: healthyReceived,
    stalled_kept: stalledKept,
    stalled_last_kept_s: Number.isFinite(lastKeptMono) ? round((lastKeptMono - t0) / 1000) : null,
    stalled_drain_unfinished: unfinished,
    stalled_rcvhwm: stalledHwm,
    stalled_rcvbuf: stalledRcvbuf,
    healthy_client: client.stats(),
    healthy_undescribed_after_first_interval: client.stats().undescribed - (undescribedAtStart ?? 0),
    per_topic: perTopic,
    events_seen_by_healthy: eventKinds,
    actuator_safe_changes_seen_by_healthy: safeChanges,
    control_requests: control,
    safety_counters: Object.fromEntries(Object.entries(status.counters).filter(([k]) => k.startsWith('safety.'))),
    machine: machine(),
  };
}

/** `--name=V` or `--name V`; undefined when absent. */
function flag(argv: string[], name: string): string | undefined {
  const eq = `--${name}=`;
  const i = argv.indexOf(`--${name}`);
  return argv.find((a) => a.startsWith(eq))?.slice(eq.length) ?? (i >= 0 ? argv[i + 1] : undefined);
}

function intFlag(argv: string[], name: string, dflt: number, min: number): number {
  const text = flag(argv, name);
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
  return n;
}
