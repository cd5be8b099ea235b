/**
 * The bridge source's counters reach a subscriber's `health` messages and the `status`
 * answer, on the simulated board with a real runtime: from the start (all keys, the right
 * ones non-zero), and after the simulated firmware is killed (restarts, reconnects, resets),
 * with the firmware and gap events on the `event` topic.
 */
import test from 'ava';
import { Logger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import type { TelemetryMessage } from '../src/telemetry/topics.js';

type Health = Extract<TelemetryMessage, { topic: 'health' }>;
type EventMsg = Extract<TelemetryMessage, { topic: 'event' }>;

test.serial('sim source: link, decoder, actuate and firmware counters in health and status, before and after a firmware kill', async (t) => {
  t.timeout(90_000);
  const cfg = defaultConfig('sim');
  cfg.runtimeId = 'counters-rt';
  cfg.model = null; // the source is under test, not the loop
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  const rt = await Runtime.start(cfg, { log: new Logger({ sink: () => undefined }), guardProcess: false });
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!], topics: ['health', 'event'] });
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 20_000 });
  t.teardown(async () => {
    await ctl.close();
    await client.close();
    await rt.stop();
  });
  const iter = client[Symbol.asyncIterator]();
  const events: EventMsg[] = [];
  const next = async <M extends TelemetryMessage>(pred: (m: TelemetryMessage) => m is M, what: string): Promise<M> => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await iter.next();
      if (r.done) break;
      if (r.value.topic === 'event') events.push(r.value);
      if (pred(r.value)) return r.value;
    }
    throw new Error(`no telemetry message: ${what}; events: ${events.map((e) => e.body.message).join(' | ')}`);
  };
  const health =
    (want: (c: Record<string, number>) => boolean) =>
    (m: TelemetryMessage): m is Health =>
      m.topic === 'health' && want(m.body.counters);

  const h1 = await next(
    health((c) => (c['source.samples'] ?? 0) > 0 && (c['source.link.pongs'] ?? 0) > 0),
    'health with samples and pongs',
  );
  const c1 = h1.body.counters;
  for (const k of [
    'source.frames',
    'source.samples_frames',
    'source.bytes',
    'source.link.connect_attempts',
    'source.link.connects',
    'source.link.pings',
    'source.link.pongs',
  ]) {
    t.true(c1[k]! > 0, `${k} counts: ${c1[k]}`);
  }
  for (const k of [
    'source.actuate_errors',
    'source.decoder.bad_crc',
    'source.decoder.gaps',
    'source.link.reconnects',
    'source.link.stalls',
    'source.firmware.restarts',
    'source.firmware.exits',
  ]) {
    t.is(c1[k], 0, `${k} is reported, at 0`);
  }
  const s1 = (await ctl.request('status')) as { counters: Record<string, number>; source: Record<string, string | number> };
  t.true(s1.counters['source.samples']! >= c1['source.samples']!);
  t.is(s1.counters['source.firmware.restarts'], 0);
  t.like(s1.source, { link: 'streaming', link_attempts: 1, firmware_restarts: 0 });
  const pid = Number(s1.source.firmware_pid);
  t.true(pid > 0);

  // An unplug of the simulated board: the counters say what happened.
  process.kill(pid, 'SIGKILL');
  const h2 = await next(
    health((c) => c['source.firmware.restarts'] === 1 && (c['source.link.outages'] ?? 0) >= 1),
    'health after the firmware restart and the outage gap',
  );
  const c2 = h2.body.counters;
  t.is(c2['source.firmware.exits'], 1);
  t.true(c2['source.link.connections_lost']! >= 1);
  t.true(c2['source.link.reconnects']! >= 1);
  t.true(c2['source.link.connect_attempts']! > c1['source.link.connect_attempts']!);
  t.is(c2['source.link.device_resets'], 1);
  t.is(c2['device_resets'], 1);
  t.true(c2['gaps']! >= 1);
  t.true(c2['source.samples']! > c1['source.samples']!);
  const kinds = events.map((e) => `${e.body.kind}:${String(e.body.data?.reason ?? e.body.data?.cause ?? '')}`);
  for (const k of ['firmware:firmware_exit', 'firmware:firmware_restart', 'gap:outage']) t.true(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
  t.true(
    kinds.some((k) => k.startsWith('disconnect:')),
    `a disconnect event in ${kinds.join(', ')}`,
  );
  const s2 = (await ctl.request('status')) as { counters: Record<string, number>; source: Record<string, string | number> };
  t.is(s2.counters['source.firmware.restarts'], 1);
  t.like(s2.source, { link: 'streaming', firmware_restarts: 1 });
  t.not(Number(s2.source.firmware_pid), pid);
  t.truthy(s2.source.last_error_code, 'status keeps the reason of the last connection loss');
});
