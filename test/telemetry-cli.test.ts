import test from 'ava';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { run } from '../src/cli/main.js';
import { nullLogger } from '../src/core/log.js';
import { ControlServer } from '../src/telemetry/control-server.js';
import { loadKeyPair, loadPublicKey } from '../src/telemetry/keys.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { readRecording } from '../src/record/xdf-reader.js';
import { TOPICS } from '../src/telemetry/topics.js';
import { bindEndpoint, sampleBodies } from './telemetry-helpers.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await run(argv, { stdout: out.stream, stderr: err.stream, signal: new AbortController().signal });
  return { code, out: out.text(), err: err.text() };
}

/** The parts of a `ctl` JSON reply these tests look at. */
interface CtlOutput {
  result?: unknown;
  error?: { code?: unknown };
}
const ctlOutput = (out: string): CtlOutput => JSON.parse(out) as CtlOutput;

const dir = mkdtempSync(join(tmpdir(), 'reflex-cli-'));

test('keygen writes 0600 z85 keypair files and refuses to overwrite', async (t) => {
  const out = join(dir, 'keys');
  const r = await cli(['keygen', '--out', out, '--name', 'rig']);
  t.is(r.code, 0, r.err);
  const pair = loadKeyPair(join(out, 'rig.key'));
  t.is(loadPublicKey(join(out, 'rig.pub')), pair.publicKey);
  t.true(r.out.includes(`public-key = ${pair.publicKey}`));
  t.is(statSync(join(out, 'rig.key')).mode & 0o777, 0o600);
  t.is(statSync(join(out, 'rig.pub')).mode & 0o777, 0o600);
  t.is((await cli(['keygen', '--out', out, '--name', 'rig'])).code, 2);
  t.is((await cli(['keygen', '--out', out, '--name', 'rig', '--force'])).code, 0);
  t.not(loadKeyPair(join(out, 'rig.key')).secretKey, pair.secretKey);
});

test('ctl sends a command over CURVE with key files and prints the reply; error replies exit 1', async (t) => {
  const keys = join(dir, 'ctl');
  t.is((await cli(['keygen', '--out', keys, '--name', 'server'])).code, 0);
  t.is((await cli(['keygen', '--out', keys, '--name', 'ws'])).code, 0);
  const serverPair = loadKeyPair(join(keys, 'server.key'));
  const srv = new ControlServer({
    endpoints: [bindEndpoint('tcp')],
    curve: { ...serverPair, allow: [loadPublicKey(join(keys, 'ws.pub'))] },
    logger: nullLogger(),
  });
  const seen: unknown[] = [];
  srv.handle('set', (args) => {
    seen.push(args);
    return { applied: args.value };
  });
  srv.handle('status', () => ({ state: 'running', loop_hz: 100 }));
  const [ep] = await srv.start();
  const auth = ['--server-key', join(keys, 'server.pub'), '--client-key-file', join(keys, 'ws.key')];
  try {
    const ok = await cli(['ctl', ep!, 'set', 'path=filters.emg.highpass_hz', 'value=20.5', ...auth]);
    t.is(ok.code, 0, ok.err);
    t.deepEqual(JSON.parse(ok.out), { id: 1, ok: true, result: { applied: 20.5 } });
    t.deepEqual(seen, [{ path: 'filters.emg.highpass_hz', value: 20.5 }]);
    const status = await cli(['ctl', ep!, 'status', ...auth]);
    t.deepEqual(ctlOutput(status.out).result, { state: 'running', loop_hz: 100 });
    const bad = await cli(['ctl', ep!, 'set', 'path=x', ...auth]);
    t.is(bad.code, 1);
    t.is(ctlOutput(bad.out).error?.code, 'E_BAD_ARGS');
    const unknown = await cli(['ctl', ep!, 'launch', ...auth]);
    t.is(unknown.code, 1);
    t.is(ctlOutput(unknown.out).error?.code, 'E_UNKNOWN_CMD');
    t.is((await cli(['ctl', ep!, 'status', '--server-key', join(keys, 'server.pub')])).code, 2);
    t.is((await cli(['ctl', ep!, 'set', 'novalue', ...auth])).code, 2);
  } finally {
    await srv.close();
  }
});

test('subscribe prints per-topic rates and latest values, and records what it received', async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim' });
  const [ep] = await pub.start();
  const bodies = sampleBodies();
  let ticks = 0;
  // Publishing starts once the CLI's subscription has arrived, so nothing is lost to the slow-joiner effect.
  const timer = setInterval(() => {
    if (!pub.subscriptions()['']) return;
    ticks++;
    for (const topic of TOPICS) pub.publish(topic, bodies[topic]);
  }, 20);
  const file = join(dir, 'rec.xdf');
  try {
    const r = await cli(['subscribe', ep!, '--duration', '1.2', '--interval', '0.4', '--record', file]);
    t.is(r.code, 0, r.err);
    const blocks = r.out.split('--- ').filter((b) => b.trim() !== '');
    t.true(blocks.length >= 3, r.out);
    const last = blocks[blocks.length - 1]!; // rows persist once seen, so the final block lists every topic
    // `clock` rows are per stream (clock.emg here): the topic's messages alternate between streams.
    for (const topic of TOPICS)
      t.regex(
        last,
        new RegExp(`^${(topic === 'clock' ? 'clock.emg' : topic).replace('.', '\\.')} +rig-a/sim +rate=\\d+\\.\\d/s total=\\d+ lost=0 \\| `, 'm'),
        topic,
      );
    t.regex(r.out, /emg\.raw +rig-a\/sim .*4ch x 16 @2000Hz uV block_seq=101/);
    t.regex(r.out, /event +rig-a\/sim .*warn estop: e-stop pressed/);
    const received = Number(/received=(\d+) lost=0 malformed=0\n(?![\s\S]*received=)/.exec(r.out)?.[1]);
    t.true(received > 0);
    // The recording is XDF (docs/recording.md): one sample per message, except blocks (one per sample, plus a companion row per block).
    const rec = readRecording(file);
    t.is(rec.truncatedBytes, 0);
    t.true(rec.streams.every((s) => s.meta.runtime === 'rig-a' && s.meta.endpoint === ep));
    let messages = 0;
    for (const s of rec.streams) if (s.meta.topic !== 'emg.raw' && s.meta.topic !== 'emg.features' && s.meta.topic !== 'tracker') messages += s.samples;
    for (const s of rec.streams) if (s.meta.companion_of !== undefined) messages += s.samples;
    t.is(messages, received);
    const raw = rec.streams.find((s) => s.meta.topic === 'emg.raw' && s.meta.companion_of === undefined)!;
    t.true(raw.data instanceof Float32Array && raw.samples > 0);
    t.true(readFileSync(file).length > 0);
  } finally {
    clearInterval(timer);
    await pub.close();
  }
  t.true(ticks > 0);
});

test('subscribe rejects unknown topics and half-given keys as usage errors', async (t) => {
  t.is((await cli(['subscribe', 'ipc:///tmp/none', '--topic', 'bogus'])).code, 2);
  t.is((await cli(['subscribe', 'ipc:///tmp/none', '--server-key', 'x'])).code, 2);
  t.is((await cli(['subscribe'])).code, 2);
});
