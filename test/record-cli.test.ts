import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as recordCmd from '../src/cli/commands/record.js';
import { RecordCodes } from '../src/record/codes.js';
import { companionOf, streamsOf } from '../src/record/layout.js';
import { readRecording } from '../src/record/xdf-reader.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { TOPICS } from '../src/telemetry/topics.js';
import { runCommand } from './record-helpers.js';
import { bindEndpoint, sampleBodies } from './telemetry-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'reflex-reccli-'));

test('reflex record ENDPOINT FILE writes what it received as XDF, stamps on the board clock with offsets to ours', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-b', boardId: 'sim' });
  const [ep] = await pub.start();
  let k = 0;
  const published: ReturnType<typeof sampleBodies>[] = [];
  // Publishing starts once the recorder's subscription has arrived (no slow-joiner loss).
  const timer = setInterval(() => {
    if (!pub.subscriptions()['emg.raw/']) return;
    const b = sampleBodies(++k);
    published.push(b);
    for (const topic of TOPICS) pub.publish(topic, b[topic]);
  }, 20);
  const file = join(dir, 'ws.xdf');
  try {
    const r = await runCommand(recordCmd, [ep!, file, '--duration', '1', '--topics', 'emg.raw,prediction', '--topics', 'event']);
    t.is(r.code, 0, r.err);
    t.regex(r.out, /recorded \d+ messages in 3 streams .* lost 0/);
  } finally {
    clearInterval(timer);
    await pub.close();
  }
  const rec = readRecording(file);
  t.deepEqual(rec.header.reflex, { recorder: 'workstation' });
  t.deepEqual(rec.streams.map((s) => s.name).sort(), ['reflex emg.raw emg', 'reflex emg.raw emg blocks', 'reflex event', 'reflex prediction']);
  const raw = streamsOf(rec, 'emg.raw')[0]!;
  const comp = companionOf(rec, raw)!;
  t.true(comp.samples > 10);
  // Received in order from the first published body (the subscription was in place before it).
  for (let i = 0; i < comp.samples; i++) t.is(comp.data[i * 7]!, published[i]!['emg.raw'].first_sample);
  t.is(raw.timestamps[0], published[0]!['emg.raw'].host_time_ms / 1000);
  t.like(raw.meta, { runtime: 'rig-b', board: 'sim', endpoint: ep });
  // Same host, so receive minus publish time is the transit time: small and not negative.
  for (const s of rec.streams) {
    t.true(s.clockOffsets.length >= 2, s.name);
    for (const o of s.clockOffsets) t.true(o.value >= 0 && o.value < 1, `${s.name} offset ${o.value}`);
  }
});

test('reflex record refuses bad usage and an existing file without --force, leaving it untouched', async (t) => {
  const file = join(dir, 'exists.xdf');
  writeFileSync(file, 'precious');
  const r = await runCommand(recordCmd, ['ipc:///nonexistent.sock', file, '--duration', '0.2']);
  t.is(r.code, 2);
  t.is(r.error?.code, RecordCodes.exists);
  t.true(r.err.includes(file) && r.err.includes('--force'));
  t.is(readFileSync(file, 'utf8'), 'precious');
  t.is((await runCommand(recordCmd, [file])).code, 2);
  t.is((await runCommand(recordCmd, [file, 'tcp://127.0.0.1:5556'])).code, 2, 'file must come last');
  t.is((await runCommand(recordCmd, ['ipc:///x.sock', join(dir, 'n.xdf'), '--topics', 'emg.raw,bogus'])).code, 2);
});
