import test from 'ava';
import { Dealer, Request } from 'zeromq';
import { ReflexError } from '../src/core/errors.js';
import { nullLogger } from '../src/core/log.js';
import { createDecoder, createEncoder } from '../src/telemetry/codec.js';
import { ControlClient, ControlReplyError } from '../src/telemetry/control-client.js';
import { ControlServer } from '../src/telemetry/control-server.js';
import { bindEndpoint, PROTOS } from './telemetry-helpers.js';

const enc = createEncoder();
const dec = createDecoder();

function makeServer(endpoint: string, opts: { handlerTimeoutMs?: number } = {}): { srv: ControlServer; calls: Array<[string, unknown]> } {
  const srv = new ControlServer({ endpoints: [endpoint], logger: nullLogger(), ...opts });
  const calls: Array<[string, unknown]> = [];
  const rec = (cmd: string) => (args: unknown) => {
    calls.push([cmd, args]);
    return { cmd };
  };
  srv.handle('start', rec('start')).handle('stop', rec('stop')).handle('release', rec('release')).handle('status', rec('status'));
  srv.handle('set', (args) => {
    calls.push(['set', args]);
    return { path: args.path, value: args.value };
  });
  srv.handle('model', (args) => {
    calls.push(['model', args]);
    if (args.dir === '/missing') throw new ReflexError('E_MODEL_MISSING', `no model in ${args.dir}`);
    if (args.dir === '/boom') throw new Error('disk on fire');
    return { loaded: args.dir };
  });
  srv.handle('estop', (args) => {
    calls.push(['estop', args]);
    return { latched: true, reason: args.reason ?? null };
  });
  return { srv, calls };
}

for (const proto of PROTOS) {
  test(`every command round-trips over ${proto}, errors included`, async (t) => {
    const { srv, calls } = makeServer(bindEndpoint(proto));
    const [ep] = await srv.start();
    const client = new ControlClient({ endpoint: ep!, timeoutMs: 5000 });
    try {
      t.deepEqual(await client.request('start'), { cmd: 'start' });
      t.deepEqual(await client.request('set', { path: 'filters.emg.highpass_hz', value: 20.5 }), { path: 'filters.emg.highpass_hz', value: 20.5 });
      t.deepEqual(await client.request('set', { path: 'gains.wrist', value: true }), { path: 'gains.wrist', value: true });
      t.deepEqual(await client.request('model', { dir: 'models/wrist-v3' }), { loaded: 'models/wrist-v3' });
      t.deepEqual(await client.request('estop', { reason: 'test' }), { latched: true, reason: 'test' });
      t.deepEqual(await client.request('release'), { cmd: 'release' });
      t.deepEqual(await client.request('status'), { cmd: 'status' });
      t.deepEqual(await client.request('stop'), { cmd: 'stop' });
      const coded = await t.throwsAsync(client.request('model', { dir: '/missing' }));
      t.true(coded instanceof ControlReplyError);
      t.is((coded as ControlReplyError).code, 'E_MODEL_MISSING');
      t.is((await t.throwsAsync<ControlReplyError>(client.request('model', { dir: '/boom' }))).code, 'E_HANDLER');
      const unknown = await client.send('selfdestruct', {});
      t.deepEqual(unknown.ok ? undefined : unknown.error.code, 'E_UNKNOWN_CMD');
      const bad = [
        await client.send('set', { path: 'gains.wrist' } as never),
        await client.send('set', { path: '../etc', value: 1 }),
        await client.send('set', { path: 'a', value: 1, extra: 2 } as never),
        await client.send('start', { now: true } as never),
        await client.send('model', { dir: '' }),
        await client.send('estop', { reason: 5 } as never),
      ];
      t.deepEqual(
        bad.map((r) => (r.ok ? 'ok' : r.error.code)),
        Array(6).fill('E_BAD_ARGS'),
      );
      t.deepEqual(
        calls.map(([c]) => c),
        ['start', 'set', 'set', 'model', 'estop', 'release', 'status', 'stop', 'model', 'model'],
      );
    } finally {
      await client.close();
      await srv.close();
    }
  });
}

test('a slow handler gets exactly one reply: E_TIMEOUT, and nothing when it finishes later', async (t) => {
  const srv = new ControlServer({ endpoints: [bindEndpoint('ipc')], handlerTimeoutMs: 100, logger: nullLogger() });
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  srv.handle('model', async () => {
    await gate;
    finish();
    return 'late';
  });
  srv.handle('status', () => 'fine');
  const [ep] = await srv.start();
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(ep!);
  try {
    await dealer.send(enc.encode({ id: 1, cmd: 'model', args: { dir: 'x' } }));
    const [r1] = await dealer.receive();
    t.like(dec.decode(r1!), { id: 1, ok: false, error: { code: 'E_TIMEOUT' } });
    release();
    await finished;
    await dealer.send(enc.encode({ id: 2, cmd: 'status' }));
    const [r2] = await dealer.receive();
    // Had the late result produced a reply it would have arrived first.
    t.deepEqual(dec.decode(r2!), { id: 2, ok: true, result: 'fine' });
  } finally {
    dealer.close();
    await srv.close();
  }
});

test('non-CBOR and wrongly framed requests get an error reply; REQ envelopes work', async (t) => {
  const { srv, calls } = makeServer(bindEndpoint('ipc'));
  const [ep] = await srv.start();
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(ep!);
  const req = new Request({ linger: 0 });
  req.connect(ep!);
  try {
    await dealer.send(Buffer.from([0xff, 0xfe, 0x00]));
    t.like(dec.decode((await dealer.receive())[0]!), { id: null, ok: false, error: { code: 'E_MALFORMED' } });
    await dealer.send([Buffer.from('a'), Buffer.from('b')]);
    t.like(dec.decode((await dealer.receive())[0]!), { id: null, ok: false, error: { code: 'E_MALFORMED' } });
    await dealer.send(enc.encode(['status']));
    t.like(dec.decode((await dealer.receive())[0]!), { id: null, ok: false, error: { code: 'E_BAD_REQUEST' } });
    // A tag (here a date) is not plain CBOR: refused while decoding, so the id is never read.
    await dealer.send(enc.encode({ id: 'x', cmd: 'status', args: { when: new Date(0) } }));
    t.like(dec.decode((await dealer.receive())[0]!), { id: null, ok: false, error: { code: 'E_MALFORMED' } });
    await dealer.send(enc.encode({ id: 'y', cmd: 'status', args: { when: 'now', list: [{ deep: ['x'] }] } }));
    t.like(dec.decode((await dealer.receive())[0]!), { id: 'y', ok: false, error: { code: 'E_BAD_ARGS' } });
    await req.send(enc.encode({ id: 'via-req', cmd: 'status' }));
    t.deepEqual(dec.decode((await req.receive())[0]!), { id: 'via-req', ok: true, result: { cmd: 'status' } });
    t.deepEqual(
      calls.map(([c]) => c),
      ['status'],
    );
  } finally {
    dealer.close();
    req.close();
    await srv.close();
  }
});

test('an oversize request is cut off by the socket: no reply, no handler call, server keeps serving', async (t) => {
  const { srv, calls } = makeServer(bindEndpoint('tcp'));
  const [ep] = await srv.start();
  const big = new Dealer({ linger: 0 });
  const disconnected = new Promise<void>((resolve) => big.events.on('disconnect', () => resolve()));
  big.connect(ep!);
  const client = new ControlClient({ endpoint: ep!, timeoutMs: 5000 });
  try {
    await big.send(enc.encode({ id: 1, cmd: 'set', args: { path: 'a', value: 'x'.repeat(70 * 1024) } }));
    await disconnected;
    t.deepEqual(await client.request('status'), { cmd: 'status' });
    t.deepEqual(
      calls.map(([c]) => c),
      ['status'],
    );
    t.is(srv.counters.get('requests'), 1);
  } finally {
    big.close();
    await client.close();
    await srv.close();
  }
});

test('request timeouts and closed clients reject with codes', async (t) => {
  const { srv } = makeServer(bindEndpoint('ipc'));
  const [ep] = await srv.start();
  await srv.close();
  const client = new ControlClient({ endpoint: ep!, timeoutMs: 200 });
  const err = await t.throwsAsync(client.request('status'));
  t.is((err as ReflexError).code, 'E_TIMEOUT');
  await client.close();
  t.is((await t.throwsAsync<ReflexError>(client.request('status'))).code, 'E_CLOSED');
});
