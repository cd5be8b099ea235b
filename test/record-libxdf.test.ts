import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlock } from '../src/core/block.js';
import { BLOCK_COMPANION_CHANNELS, companionOf, LOOP_CHANNELS, streamsOf } from '../src/record/layout.js';
import { Recorder } from '../src/record/recorder.js';
import type { RecordedStream, Recording } from '../src/record/types.js';
import { readRecording } from '../src/record/xdf-reader.js';
import { nullLogger } from '../src/core/log.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { TOPICS, type BlockBody } from '../src/telemetry/topics.js';
import { loadWithLibxdf } from './record-helpers.js';
import { bindEndpoint, collect, sampleBodies } from './telemetry-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'reflex-rec-'));
const N = 12;

/**
 * A publisher that decimates emg.raw 4:1 and drops nothing else, with a Recorder as its tap:
 * every topic published N times, emg.raw also as SampleBlocks through publishBlock().
 */
async function recordThroughTap(path: string): Promise<{ bodies: ReturnType<typeof sampleBodies>[]; blocks: ReturnType<typeof createBlock>[] }> {
  const rec = new Recorder({ path, clock: 'local', source: { runtime: 'rig-a', board: 'sim' }, run: { model_id: 'wrist-v3' } });
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', decimate: { 'emg.raw': 4 }, tap: rec });
  await pub.start();
  const bodies: ReturnType<typeof sampleBodies>[] = [];
  const blocks: ReturnType<typeof createBlock>[] = [];
  // One reused block, as sources do: the recorder must copy during the call.
  const block = createBlock({ stream: 'emg', channels: 3, samples: 4, rate: 500, channelNames: ['x', 'y', 'z'], unit: 'mV' });
  try {
    for (let k = 1; k <= N; k++) {
      const b = sampleBodies(k);
      bodies.push(b);
      for (const topic of TOPICS) pub.publish(topic, b[topic]);
      for (let i = 0; i < block.data.length; i++) block.data[i] = k * 100 + i + 0.5;
      block.firstSample = (k - 1) * 4;
      block.seq = k;
      block.hostTimeMs = k === 3 ? Number.NaN : 5000 + k * 8;
      block.hostPeriodMs = 2;
      block.deviceTimeUs = k * 8000;
      pub.publishBlock('emg.features', block);
      blocks.push({ ...block, data: block.data.slice() });
    }
    t0stats = pub.stats();
  } finally {
    await pub.close();
    rec.close();
  }
  return { bodies, blocks };
}
let t0stats: ReturnType<TelemetryPublisher['stats']> | undefined;

function transpose(b: BlockBody): number[] {
  const ch = b.channels.length;
  const out: number[] = [];
  for (let i = 0; i < b.samples; i++) for (let c = 0; c < ch; c++) out.push(b.data[c * b.samples + i]!);
  return out;
}

function rows(s: RecordedStream): number[][] {
  const ch = s.channels.length;
  return Array.from({ length: s.samples }, (_, i) => Array.from(s.data.subarray(i * ch, (i + 1) * ch)));
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));

let recorded: { path: string; rec: Recording; bodies: ReturnType<typeof sampleBodies>[]; blocks: ReturnType<typeof createBlock>[] } | undefined;
async function recording(): Promise<NonNullable<typeof recorded>> {
  if (recorded) return recorded;
  const path = join(dir, 'tap.xdf');
  const { bodies, blocks } = await recordThroughTap(path);
  return (recorded = { path, rec: readRecording(path), bodies, blocks });
}

test.serial('the tap records every message before decimation, one XDF stream per source, by the layout', async (t) => {
  const { rec, bodies } = await recording();
  t.is(t0stats!.topics['emg.raw'].decimated, N - N / 4, 'the publisher did decimate');
  t.is(rec.truncatedBytes, 0);
  t.deepEqual(rec.header.reflex, { recorder: 'board', model_id: 'wrist-v3' });
  const raw = streamsOf(rec, 'emg.raw')[0]!;
  t.like(raw, { name: 'reflex emg.raw emg', type: 'EMG', rate: 2000, format: 'float32', samples: N * 16 });
  t.deepEqual(raw.channels, ['ch1', 'ch2', 'ch3', 'ch4']);
  t.deepEqual(raw.units, ['uV', 'uV', 'uV', 'uV']);
  t.like(raw.meta, { topic: 'emg.raw', stream: 'emg', runtime: 'rig-a', board: 'sim', unit: 'uV', model_id: 'wrist-v3' });
  const comp = companionOf(rec, raw)!;
  t.like(comp, { name: 'reflex emg.raw emg blocks', type: 'ReflexBlocks', rate: 0, format: 'double64', samples: N });
  t.deepEqual(comp.channels, [...BLOCK_COMPANION_CHANNELS]);
  for (let k = 0; k < N; k++) {
    const b = bodies[k]!['emg.raw'];
    t.true(same(raw.data.subarray(k * 64, (k + 1) * 64), transpose(b)), `block ${k} samples bit-exact`);
    t.deepEqual(rows(comp)[k], [b.first_sample, b.block_seq, b.samples, b.device_time_us, b.host_time_ms, b.host_period_ms, 1]);
    t.is(comp.timestamps[k], b.host_time_ms / 1000);
    for (let i = 0; i < 16; i++) t.is(raw.timestamps[k * 16 + i], (b.host_time_ms + i * b.host_period_ms) / 1000);
  }
  const feat = streamsOf(rec, 'emg.features', 'emg.rms')[0]!;
  t.is(companionOf(rec, feat)!.data[6], 0, 'valid=false is recorded as 0');
  t.like(streamsOf(rec, 'tracker')[0], { type: 'Mocap', rate: 120, samples: N * 5 });

  const pred = streamsOf(rec, 'prediction')[0]!;
  t.deepEqual(pred.channels, ['tick', 'window_end_ms', 'latency_ms', 'flex', 'ext']);
  t.like(pred.meta, { model: 'wrist-v3', unit: 'deg' });
  const p0 = bodies[0]!.prediction;
  t.deepEqual(rows(pred)[0], [p0.tick, p0.window_end_ms, p0.latency_ms, ...p0.values]);
  const act = streamsOf(rec, 'actuators')[0]!;
  t.deepEqual(act.channels, [
    'tick',
    'safe_state',
    'requested.servo1',
    'requested.servo2',
    'applied.servo1',
    'applied.servo2',
    'limited.servo1',
    'limited.servo2',
  ]);
  t.deepEqual(act.units, ['', '', 'deg', 'deg', 'deg', 'deg', '', '']);
  t.deepEqual(rows(act)[0], [1, 0, 100, -5, 90, -5, 1, 0]);
  const loop = streamsOf(rec, 'loop')[0]!;
  t.deepEqual(loop.channels, [...LOOP_CHANNELS]);
  t.deepEqual(
    rows(loop)[1],
    LOOP_CHANNELS.map((c) => bodies[1]!.loop[c]),
  );
  const clock = streamsOf(rec, 'clock', 'emg')[0]!;
  t.like(clock, { type: 'ReflexClock', name: 'reflex clock emg' });
  t.like(clock.meta, { time_base: 'device', source: 'emg' });
  t.deepEqual(rows(clock)[0], [1, -1234.5678, 12.3, 0.021, 64]);
  const ev = streamsOf(rec, 'event')[0]!;
  t.is(ev.type, 'Markers');
  t.deepEqual(JSON.parse(ev.strings[0]!), bodies[0]!.event);
  t.is((JSON.parse(streamsOf(rec, 'health')[0]!.strings[3]!) as { uptime_s: number }).uptime_s, 12.5 + 4);
  // On the board, the stamps are the recorder's clock: every offset is 0, written at the start and at close.
  for (const s of rec.streams) t.true(s.clockOffsets.length >= 2 && s.clockOffsets.every((o) => o.value === 0), s.name);
});

test.serial('a reused SampleBlock is copied during the call; NaN host time is written without stamps', async (t) => {
  const { rec, blocks } = await recording();
  const s = streamsOf(rec, 'emg.features', 'emg')[0]!;
  t.like(s, { rate: 500, samples: N * 4 });
  t.deepEqual(s.units, ['mV', 'mV', 'mV']);
  for (let k = 0; k < N; k++) {
    const b = blocks[k]!;
    t.true(same(s.data.subarray(k * 12, (k + 1) * 12), transpose({ ...b, channels: b.channelNames, data: b.data } as unknown as BlockBody)));
  }
  const comp = companionOf(rec, s)!;
  t.true(Number.isNaN(comp.data[2 * 7 + 4]!), 'host_time_ms NaN kept in the companion');
  // Block 3 (k = 3) had no host time: deduced from the previous stamp at the nominal rate.
  t.is(s.timestamps[8], s.timestamps[7]! + 1 / 500);
});

test.serial('Debian libxdf reads the same streams, names, rates, channels, units, counts and stamps', async (t) => {
  const { path, rec } = await recording();
  const lib = loadWithLibxdf(path);
  t.is(lib.version, 1);
  t.is(lib.streams.length, rec.streams.length);
  for (const [i, s] of rec.streams.entries()) {
    const l = lib.streams[i]!;
    t.like(l, { name: s.name, type: s.type, channel_format: s.format, channel_count: s.channels.length, nominal_srate: s.rate }, s.name);
    t.deepEqual(l.labels, s.channels, s.name);
    t.deepEqual(l.units, s.units, s.name);
    t.is(l.footer_sample_count, s.samples, s.name);
    t.is(l.clock_offsets, s.clockOffsets.length, s.name);
    if (s.format === 'string') {
      t.deepEqual(
        l.events.map((e) => e.text),
        s.strings,
      );
      t.deepEqual(
        l.events.map((e) => e.t),
        Array.from(s.timestamps),
      );
      continue;
    }
    t.is(l.time_stamps, s.samples, s.name);
    t.is(l.first_timestamp, s.timestamps[0]!, s.name);
    t.is(l.last_timestamp, s.timestamps[s.samples - 1]!, s.name);
    // libxdf keeps float samples as float: compare the sum of what it read with ours, where finite.
    const ours = Array.from(s.data).reduce((a, b) => a + Math.fround(b), 0);
    if (Number.isFinite(ours)) t.true(Math.abs(l.sum! - ours) <= 1e-6 * Math.max(1, Math.abs(ours)), `${s.name}: ${l.sum} vs ${ours}`);
    t.is(l.values, s.samples * s.channels.length);
  }
});

test('a tap that throws costs subscribers nothing: counted in the publisher errors, the message still sent', async (t) => {
  const failing = {
    message(): void {
      throw new Error('disk full');
    },
    block(): void {
      throw new Error('disk full');
    },
  };
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', tap: failing, logger: nullLogger() });
  const [ep] = await pub.start();
  const client = new TelemetryClient({ endpoints: [ep!], topics: ['event'] });
  try {
    await pub.waitForSubscription('event/');
    pub.publish('event', sampleBodies(1).event);
    const got = await collect(client, (m) => m.length >= 1);
    t.is(got[0]?.topic, 'event');
    t.is(pub.stats().errors, 1);
    t.is(pub.stats().topics.event.sent, 1);
  } finally {
    await client.close();
    await pub.close();
  }
});
