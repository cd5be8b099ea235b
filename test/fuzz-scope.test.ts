/**
 * Hostile clients of the scope's HTTP and WebSocket side: traversal paths, other methods, huge
 * headers and pages that send text or binary. Only the page's own assets are ever served, the
 * read-only page's messages change nothing but its view, and the server keeps serving.
 */
import test from 'ava';
import fc from 'fast-check';
import { once } from 'node:events';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { ScopeHttpServer } from '../src/scope/server.js';
import { ScopeHub } from '../src/scope/ws-hub.js';

const hub = new ScopeHub({ frameRate: 5 });
const server = new ScopeHttpServer(hub);
let url = '';
let port = 0;
test.before(async () => {
  url = await server.listen(0);
  port = Number(new URL(url).port);
});
test.after.always(async () => {
  hub.close();
  await server.close();
});

/** One raw request (no client-side path normalisation); resolves with the whole reply. */
const RESET = 'connection reset';

function raw(request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    // A server refusing a request it has not read to the end (431, a garbage line) closes with
    // its input unread, which the kernel turns into a reset: a refusal too, not a failure.
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(Buffer.concat(parts).toString('latin1') || RESET) : reject(err)));
    s.on('close', () => resolve(Buffer.concat(parts).toString('latin1')));
    s.end(request);
  });
}
const get = (path: string, method = 'GET'): Promise<string> => raw(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
const status = (reply: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);

test('traversal and odd paths never serve anything but the page assets', async (t) => {
  const paths = [
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '//etc/passwd',
    'http://127.0.0.1/../../etc/passwd',
    '/vendor/../../package.json',
    '/vendor/..%2f..%2fpackage.json',
    '/..\\..\\package.json',
    '/index.html%00.js',
    '*',
  ];
  for (const p of paths) {
    const r = await get(p);
    t.true([400, 404].includes(status(r)), `${p}: ${r.split('\r\n')[0]}`);
    t.false(r.includes('root:') || r.includes('"name": "reflex'), p);
  }
  await fc.assert(
    fc.asyncProperty(fc.webPath(), fc.string({ maxLength: 20 }), async (p, junk) => {
      const r = await get(('/' + p + junk).replace(/[\s]/g, ''));
      const s = status(r);
      return s === 404 || s === 400 || s === 200 || s === 204;
    }),
    { numRuns: 60 },
  );
  t.is(status(await get('/')), 200, 'still serving');
});

test('methods other than GET and HEAD are refused; huge headers and garbage do not stop the server', async (t) => {
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND']) t.is(status(await get('/', m)), 405, m);
  const big = await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
  t.true(status(big) === 431 || big === RESET, big.slice(0, 80));
  await raw(Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]));
  await raw('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
  t.is(status(await get('/', 'HEAD')), 200, 'still serving');
});

async function page(): Promise<{ ws: WebSocket; json: Record<string, unknown>[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const json: Record<string, unknown>[] = [];
  ws.on('message', (d: Buffer, bin) => {
    if (!bin) json.push(JSON.parse(d.toString()) as Record<string, unknown>);
  });
  await once(ws, 'open');
  return { ws, json };
}

test('a page sending text and binary garbage is ignored and counted; it still gets pongs', async (t) => {
  const { ws, json } = await page();
  const before = hub.stats().bad_messages;
  const msgs = fc.sample(
    fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .record({ type: fc.constantFrom('view', 'ping', 'set', 'model', '__proto__'), window_ms: fc.anything(), width: fc.anything(), t: fc.anything() })
        .map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 50 }).map((b) => Buffer.from(b)),
    ),
    300,
  );
  for (const m of msgs) ws.send(m);
  ws.send(JSON.stringify({ type: 'ping', t: 42 }));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pong')), 10_000);
    const check = (): void => {
      if (json.some((m) => m.type === 'pong' && m.t === 42)) {
        clearTimeout(timer);
        resolve();
      }
    };
    ws.on('message', check);
    check();
  });
  t.true(hub.stats().bad_messages > before);
  t.is(ws.readyState, ws.OPEN);
  ws.close();
});

test('a message past the size limit closes that page only', async (t) => {
  const { ws } = await page();
  const closed = once(ws, 'close');
  ws.send('x'.repeat(100_000));
  const [code] = (await closed) as [number];
  t.is(code, 1009);
  t.is(status(await get('/')), 200);
});

test('a page that floods pings and never reads gets its pongs dropped past the buffer limit', async (t) => {
  // A fake socket standing in for a peer that never reads: its send buffer is already full.
  const { EventEmitter } = await import('node:events');
  const sent: unknown[] = [];
  const fake = Object.assign(new EventEmitter(), {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 64 << 20,
    send: (m: unknown) => sent.push(m),
    close: () => {},
  });
  const h = new ScopeHub({ maxBufferedBytes: 1 << 20 });
  try {
    h.add(fake as unknown as WebSocket);
    const greeting = sent.length;
    for (let i = 0; i < 1000; i++) fake.emit('message', Buffer.from(JSON.stringify({ type: 'ping', t: i })), false);
    t.is(sent.length, greeting, 'no pong queued behind a full buffer');
    fake.bufferedAmount = 0;
    fake.emit('message', Buffer.from(JSON.stringify({ type: 'ping', t: 1 })), false);
    t.is(sent.length, greeting + 1);
  } finally {
    h.close();
  }
});
