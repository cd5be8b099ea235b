/**
 * The scope server against a live simulated board: the page's WebSocket gets binary frames
 * whose min/max buckets equal what the test computes from the same telemetry, JSON batches
 * of the small topics, its own view settings and clock pings; the HTTP side serves the page
 * and uPlot locally, read-only, and refuses foreign hosts and origins.
 */
import test from 'ava';
import { EventEmitter, once } from 'node:events';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { WebSocket } from 'ws';
import { main as scopeMain } from '../src/cli/commands/scope.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { decodeFrame, type DecodedFrame } from '../src/scope/frame.js';
import { Scope } from '../src/scope/scope.js';
import { ScopeHub } from '../src/scope/ws-hub.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { startScopeRuntime } from './scope-runtime.js';

let rt: Runtime;
let endpoint: string;

test.before(async () => {
  rt = await startScopeRuntime('scope-rt');
  endpoint = rt.telemetryEndpoints[0]!;
});

test.after.always(async () => {
  await rt?.stop();
});

type Json = Record<string, unknown>;

/** A page stand-in: collects what the server sends, lets the test wait for a condition. */
function page(url: string): { ws: WebSocket; frames: DecodedFrame[]; json: Json[]; until: (what: string, pred: () => boolean, ms?: number) => Promise<void> } {
  const ws = new WebSocket(url.replace('http', 'ws') + 'ws');
  const frames: DecodedFrame[] = [];
  const json: Json[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) frames.push(decodeFrame(data));
    else json.push(JSON.parse(data.toString()) as Json);
    for (const w of waiters) w();
  });
  const until = (what: string, pred: () => boolean, ms = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      if (pred()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, ms);
      const check = (): void => {
        if (!pred()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return { ws, frames, json, until };
}

const ofType = (json: Json[], type: string): Json[] => json.filter((m) => m.type === type);

test('a page gets hello, streams, min/max frames that match the telemetry, batches, its own view and pongs', async (t) => {
  t.timeout(60_000);
  const scope = await Scope.start({ endpoints: [endpoint], port: 0 });
  // The test's own subscription: the reference the frames are checked against.
  const ref = new TelemetryClient({ endpoints: [endpoint], topics: ['emg.raw'] });
  const blocks: Array<{ t0: number; period: number; samples: number; data: Float32Array }> = [];
  const refDone = (async () => {
    for await (const m of ref)
      if (m.topic === 'emg.raw') blocks.push({ t0: m.body.host_time_ms, period: m.body.host_period_ms, samples: m.body.samples, data: m.body.data });
  })();
  const p = page(scope.url);
  try {
    await p.until('hello and the raw stream', () => ofType(p.json, 'streams').some((m) => 'emg.raw' in (m.streams as Json)));
    const hello = ofType(p.json, 'hello')[0]!;
    t.is(hello.version, 1);
    t.is(hello.frame_rate, 30);
    const raw = (ofType(p.json, 'streams').at(-1)!.streams as Record<string, { channels: string[]; unit: string; rate: number }>)['emg.raw']!;
    t.deepEqual(raw.channels, ['ch1', 'ch2', 'ch3', 'ch4', 'ch5', 'ch6', 'ch7', 'ch8']);
    t.is(raw.unit, 'uV');
    t.is(raw.rate, 2000);

    // A view of its own: 2 s over 400 px is 5 ms buckets.
    p.ws.send(JSON.stringify({ type: 'view', window_ms: 2000, width: 400 }));
    await p.until('the view reply', () => ofType(p.json, 'view').length > 0);
    t.is(ofType(p.json, 'view')[0]!.bucket_ms, 5);
    const from = p.frames.length;
    const rawFrames = (): DecodedFrame[] => p.frames.slice(from).filter((f) => f.sections.some((s) => s.stream === 'emg.raw' && s.bucketMs === 5));
    await p.until('a second of 5 ms raw buckets', () => rawFrames().reduce((n, f) => n + f.sections.find((s) => s.stream === 'emg.raw')!.buckets, 0) >= 200);
    await p.until('batches with every small topic', () => {
      const b = ofType(p.json, 'batch');
      return ['prediction', 'loop', 'clock'].every((k) => b.some((m) => (m[k] as unknown[]).length > 0)) && b.some((m) => m.health !== undefined);
    });
    p.ws.send(JSON.stringify({ type: 'ping', t: 42 }));
    await p.until('a pong', () => ofType(p.json, 'pong').length > 0);
    t.is(ofType(p.json, 'pong')[0]!.t, 42);
    await p.until('a stats message naming the source', () => ofType(p.json, 'stats').some((m) => m.source === 'scope-rt/sim'));

    // Every 5 ms bucket the test's own subscription fully covers equals its min/max of the raw samples.
    const sections = rawFrames().map((f) => f.sections.find((s) => s.stream === 'emg.raw')!);
    const times = sections.flatMap((s) => Array.from(s.times));
    for (let k = 1; k < times.length; k++) t.true(times[k]! > times[k - 1]!, 'bucket times increase across frames');
    t.true(
      times.every((x) => Math.abs(x / 5 - Math.round(x / 5)) < 1e-6),
      'buckets sit on the 5 ms grid',
    );
    await ref.close();
    await refDone;
    t.is(ref.stats().lost, 0, 'the reference subscription saw every block');
    const first = blocks[0]!.t0;
    const lastBlock = blocks.at(-1)!;
    const last = lastBlock.t0 + (lastBlock.samples - 1) * lastBlock.period;
    let compared = 0;
    // The first bucket after the view change may have started mid-bucket: skip it. So are
    // buckets where the clock model stepped a block back in time (the decimator folds those
    // samples into its open bucket, documented behaviour that a reference by time alone misses).
    const skipped = new Set<number>([sections[0]!.times[0]!]);
    for (let i = 1; i < blocks.length; i++) {
      const prev = blocks[i - 1]!;
      if (blocks[i]!.t0 <= prev.t0 + (prev.samples - 1) * prev.period) {
        for (let j = 0; j < blocks[i]!.samples; j++) skipped.add(Math.floor((blocks[i]!.t0 + j * blocks[i]!.period) / 5) * 5);
      }
    }
    for (const s of sections) {
      for (let k = 0; k < s.buckets; k++) {
        const b0 = s.times[k]!;
        if (skipped.has(b0) || b0 < first || b0 + 5 > last) continue;
        const mn = new Array<number>(8).fill(Infinity);
        const mx = new Array<number>(8).fill(-Infinity);
        for (const blk of blocks) {
          for (let i = 0; i < blk.samples; i++) {
            if (Math.floor((blk.t0 + i * blk.period) / 5) * 5 !== b0) continue;
            for (let c = 0; c < 8; c++) {
              const v = blk.data[c * blk.samples + i]!;
              mn[c] = Math.min(mn[c]!, v);
              mx[c] = Math.max(mx[c]!, v);
            }
          }
        }
        for (let c = 0; c < 8; c++) {
          t.is(s.min[c * s.buckets + k], mn[c], `min of ch${c + 1} at ${b0}`);
          t.is(s.max[c * s.buckets + k], mx[c], `max of ch${c + 1} at ${b0}`);
        }
        compared++;
      }
    }
    t.true(compared >= 100, `compared ${compared} buckets`);

    const batch = ofType(p.json, 'batch');
    const pred = batch.flatMap((m) => m.prediction as Json[])[0]!;
    t.deepEqual(pred.names, ['wrist_angle', 'grip']);
    t.is((pred.values as number[]).length, 2);
    t.is((pred.tracker as unknown[]).length, 2);
    const health = batch.find((m) => m.health !== undefined)!.health as Json;
    t.is(typeof (health.counters as Json)['source.samples'], 'number');

    // Bad input from a page is counted, never acted on.
    p.ws.send(JSON.stringify({ type: 'view', window_ms: 1, width: 400 }));
    p.ws.send('not json');
    await p.until('stats counting the bad messages', () => ofType(p.json, 'stats').some((m) => m.bad_messages === 2), 5000);
    t.is(scope.stats().hub.bad_messages, 2);
  } finally {
    p.ws.close();
    await ref.close();
    await scope.close();
  }
});

function get(url: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.host ? { host: opts.host } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTP serves the page and uPlot from the package, read-only, and refuses foreign hosts and origins', async (t) => {
  const scope = await Scope.start({ endpoints: [endpoint], port: 0 });
  try {
    const index = await get(scope.url);
    t.is(index.status, 200);
    t.regex(index.body, /<script type="module" src="\/app.js">/);
    t.regex(String(index.headers['content-security-policy']), /default-src 'self'/);
    t.notRegex(index.body, /https?:\/\//, 'no asset from another host');
    for (const path of ['app.js', 'protocol.js', 'emg.js', 'panels.js', 'store.js', 'style.css', 'vendor/uPlot.esm.js', 'vendor/uPlot.min.css']) {
      const r = await get(scope.url + path);
      t.is(r.status, 200, path);
      t.notRegex(r.body, /from ['"]https?:|import\(['"]https?:/, `${path} loads nothing remote`);
    }
    t.is((await get(scope.url + '../package.json')).status, 404);
    t.is((await get(scope.url, { method: 'POST' })).status, 405);
    const port = new URL(scope.url).port;
    t.is((await get(scope.url, { host: `evil.example:${port}` })).status, 421, 'DNS rebinding: a foreign Host is refused');
    t.is((await get(scope.url, { host: `localhost:${port}` })).status, 200);
    const foreign = new WebSocket(scope.url.replace('http', 'ws') + 'ws', { origin: 'http://evil.example' });
    const [err] = (await once(foreign, 'error')) as [Error];
    t.regex(err.message, /403/);
    t.true(scope.stats().refused >= 2);
  } finally {
    await scope.close();
  }
});

test('non-loopback addresses need allowRemote; a taken port is E_BIND', async (t) => {
  await t.throwsAsync(Scope.start({ endpoints: [endpoint], host: '0.0.0.0', port: 0 }), { code: 'E_INSECURE_BIND', message: /EMG.*--allow-remote/s });
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    await t.throwsAsync(Scope.start({ endpoints: [endpoint], port }), { code: 'E_BIND', message: /--port/ });
  } finally {
    blocker.close();
  }
});

/** Enough of a ws socket for the hub: the test sets how much is still unsent. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<Buffer | string> = [];
  send(data: Buffer | string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
    this.emit('close');
  }
}

test('a page that cannot keep up gets frames dropped and counted, not queued', async (t) => {
  const hub = new ScopeHub({ maxBufferedBytes: 1000 });
  const sock = new FakeSocket();
  try {
    hub.add(sock as unknown as WebSocket);
    const info = { channels: ['a'], unit: 'uV', rate: 1000 };
    let tms = 0;
    const feed = (ms: number): void => {
      for (let i = 0; i < ms; i++, tms++) hub.block('emg.raw', info, Float32Array.of(tms), 1, tms, 1, tms);
    };
    const binary = (): Buffer[] => sock.sent.filter((d): d is Buffer => Buffer.isBuffer(d));
    const stats = (): Json[] =>
      sock.sent
        .filter((d): d is string => typeof d === 'string')
        .map((d) => JSON.parse(d) as Json)
        .filter((m) => m.type === 'stats');
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 40));
    feed(100);
    while (binary().length === 0) await tick();
    sock.bufferedAmount = 10_000; // the browser stopped reading
    const sentBefore = binary().length;
    for (let i = 0; i < 5; i++) {
      feed(100);
      await tick();
    }
    t.is(binary().length, sentBefore, 'nothing more was sent while behind');
    t.true(hub.stats().frames_dropped >= 3);
    sock.bufferedAmount = 0;
    feed(100);
    while (binary().length === sentBefore) await tick();
    // The frame after the drops carries only new buckets: nothing was held back for the slow page.
    const f = decodeFrame(binary().at(-1)!);
    t.true(f.sections[0]!.times[0]! >= 500);
    while (stats().length === 0) await tick();
    t.true((stats().at(-1)!.frames_dropped as number) >= 3);
  } finally {
    hub.close();
  }
});

function ctx(signal: AbortSignal): { ctx: { stdout: PassThrough; stderr: PassThrough; signal: AbortSignal }; out: () => string } {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  return { ctx: { stdout, stderr: new PassThrough(), signal }, out: () => Buffer.concat(chunks).toString() };
}

test('reflex scope: prints its URL, stops at --duration with a summary; bad flags are usage errors', async (t) => {
  const c = ctx(new AbortController().signal);
  const code = await scopeMain([endpoint, '--port', '0', '--duration', '0.5'], c.ctx);
  t.is(code, 0);
  t.regex(c.out(), /^reflex scope: http:\/\/127\.0\.0\.1:\d+\/ \(telemetry from tcp:/);
  t.regex(c.out(), /stopped; pages served 0/);
  await t.throwsAsync(scopeMain([endpoint, '--host', '0.0.0.0', '--port', '0'], c.ctx), { code: 'E_INSECURE_BIND' });
  await t.throwsAsync(scopeMain([endpoint, '--port', 'x'], c.ctx), { code: 'E_USAGE' });
  await t.throwsAsync(scopeMain([endpoint, '--server-key', 'k'], c.ctx), { code: 'E_USAGE', message: /--client-key-file/ });
});
