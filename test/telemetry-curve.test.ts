import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ConfigError, type ReflexError } from '../src/core/errors.js';
import { nullLogger } from '../src/core/log.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { ControlServer } from '../src/telemetry/control-server.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { generateKeyPair } from '../src/telemetry/keys.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { isLoopbackEndpoint } from '../src/telemetry/security.js';
import type { ZapDecision } from '../src/telemetry/zap.js';
import { isCurveKey, z85Decode, z85Encode } from '../src/telemetry/z85.js';
import { bindEndpoint, collect, PROTOS, sampleBodies } from './telemetry-helpers.js';

const server = generateKeyPair();
const allowed = generateKeyPair();
const denied = generateKeyPair();

/** Resolves on the first ZAP decision matching `pred`. */
function decisionWaiter(pred: (d: ZapDecision) => boolean): { onAuth: (d: ZapDecision) => void; seen: Promise<ZapDecision> } {
  let resolve!: (d: ZapDecision) => void;
  const seen = new Promise<ZapDecision>((r) => (resolve = r));
  return { onAuth: (d) => pred(d) && resolve(d), seen };
}

test('z85 matches the RFC 32 test vector and round-trips keys', (t) => {
  const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
  t.is(z85Encode(bytes), 'HelloWorld');
  t.deepEqual(z85Decode('HelloWorld'), bytes);
  const raw = randomBytes(32);
  t.true(Buffer.from(z85Decode(z85Encode(raw))!).equals(raw));
  t.true(isCurveKey(server.publicKey));
  t.false(isCurveKey('not a key'));
  t.is(z85Decode('Hell~World'), undefined);
});

test('plaintext binds only on loopback unless insecure is explicit', async (t) => {
  for (const ep of ['ipc:///tmp/x', 'inproc://x', 'tcp://127.0.0.1:5560', 'tcp://127.1.2.3:*', 'tcp://[::1]:5560', 'tcp://localhost:1'])
    t.true(isLoopbackEndpoint(ep), ep);
  for (const ep of ['tcp://*:5560', 'tcp://0.0.0.0:5560', 'tcp://192.168.1.4:1', 'tcp://eth0:1', 'tcp://[::]:1', 'udp://127.0.0.1:1'])
    t.false(isLoopbackEndpoint(ep), ep);
  const pub = new TelemetryPublisher({ endpoints: ['tcp://0.0.0.0:*'], runtimeId: 'rig', boardId: 'sim' });
  const err = await t.throwsAsync(pub.start());
  t.true(err instanceof ConfigError);
  t.is((err as ConfigError).code, 'E_INSECURE_BIND');
  const ctl = new ControlServer({ endpoints: ['tcp://*:*'] });
  t.is((await t.throwsAsync<ConfigError>(ctl.start())).code, 'E_INSECURE_BIND');
  const open = new TelemetryPublisher({ endpoints: ['tcp://0.0.0.0:*'], runtimeId: 'rig', boardId: 'sim', insecure: true });
  t.is((await open.start()).length, 1);
  await open.close();
  const bad = new TelemetryPublisher({ endpoints: ['tcp://0.0.0.0:*'], runtimeId: 'rig', boardId: 'sim', curve: { ...server, allow: ['short'] } });
  t.is((await t.throwsAsync<ConfigError>(bad.start())).code, 'E_BAD_KEY');
});

for (const proto of PROTOS) {
  test(`CURVE telemetry over ${proto}: an allowed key receives, a refused key receives nothing`, async (t) => {
    const refusal = decisionWaiter((d) => !d.allowed && d.publicKey === denied.publicKey);
    const pub = new TelemetryPublisher({
      endpoints: [bindEndpoint(proto)],
      runtimeId: 'rig-a',
      boardId: 'sim',
      curve: { ...server, allow: [allowed.publicKey] },
      onAuth: refusal.onAuth,
      logger: nullLogger(),
    });
    const [ep] = await pub.start();
    const good = new TelemetryClient({ endpoints: [{ endpoint: ep!, serverKey: server.publicKey }], keyPair: allowed });
    let resolveAuth!: (detail: string) => void;
    const authFailed = new Promise<string>((resolve) => (resolveAuth = resolve));
    const badClient = new TelemetryClient({
      endpoints: [{ endpoint: ep!, serverKey: server.publicKey }],
      keyPair: denied,
      onAuthFailure: (_e, detail) => resolveAuth(detail),
      logger: nullLogger(),
    });
    try {
      await pub.waitForSubscription('');
      await refusal.seen;
      t.regex(await authFailed, /refused \(ZAP 400\)/);
      const bodies = sampleBodies();
      for (let i = 0; i < 5; i++) pub.publish('event', bodies.event);
      const got = await collect(good, (m) => m.length === 5);
      t.is(got.length, 5);
      // The refused peer never completed a handshake, so the publisher never had its subscription.
      t.deepEqual(pub.subscriptions(), { '': 1 });
      t.is(badClient.stats().received, 0);
      t.true((pub.authStats().denied ?? 0) >= 1);
      t.is(pub.authStats().allowed, 1);
    } finally {
      await good.close();
      await badClient.close();
      await pub.close();
    }
  });
}

test('CURVE control: an allowed key can command, a refused key cannot reach any handler', async (t) => {
  const srv = new ControlServer({ endpoints: [bindEndpoint('tcp')], curve: { ...server, allow: [allowed.publicKey] }, logger: nullLogger() });
  const calls: string[] = [];
  srv.handle('status', () => {
    calls.push('status');
    return { state: 'running' };
  });
  srv.handle('estop', (args) => {
    calls.push(`estop:${args.reason ?? ''}`);
    return { latched: true };
  });
  const [ep] = await srv.start();
  const good = new ControlClient({ endpoint: ep!, serverKey: server.publicKey, keyPair: allowed, timeoutMs: 5000 });
  const bad = new ControlClient({ endpoint: ep!, serverKey: server.publicKey, keyPair: denied, timeoutMs: 5000 });
  const wrongServerKey = new ControlClient({ endpoint: ep!, serverKey: denied.publicKey, keyPair: allowed, timeoutMs: 800 });
  try {
    t.deepEqual(await good.request('status'), { state: 'running' });
    const refused = await t.throwsAsync(bad.request('estop', { reason: 'intruder' }));
    t.is((refused as ReflexError).code, 'E_AUTH', refused.message);
    // libzmq gives up on a refused client; later requests fail at once with the reason.
    t.is((await t.throwsAsync<ReflexError>(bad.request('status'))).code, 'E_AUTH');
    const mismatch = await t.throwsAsync(wrongServerKey.request('estop', { reason: 'wrong key' }));
    t.true(['E_AUTH', 'E_TIMEOUT'].includes((mismatch as ReflexError).code), mismatch.message);
    t.deepEqual(calls, ['status']);
  } finally {
    await good.close();
    await bad.close();
    await wrongServerKey.close();
    await srv.close();
  }
});
