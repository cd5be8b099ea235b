/**
 * The pieces of a model deploy without a runtime: the content hash (the same as the shell
 * recipe docs/deploy.md gives), the store's atomic publish and reuse, and a session's refusal
 * of out-of-order, oversize and corrupt chunks.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReflexError } from '../src/core/errors.js';
import { deployArgCheckers } from '../src/deploy/deploy-protocol.js';
import { listModelFiles, modelHash } from '../src/deploy/model-hash.js';
import { ModelStore } from '../src/deploy/model-store.js';
import { defaultConfig } from '../src/runtime/config.js';
import { DeployService } from '../src/runtime/deploy-commands.js';
import { DeploySession } from '../src/runtime/deploy-session.js';
import type { ModelSwitch } from '../src/runtime/loop-setup.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-deploy-store-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
// A snapshot of the shipped model: models/default may be retrained while this file runs.
const defaultModel = join(tmp, 'default-model');
cpSync(defaultConfig('sim').model!, defaultModel, { recursive: true });

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

test('the content hash is the sha256sum recipe of docs/deploy.md, whatever order the files come in', async (t) => {
  const files = await listModelFiles(defaultModel);
  const names = files.map((f) => f.name);
  for (const n of ['model.json', 'reflex-model.json', 'weights.bin']) t.true(names.includes(n), n);
  t.deepEqual(names, [...names].sort(), 'canonical order: byte order of the names');
  const weights = files.find((f) => f.name === 'weights.bin')!;
  t.is(weights.sha256, sha(readFileSync(join(defaultModel, 'weights.bin'))));
  const shell = execFileSync('sh', ['-c', 'LC_ALL=C sha256sum $(LC_ALL=C ls) | sha256sum'], { cwd: defaultModel, encoding: 'utf8' }).split(' ')[0]!;
  t.is(modelHash(files), shell);
  t.is(modelHash([...files].reverse()), shell);
  // One byte of one file changes the model's name.
  const other = join(tmp, 'hash-other');
  cpSync(defaultModel, other, { recursive: true });
  writeFileSync(join(other, 'reflex-model.json'), readFileSync(join(other, 'reflex-model.json'), 'utf8') + ' ');
  t.not(modelHash(await listModelFiles(other)), shell);
});

test('a directory deploy cannot carry is refused naming the entry', async (t) => {
  const d = join(tmp, 'nested');
  cpSync(defaultModel, d, { recursive: true });
  mkdirSync(join(d, 'sub'));
  const e1 = await t.throwsAsync<ReflexError>(listModelFiles(d));
  t.is(e1.code, 'E_MODEL_FORMAT');
  t.true(e1.message.includes(join(d, 'sub')));
  rmSync(join(d, 'sub'), { recursive: true });
  symlinkSync('/etc/passwd', join(d, 'link'));
  t.is((await t.throwsAsync<ReflexError>(listModelFiles(d))).code, 'E_MODEL_FORMAT');
  t.is((await t.throwsAsync<ReflexError>(listModelFiles(join(tmp, 'absent')))).code, 'E_MODEL_MISSING');
});

test('the argument checks refuse paths, bad hashes and oversize chunks before any handler', (t) => {
  const file = { name: 'model.json', size: 3, sha256: sha('abc') };
  t.is(deployArgCheckers.begin({ files: [file], hash: sha('x') }), undefined);
  t.regex(deployArgCheckers.begin({ files: [{ ...file, name: '../etc/passwd' }], hash: sha('x') })!, /plain file name/);
  t.regex(deployArgCheckers.begin({ files: [{ ...file, name: '.hidden' }], hash: sha('x') })!, /plain file name/);
  t.regex(deployArgCheckers.begin({ files: [file, file], hash: sha('x') })!, /twice/);
  t.regex(deployArgCheckers.begin({ files: [{ ...file, sha256: 'ABC' }], hash: sha('x') })!, /sha256/);
  t.regex(deployArgCheckers.begin({ files: [{ ...file, size: -1 }], hash: sha('x') })!, /size/);
  t.regex(deployArgCheckers.begin({ files: [], hash: sha('x') })!, /1\.\.32/);
  t.regex(deployArgCheckers.begin({ files: [file] })!, /missing arguments: hash/);
  const id = '0123456789abcdef';
  t.is(deployArgCheckers.chunk({ id, file: 'model.json', offset: 0, data: 'YWJj' }), undefined);
  t.regex(deployArgCheckers.chunk({ id, file: 'model.json', offset: 0, data: 'YWJ' })!, /base64/);
  t.regex(deployArgCheckers.chunk({ id, file: 'model.json', offset: 0, data: 'A'.repeat(43_696) })!, /base64/);
  t.regex(deployArgCheckers.chunk({ id: 'x', file: 'model.json', offset: 0, data: 'YWJj' })!, /16-hex-digit/);
  t.regex(deployArgCheckers.chunk({ id, file: 'model.json', offset: 1.5, data: 'YWJj' })!, /offset/);
  t.regex(deployArgCheckers.id({ id, extra: 1 })!, /unknown arguments: extra/);
});

test('the store publishes a staged model with one rename, reuses an intact copy and replaces a damaged one', async (t) => {
  const store = new ModelStore(join(tmp, 'store'));
  const files = await listModelFiles(defaultModel);
  const hash = modelHash(files);
  const stage = async (id: string): Promise<string> => {
    const dir = await store.stage(id);
    cpSync(defaultModel, dir, { recursive: true });
    return dir;
  };
  const first = await store.publish(await stage('a'), hash);
  t.deepEqual(first, { dir: join(store.root, hash), reused: false });
  t.deepEqual(await store.check(hash), { intact: true });
  const second = await store.publish(await stage('b'), hash);
  t.true(second.reused);
  t.deepEqual(readdirSync(join(store.root, '.staging')), [], 'the staged copy of a reused model is removed');
  writeFileSync(join(first.dir, 'weights.bin'), 'damaged');
  t.false((await store.check(hash)).intact);
  const third = await store.publish(await stage('c'), hash);
  t.false(third.reused);
  t.deepEqual(await store.check(hash), { intact: true });
  // Leftovers of a crash are removed when a store is opened again.
  mkdirSync(join(store.root, '.staging', 'crashed'));
  await new ModelStore(store.root).open();
  t.deepEqual(readdirSync(join(store.root, '.staging')), []);
});

test('a session takes chunks in order only, refuses bytes past a file and a corrupt file, and names what is missing', async (t) => {
  const dir = join(tmp, 'session');
  mkdirSync(dir);
  const a = Buffer.from('hello world');
  const s = await DeploySession.create('0123456789abcdef', sha('x'), dir, [
    { name: 'a.bin', size: a.length, sha256: sha(a) },
    { name: 'b.bin', size: 4, sha256: sha('good') },
    { name: 'empty', size: 0, sha256: sha('') },
  ]);
  t.deepEqual(s.chunk('a.bin', 0, a.subarray(0, 5)), { received: 5, total: 5 });
  const off = t.throws<ReflexError>(() => s.chunk('a.bin', 0, a.subarray(0, 5)));
  t.is(off.code, 'E_DEPLOY_OFFSET');
  t.regex(off.message, /expected byte 5/);
  t.is(t.throws<ReflexError>(() => s.chunk('a.bin', 5, Buffer.alloc(7))).code, 'E_DEPLOY_SIZE');
  t.is(t.throws<ReflexError>(() => s.chunk('c.bin', 0, a)).code, 'E_DEPLOY_UNKNOWN');
  t.deepEqual(s.chunk('a.bin', 5, a.subarray(5)), { received: 11, total: 11 });
  const missing = await t.throwsAsync<ReflexError>(s.finish());
  t.is(missing.code, 'E_DEPLOY_INCOMPLETE');
  t.regex(missing.message, /b\.bin \(4 of 4 bytes missing\)/);
  t.is(t.throws<ReflexError>(() => s.chunk('b.bin', 0, Buffer.from('evil'))).code, 'E_DEPLOY_HASH');
  await s.close();
  t.deepEqual(readFileSync(join(dir, 'a.bin')), a, 'accepted bytes were written in place');
  t.true(existsSync(join(dir, 'empty')));
});

test('a commit that outlasts its wait answers "verifying", and deploy.status follows it to the end or the refusal', async (t) => {
  const store = join(tmp, 'svc-store');
  const events: string[] = [];
  let finish!: (ok: boolean) => void;
  const switched: string[] = [];
  const svc = new DeployService(
    {
      // The runtime's swap, held until the test lets it end (the service does not care how long it takes).
      switchModel: (dir) =>
        new Promise((resolve, reject) => {
          finish = (ok) => {
            if (!ok) return reject(new ReflexError('E_SWAP_NON_FINITE', 'the new model gave NaN'));
            switched.push(dir);
            resolve({ loop: { safe: true } as ModelSwitch['loop'], cycle: 42, marginMs: 3 });
          };
        }),
      event: (_k, _l, message) => events.push(message),
    },
    { store, commitWaitMs: 20, idleTimeoutMs: 10_000 },
  );
  const files = await listModelFiles(defaultModel);
  const send = async (): Promise<string> => {
    const b = await svc.begin({ files, hash: modelHash(files) });
    if (!b.stored)
      for (const f of files) {
        const bytes = readFileSync(join(defaultModel, f.name));
        for (let off = 0; off < bytes.length; off += b.chunk_bytes)
          await svc.chunk({ id: b.id, file: f.name, offset: off, data: bytes.subarray(off, off + b.chunk_bytes).toString('base64') });
      }
    return b.id;
  };
  const id = await send();
  const first = await svc.commit({ id });
  t.is(first.state, 'verifying');
  t.is(svc.status({ id }).state, 'verifying');
  const busy = await t.throwsAsync<ReflexError>(svc.begin({ files, hash: modelHash(files) }));
  t.is(busy.code, 'E_DEPLOY_BUSY', 'one deploy at a time, verification included');
  finish(true);
  await svc.close();
  const done = svc.status({ id });
  t.like(done, { state: 'done', dir: join(store, modelHash(files)), reused: false, swapped_at_cycle: 42, safe: true });
  t.deepEqual(switched, [join(store, modelHash(files))]);

  // Refused after "verifying": the refusal is what status answers, and the model leaves the store.
  rmSync(join(store, modelHash(files)), { recursive: true });
  const svc2 = new DeployService({ switchModel: (dir) => svcSwitch(dir), event: (_k, _l, m) => events.push(m) }, { store, commitWaitMs: 20 });
  let reject!: () => void;
  const svcSwitch = (_dir: string): Promise<ModelSwitch> => new Promise((_res, rej) => (reject = () => rej(new ReflexError('E_SWAP_NON_FINITE', 'NaN out'))));
  const b = await svc2.begin({ files, hash: modelHash(files) });
  for (const f of files) await svc2.chunk({ id: b.id, file: f.name, offset: 0, data: readFileSync(join(defaultModel, f.name)).toString('base64') });
  t.is((await svc2.commit({ id: b.id })).state, 'verifying');
  reject();
  await svc2.close();
  t.is(t.throws<ReflexError>(() => svc2.status({ id: b.id })).code, 'E_SWAP_NON_FINITE');
  t.false(existsSync(join(store, modelHash(files))), 'a refused model does not stay in the store');
  t.true(events.some((m) => /refused \(E_SWAP_NON_FINITE\).*keeps running/.test(m)));

  // A deploy in progress when the runtime stops leaves nothing.
  const svc3 = new DeployService({ switchModel: () => Promise.reject(new Error('unused')), event: () => {} }, { store });
  const b3 = await svc3.begin({ files, hash: modelHash(files) });
  await svc3.chunk({ id: b3.id, file: 'model.json', offset: 0, data: 'AAAA' });
  t.deepEqual(readdirSync(join(store, '.staging')), [b3.id]);
  await svc3.close();
  t.deepEqual(readdirSync(join(store, '.staging')), []);
});
