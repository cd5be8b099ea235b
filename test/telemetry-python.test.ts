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

/** The SUMMARY line the subscriber script prints (its --json output). */
interface PySummary {
  received: number;
  lost: number;
  malformed: number;
  topics: Record<string, { total: number; lost: number }>;
}

/** One DUMP line: a decoded message as the script saw it. */
interface PyDump {
  topic: string;
  body: Record<string, unknown>;
  v: number;
  seq: number;
}

function summaryOf(out: string): PySummary {
  const line = out.split('\n').find((l) => l.startsWith('SUMMARY '));
  if (!line) throw new Error(`no SUMMARY line in:\n${out}`);
  return JSON.parse(line.slice('SUMMARY '.length)) as PySummary;
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
    for (let r = 0; r < rounds; r++) for (const topic of TOPICS) pub.publish(topic, bodies[topic]);
    const res = await py.done;
    t.is(res.code, 0, res.stderr);
    const s = summaryOf(res.stdout);
    t.is(s.received, rounds * TOPICS.length);
    t.is(s.lost, 0);
    t.is(s.malformed, 0);
    const dumps = new Map<string, PyDump>();
    for (const l of res.stdout.split('\n'))
      if (l.startsWith('DUMP ')) {
        const d = JSON.parse(l.slice(5)) as PyDump;
        dumps.set(d.topic, d);
      }
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
  const pub = new TelemetryPublisher({
    endpoints: [bindEndpoint('tcp')],
    runtimeId: 'rig-c',
    boardId: 'sim',
    curve: { ...server, allow: [ws.publicKey] },
    logger: nullLogger(),
  });
  const [ep] = await pub.start();
  const py = runPython([
    ep!,
    '--topic',
    'prediction',
    '--server-key',
    join(dir, 'server.pub'),
    '--client-key-file',
    join(dir, 'ws.key'),
    '--count',
    '10',
    '--duration',
    '20',
    '--json',
    '--quiet',
  ]);
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

test('the Python subscriber joins packed blocks with their descriptor and counts the undescribed (messages built by hand from the document)', async (t) => {
  // Section 4 of docs/telemetry.md: on a block topic a map in frame 2 is a stream descriptor, an
  // array is a packed block [v, seq, mono_ms, desc, samples, first_sample, block_seq,
  // device_time_us, host_time_ms, host_period_ms, valid, data].
  const sock = new XPublisher({ linger: 0 });
  await sock.bind(bindEndpoint('ipc'));
  const ep = sock.lastEndpoint!;
  const enc = createEncoder();
  const frame = 'emg.raw/rig-p/b1';
  const packed = (seq: number, desc: number, data: Float32Array, samples: number): Buffer =>
    enc.encode([3, seq, 100 + seq, desc, samples, seq * samples, seq, 1e6 + seq, 50 + seq, 0.5, true, data]);
  const py = runPython([ep, '--count', '3', '--duration', '20', '--json', '--quiet', '--dump']);
  try {
    await sock.receive();
    await sock.send([frame, packed(0, 7, new Float32Array(6), 3)]); // before its descriptor
    await sock.send([
      frame,
      enc.encode({
        v: 3,
        seq: 1,
        mono_ms: 101,
        wall_ms: 1_700_000_000_101,
        body: { desc: 7, stream: 'emg', rate: 2000, unit: 'uV', channels: ['flexor', 'extensor'] },
      }),
    ]);
    await sock.send([frame, packed(2, 7, Float32Array.of(1, 2, 3, 4, 5, 6), 3)]);
    await sock.send([frame, packed(3, 9, new Float32Array(6), 3)]); // names a descriptor never sent
    await sock.send([frame, packed(4, 7, new Float32Array(5), 3)]); // 5 values for 2 channels x 3 samples
    await sock.send([frame, packed(5, 7, Float32Array.of(7, 8, 9, 10, 11, 12), 3)]);
    // Section 2: a body may come in two frames, to be joined (here cut inside the samples).
    const split = packed(6, 7, Float32Array.of(13, 14, 15, 16, 17, 18), 3);
    await sock.send([frame, split.subarray(0, split.length - 10), split.subarray(split.length - 10)]);
    const res = await py.done;
    t.is(res.code, 0, res.stderr);
    const s = summaryOf(res.stdout) as ReturnType<typeof summaryOf> & { descriptors: number; undescribed: number };
    t.is(s.received, 3);
    t.is(s.lost, 0);
    t.is(s.descriptors, 1);
    t.is(s.undescribed, 2);
    t.is(s.malformed, 1);
    const dump = res.stdout.split('\n').find((l) => l.startsWith('DUMP '));
    const body = (JSON.parse(dump!.slice(5)) as { body: Record<string, unknown> }).body;
    t.like(body, { stream: 'emg', rate: 2000, unit: 'uV', channels: ['flexor', 'extensor'], samples: 3, first_sample: 6, block_seq: 2, valid: true });
    // The example dumps arrays as their bytes: channel-major float32, bit for bit.
    t.deepEqual(body.data, { dtype: 'float32', len: 6, hex: Buffer.from(Float32Array.of(1, 2, 3, 4, 5, 6).buffer).toString('hex') });
  } finally {
    sock.close();
  }
});
