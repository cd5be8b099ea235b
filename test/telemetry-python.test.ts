/**
 * The Python example subscriber (pyzmq + cbor2 + numpy) against a live publisher: it is the
 * proof that docs/telemetry.md is enough for another language.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XPublisher } from 'zeromq';
import { nullLogger } from '../src/core/log.js';
import { createEncoder } from '../src/telemetry/codec.js';
import { generateKeyPair, writeKeyPair } from '../src/telemetry/keys.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { TOPICS, type TopicBodies } from '../src/telemetry/topics.js';
import { bindEndpoint, sampleBodies } from './telemetry-helpers.js';

const PY = '/usr/bin/python3';
const SCRIPT = new URL('../examples/python/subscriber.py', import.meta.url).pathname;

interface PyRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runPython(args: string[]): { done: Promise<PyRun> } {
  const child = spawn(PY, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<PyRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { done };
}

function summaryOf(out: string): { received: number; lost: number; malformed: number; topics: Record<string, { total: number; lost: number }> } {
  const line = out.split('\n').find((l) => l.startsWith('SUMMARY '));
  if (!line) throw new Error(`no SUMMARY line in:\n${out}`);
  return JSON.parse(line.slice('SUMMARY '.length));
}

function hex(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
}

test('the Python subscriber decodes every topic, typed arrays bit-exact, and reports no loss', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim' });
  const [ep] = await pub.start();
  const rounds = 20;
  const py = runPython([ep!, '--count', String(rounds * TOPICS.length), '--duration', '20', '--json', '--dump', '--quiet']);
  try {
    await pub.waitForSubscription('');
    const bodies = sampleBodies();
    for (let r = 0; r < rounds; r++) for (const topic of TOPICS) pub.publish(topic, bodies[topic] as never);
    const res = await py.done;
    t.is(res.code, 0, res.stderr);
    const s = summaryOf(res.stdout);
    t.is(s.received, rounds * TOPICS.length);
    t.is(s.lost, 0);
    t.is(s.malformed, 0);
    const dumps = new Map<string, { body: Record<string, unknown>; v: number; seq: number }>();
    for (const l of res.stdout.split('\n')) if (l.startsWith('DUMP ')) { const d = JSON.parse(l.slice(5)); dumps.set(d.topic, d); }
    t.deepEqual([...dumps.keys()].sort(), [...TOPICS].sort());
    const raw = dumps.get('emg.raw')!.body;
    t.deepEqual(raw.data, { dtype: 'float32', len: 64, hex: hex(bodies['emg.raw'].data) });
    t.deepEqual(raw.channels, ['ch1', 'ch2', 'ch3', 'ch4']);
    t.is(dumps.get('emg.features')!.body.device_time_us, 'nan');
    const act = dumps.get('actuators')!.body as Record<string, { dtype: string; hex: string }>;
    t.deepEqual(act.limited, { dtype: 'uint8', len: 2, hex: '0100' });
    t.is(act.applied!.hex, hex(bodies.actuators.applied));
    t.is((dumps.get('prediction')!.body.values as { hex: string }).hex, hex(bodies.prediction.values));
    t.like(dumps.get('clock')!.body, { state: 'locked', offset_ms: -1234.5678 });
    t.like(dumps.get('health')!.body, { state: 'running', telemetry: { dropped: 0 } });
  } finally {
    await pub.close();
  }
});

test('the Python subscriber connects with CURVE keys from `reflex keygen` files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-py-'));
  const server = generateKeyPair();
  const ws = generateKeyPair();
  writeKeyPair(dir, 'server', server);
  writeKeyPair(dir, 'ws', ws);
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('tcp')], runtimeId: 'rig-c', boardId: 'sim', curve: { ...server, allow: [ws.publicKey] }, logger: nullLogger() });
  const [ep] = await pub.start();
  const py = runPython([ep!, '--topic', 'prediction', '--server-key', join(dir, 'server.pub'), '--client-key-file', join(dir, 'ws.key'), '--count', '10', '--duration', '20', '--json', '--quiet']);
  try {
    await pub.waitForSubscription('prediction/');
    const body: TopicBodies['prediction'] = sampleBodies().prediction;
    for (let i = 0; i < 10; i++) pub.publish('prediction', body);
    const res = await py.done;
    t.is(res.code, 0, res.stderr);
    const s = summaryOf(res.stdout);
    t.is(s.received, 10);
    t.deepEqual(Object.keys(s.topics), ['prediction rig-c/sim']);
  } finally {
    await pub.close();
  }
});

test('the Python subscriber counts sequence gaps as losses (messages built by hand from the document)', async (t) => {
  // A bare ZeroMQ XPUB sending frames exactly as docs/telemetry.md describes, with seq 3 and 4 missing.
  const sock = new XPublisher({ linger: 0 });
  await sock.bind(bindEndpoint('ipc'));
  const ep = sock.lastEndpoint!;
  const enc = createEncoder();
  const seqs = [0, 1, 2, 5, 6, 7];
  const py = runPython([ep, '--count', String(seqs.length), '--duration', '20', '--json', '--quiet']);
  try {
    const [sub] = await sock.receive(); // the subscription: byte 1 + prefix ("" = everything)
    t.is(sub![0], 1);
    const body = { kind: 'note', level: 'info', message: 'hand-made', data: { n: 1 } };
    // Frame 1 is the only place the topic and source are named: a frame that does not parse is malformed.
    await sock.send(['event/rig-x', enc.encode({ v: 2, seq: 0, mono_ms: 1, wall_ms: Date.now(), body })]);
    for (const seq of seqs) {
      await sock.send(['event/rig-x/b1', enc.encode({ v: 2, seq, mono_ms: 1000 + seq, wall_ms: Date.now(), body })]);
    }
    const res = await py.done;
    t.is(res.code, 0, res.stderr);
    const s = summaryOf(res.stdout);
    t.is(s.received, 6);
    t.is(s.lost, 2);
    t.is(s.malformed, 1);
    t.deepEqual(s.topics, { 'event rig-x/b1': { total: 6, lost: 2 } });
  } finally {
    sock.close();
  }
});
