/**
 * The Python deploy client (examples/python/deploy_model.py, pyzmq + cbor2, written from
 * docs/deploy.md and docs/telemetry.md alone) against a live `reflex run --board sim`: a model
 * deploys and runs from the store under its content hash; a truncated weights file is refused
 * with its code and the old model keeps running; CURVE keys from `reflex keygen` files work.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../src/telemetry/control-client.js';
import { generateKeyPair, writeKeyPair, type KeyPair } from '../src/telemetry/keys.js';

const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../examples/python/deploy_model.py', import.meta.url));
const REFLEX_NODE = fileURLToPath(new URL('../bin/reflex-node', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const DEFAULT_MODEL = fileURLToPath(new URL('../models/default', import.meta.url));

interface Exit {
  code: number | null;
  out: string;
  err: string;
}

function spawnCollect(
  cmd: string,
  args: string[],
): { child: ReturnType<typeof spawn>; exited: Promise<Exit>; stderr: () => string; onStderr: (f: () => void) => void } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const l of listeners) l();
  });
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, out, err }));
  return { child, exited, stderr: () => err, onStderr: (f) => listeners.add(f) };
}

/** `reflex run --board sim` with a tmp model store; resolves once it runs the model, with its control endpoint. */
async function startRuntime(dir: string, extra: string[]): Promise<{ endpoint: string; store: string; stop: () => Promise<Exit> }> {
  const store = join(dir, 'store');
  const config = join(dir, 'run.json');
  writeFileSync(config, JSON.stringify({ deploy: { store } }));
  const p = spawnCollect(REFLEX_NODE, [
    '--import',
    'tsx',
    MAIN,
    'run',
    '--board',
    'sim',
    '--config',
    config,
    '--pub',
    'tcp://127.0.0.1:*',
    '--control',
    'tcp://127.0.0.1:*',
    '--quiet',
    ...extra,
  ]);
  const stop = async (): Promise<Exit> => {
    if (p.child.exitCode === null) p.child.kill('SIGTERM');
    return p.exited;
  };
  // The endpoint `*` was bound to, and the model running: both are log lines the runtime writes.
  const ready = new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /control on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(p.stderr());
      if (m && /running board sim with model/.test(p.stderr())) resolve(m[1]!);
    };
    p.onStderr(check);
    void p.exited.then((r) => reject(new Error(`reflex run exited (${r.code}) before it ran:\n${r.err}`)));
  });
  const timer = setTimeout(() => p.child.kill('SIGTERM'), 60_000);
  try {
    const endpoint = await ready;
    return { endpoint, store, stop };
  } finally {
    clearTimeout(timer);
  }
}

function tmp(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-deploy-py-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The content hash as docs/deploy.md defines it, computed here independently of both sides. */
function contentHash(dir: string): string {
  const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const manifest = names
    .map(
      (n) =>
        `${createHash('sha256')
          .update(readFileSync(join(dir, n)))
          .digest('hex')}  ${n}\n`,
    )
    .join('');
  return createHash('sha256').update(manifest).digest('hex');
}

async function status(endpoint: string, curve?: { serverKey: string; keyPair: KeyPair }): Promise<{ model: string; state: string }> {
  const ctl = new ControlClient({ endpoint, timeoutMs: 10_000, ...curve });
  try {
    return (await ctl.request('status')) as { model: string; state: string };
  } finally {
    await ctl.close();
  }
}

function lastJson(out: string): Record<string, unknown> {
  const line = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

test('a model deploys from Python and runs from the store; a truncated one is refused and the old one keeps running', async (t) => {
  t.timeout(60_000);
  const dir = tmp(t);
  const good = join(dir, 'good');
  cpSync(DEFAULT_MODEL, good, { recursive: true });
  writeFileSync(join(good, 'report.json'), JSON.stringify({ note: 'a copy of models/default with a report' }));
  const bad = join(dir, 'bad');
  cpSync(DEFAULT_MODEL, bad, { recursive: true });
  truncateSync(join(bad, 'weights.bin'), readFileSync(join(bad, 'weights.bin')).length - 100);

  const rt = await startRuntime(dir, []);
  try {
    const ok = await spawnCollect(PY, [SCRIPT, good, rt.endpoint]).exited;
    t.is(ok.code, 0, ok.err + ok.out);
    const r = lastJson(ok.out);
    const hash = contentHash(good);
    t.like(r, { ok: true, state: 'done', hash, dir: join(rt.store, hash), reused: false });
    t.deepEqual(r.files, ['model.json', 'reflex-model.json', 'report.json', 'weights.bin']);
    t.regex(ok.err, /sent \d+\/\d+ bytes/, 'progress on stderr');
    t.is((await status(rt.endpoint)).model, join(rt.store, hash), 'status names the new model');

    const refused = await spawnCollect(PY, [SCRIPT, bad, rt.endpoint, '--quiet']).exited;
    t.is(refused.code, 1, refused.err + refused.out);
    t.like(lastJson(refused.out), { ok: false, code: 'E_MODEL_WEIGHTS' });
    const s = await status(rt.endpoint);
    t.is(s.model, join(rt.store, hash), 'the deployed model still runs');
    t.is(s.state, 'running');
    t.false(existsSync(join(rt.store, contentHash(bad))), 'nothing of the refused model stays');
    t.deepEqual(readdirSync(join(rt.store, '.staging')), []);

    // The same model again: the store holds it, nothing is sent.
    const again = await spawnCollect(PY, [SCRIPT, good, rt.endpoint, '--quiet']).exited;
    t.is(again.code, 0, again.err + again.out);
    t.like(lastJson(again.out), { state: 'done', hash, sentBytes: 0 });

    // docs/deploy.md: an E_DEPLOY_OFFSET message ends with "resend from byte N", which the client parses.
    const ctl = new ControlClient({ endpoint: rt.endpoint, timeoutMs: 10_000 });
    try {
      const body = Buffer.from('{}');
      const meta = readFileSync(join(DEFAULT_MODEL, 'reflex-model.json'));
      const files = [
        { name: 'model.json', size: body.length, sha256: createHash('sha256').update(body).digest('hex') },
        { name: 'reflex-model.json', size: meta.length, sha256: createHash('sha256').update(meta).digest('hex') },
      ];
      const manifest = files.map((f) => `${f.sha256}  ${f.name}\n`).join('');
      const begun = await ctl.send('deploy.begin', { files, hash: createHash('sha256').update(manifest).digest('hex') });
      if (!begun.ok) return t.fail(JSON.stringify(begun));
      const id = (begun.result as { id: string }).id;
      const wrong = await ctl.send('deploy.chunk', { id, file: 'model.json', offset: 1, data: body.subarray(1).toString('base64') });
      t.like(wrong, { ok: false, error: { code: 'E_DEPLOY_OFFSET' } });
      t.regex(wrong.ok ? '' : wrong.error.message, /resend from byte 0$/);
      t.like(await ctl.send('deploy.abort', { id }), { ok: true, result: { aborted: id } });
    } finally {
      await ctl.close();
    }

    // Not a model directory: refused locally with exit 2.
    rmSync(join(bad, 'reflex-model.json'));
    const local = await spawnCollect(PY, [SCRIPT, bad, rt.endpoint]).exited;
    t.is(local.code, 2);
    t.regex(local.err, /reflex-model\.json/);
  } finally {
    const r = await rt.stop();
    t.is(r.code, 0, r.err);
  }
});

test('the Python deploy client uses CURVE keys from `reflex keygen` files', async (t) => {
  t.timeout(60_000);
  const dir = tmp(t);
  const keys = join(dir, 'keys');
  const ws = join(dir, 'ws');
  const server = generateKeyPair();
  const client = generateKeyPair();
  mkdirSync(join(keys, 'clients'), { recursive: true, mode: 0o700 });
  mkdirSync(ws, { mode: 0o700 });
  writeKeyPair(keys, 'server', server);
  writeKeyPair(ws, 'ws', client);
  copyFileSync(join(ws, 'ws.pub'), join(keys, 'clients', 'ws.pub'));
  const rt = await startRuntime(dir, ['--keys', keys]);
  try {
    const r = await spawnCollect(PY, [
      SCRIPT,
      DEFAULT_MODEL,
      rt.endpoint,
      '--server-key',
      join(keys, 'server.pub'),
      '--client-key-file',
      join(ws, 'ws.key'),
      '--quiet',
    ]).exited;
    t.is(r.code, 0, r.err + r.out);
    const hash = contentHash(DEFAULT_MODEL);
    t.like(lastJson(r.out), { ok: true, state: 'done', hash });
    t.is((await status(rt.endpoint, { serverKey: server.publicKey, keyPair: client })).model, join(rt.store, hash));
  } finally {
    await rt.stop();
  }
});
