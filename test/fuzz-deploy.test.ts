/**
 * Hostile deploy requests against the DeployService directly (as the control server's handlers
 * call it): bad names, sizes, offsets, base64 and hashes are refused with their codes, nothing
 * is written outside the store's staging directory, and the running model is never switched.
 */
import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReflexError } from '../src/core/errors.js';
import type { DeployBeginArgs, DeployChunkArgs } from '../src/deploy/deploy-protocol.js';
import { modelHash, type DeployFile } from '../src/deploy/model-hash.js';
import { DeployService } from '../src/runtime/deploy-commands.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-fuzz-deploy-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const sha = (b: string): string => createHash('sha256').update(b).digest('hex');

const REFUSALS = new Set([
  'E_BAD_ARGS',
  'E_DEPLOY_BUSY',
  'E_DEPLOY_UNKNOWN',
  'E_DEPLOY_SIZE',
  'E_DEPLOY_HASH',
  'E_DEPLOY_OFFSET',
  'E_DEPLOY_INCOMPLETE',
  'E_MODEL_MISSING',
  'E_MODEL_FORMAT',
  'E_STATE',
]);

let n = 0;
function rig(maxBytes = 1 << 20): { root: string; store: string; svc: DeployService; switched: string[] } {
  const root = join(tmp, `rig${n++}`);
  mkdirSync(root);
  const store = join(root, 'store');
  const switched: string[] = [];
  const svc = new DeployService(
    {
      switchModel: (dir) => {
        switched.push(dir);
        return Promise.reject(new ReflexError('E_SWAP_NON_FINITE', 'the fuzz target runs no model'));
      },
      event: () => {},
    },
    { store, maxBytes, idleTimeoutMs: 60_000, commitWaitMs: 2000 },
  );
  return { root, store, svc, switched };
}

/** A refusal must be a ReflexError with a known code; anything else fails the property. */
async function refusedOrOk<T>(p: Promise<T>): Promise<T | string> {
  try {
    return await p;
  } catch (err) {
    if (!(err instanceof ReflexError)) throw new Error(`not a ReflexError: ${String(err)}`, { cause: err });
    if (!REFUSALS.has(err.code)) throw new Error(`unexpected code ${err.code}: ${err.message}`, { cause: err });
    return err.code;
  }
}

/** Nothing but the store under the rig root, and nothing in the store but an empty staging dir. */
function clean(root: string, store: string): boolean {
  const top = readdirSync(root);
  if (top.some((e) => e !== 'store')) return false;
  if (!existsSync(store)) return true;
  const inStore = readdirSync(store);
  return inStore.every((e) => e === '.staging') && (!existsSync(join(store, '.staging')) || readdirSync(join(store, '.staging')).length === 0);
}

const hostileName = fc.oneof(
  fc.constantFrom(
    'model.json',
    'reflex-model.json',
    'weights.bin',
    '../escape',
    '../../escape',
    '/etc/passwd',
    'a/b',
    'a\0b',
    '..',
    '.',
    '',
    '.hidden',
    'x'.repeat(129),
    'x'.repeat(5000),
    'ok\\..\\x',
  ),
  fc.string({ maxLength: 12 }),
);
const hostileSize = fc.constantFrom(0, 1, 3, -1, Number.NaN, Infinity, -Infinity, 2 ** 53, 1e12, 1.5, (1 << 20) + 1);
const hostileSha = fc.oneof(
  fc.constant(sha('abc')),
  fc.constantFrom('', 'ABC', sha('x').toUpperCase(), sha('x') + '0', 'z'.repeat(64)),
  fc.string({ maxLength: 70 }),
);

test('hostile deploy.begin arguments are refused with their codes and create nothing outside staging', async (t) => {
  const { root, store, svc, switched } = rig();
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ name: hostileName, size: hostileSize, sha256: hostileSha }), { maxLength: 5 }),
      fc.boolean(),
      async (files, rightHash) => {
        const withRequired: DeployFile[] = [
          { name: 'model.json', size: 3, sha256: sha('abc') },
          { name: 'reflex-model.json', size: 3, sha256: sha('abc') },
          ...files,
        ];
        const hash = rightHash ? modelHash(withRequired) : sha('other');
        const r = await refusedOrOk(svc.begin({ files: withRequired, hash }));
        if (typeof r !== 'string') await svc.abort({ id: r.id });
        return clean(root, store);
      },
    ),
    { numRuns: 300 },
  );
  t.deepEqual(switched, []);
  await svc.close();
});

test('a file name climbing out of staging is refused even when its hash adds up (E_BAD_ARGS)', async (t) => {
  const { root, store, svc } = rig();
  for (const name of ['../../../escape', '../escape', 'sub/escape']) {
    const files: DeployFile[] = [
      { name: 'model.json', size: 0, sha256: sha('') },
      { name: 'reflex-model.json', size: 0, sha256: sha('') },
      { name, size: 0, sha256: sha('') },
    ];
    const err = await t.throwsAsync<ReflexError>(svc.begin({ files, hash: modelHash(files) }));
    t.is(err.code, 'E_BAD_ARGS', name);
  }
  t.false(existsSync(join(root, 'escape')));
  t.false(existsSync(join(tmp, 'escape')));
  t.true(clean(root, store));
  await svc.close();
});

test('sizes summing past the limit, zero files and a duplicate name are refused', async (t) => {
  const { svc } = rig(100);
  const big: DeployFile[] = [
    { name: 'model.json', size: 60, sha256: sha('a') },
    { name: 'reflex-model.json', size: 60, sha256: sha('b') },
  ];
  t.is((await t.throwsAsync<ReflexError>(svc.begin({ files: big, hash: modelHash(big) }))).code, 'E_DEPLOY_SIZE');
  t.is((await t.throwsAsync<ReflexError>(svc.begin({ files: [], hash: sha('x') }))).code, 'E_BAD_ARGS');
  const dup = [big[0]!, { ...big[0]!, size: 1 }, big[1]!].map((f) => ({ ...f, size: 1 }));
  t.is((await t.throwsAsync<ReflexError>(svc.begin({ files: dup, hash: modelHash(dup) }))).code, 'E_BAD_ARGS');
  await svc.close();
});

async function smallDeploy(svc: DeployService): Promise<string> {
  const files: DeployFile[] = [
    { name: 'model.json', size: 3, sha256: sha('abc') },
    { name: 'reflex-model.json', size: 3, sha256: sha('abc') },
  ];
  const b = await svc.begin({ files, hash: modelHash(files) } satisfies DeployBeginArgs);
  return b.id;
}

test('hostile deploy.chunk arguments are refused and never write past staging', async (t) => {
  const { root, store, svc, switched } = rig();
  const hostileData = fc.oneof(
    fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b).toString('base64')),
    fc.constantFrom('', '====', 'YWJj!!!!', 'YW Jj', 'YWJ', '\0\0\0\0', 'A'.repeat(50_000), 'YWJjZA'),
    fc.string({ maxLength: 12 }),
  );
  const hostileOffset = fc.constantFrom(0, 1, 2, 3, -1, Number.NaN, Infinity, 2 ** 53, 1.5, -0);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ file: hostileName, offset: hostileOffset, data: hostileData, rightId: fc.boolean() }), { minLength: 1, maxLength: 6 }),
      async (chunks) => {
        const id = await smallDeploy(svc);
        for (const c of chunks) {
          const args: DeployChunkArgs = { id: c.rightId ? id : 'ffffffffffffffff', file: c.file, offset: c.offset, data: c.data };
          await refusedOrOk(svc.chunk(args));
        }
        if (svc.active) await svc.abort({ id });
        return clean(root, store);
      },
    ),
    { numRuns: 150 },
  );
  t.deepEqual(switched, []);
  await svc.close();
});

test('base64 garbage the lenient decoder would half-read is refused, not written', async (t) => {
  const { svc } = rig();
  const id = await smallDeploy(svc);
  for (const data of ['YWJj!!!!', 'YW Jj', 'YWJ', 'Y-Jj']) {
    t.is((await t.throwsAsync<ReflexError>(svc.chunk({ id, file: 'model.json', offset: 0, data }))).code, 'E_BAD_ARGS', data);
  }
  t.deepEqual(svc.active?.received, 0, 'nothing was taken');
  for (const offset of [-1, Number.NaN, 0.5]) {
    t.is((await t.throwsAsync<ReflexError>(svc.chunk({ id, file: 'model.json', offset, data: 'YWJj' }))).code, 'E_BAD_ARGS');
  }
  await svc.close();
});

test('a chunk for an undeclared file, a second commit and an unknown id are refused', async (t) => {
  const { root, store, svc, switched } = rig();
  let id = await smallDeploy(svc);
  t.is((await t.throwsAsync<ReflexError>(svc.chunk({ id, file: 'weights.bin', offset: 0, data: 'YWJj' }))).code, 'E_DEPLOY_UNKNOWN');
  t.is(svc.active, null, 'the deploy is dropped');
  id = await smallDeploy(svc);
  t.is((await t.throwsAsync<ReflexError>(svc.commit({ id }))).code, 'E_DEPLOY_INCOMPLETE');
  await svc.chunk({ id, file: 'model.json', offset: 0, data: Buffer.from('abc').toString('base64') });
  await svc.chunk({ id, file: 'reflex-model.json', offset: 0, data: Buffer.from('abc').toString('base64') });
  // "abc" is no model: the check refuses it before any switch.
  const first = await refusedOrOk(svc.commit({ id }));
  t.true(typeof first === 'string' || first.state !== 'done');
  t.is((await t.throwsAsync<ReflexError>(svc.commit({ id }))).code, 'E_STATE');
  t.is((await t.throwsAsync<ReflexError>(svc.commit({ id: '0123456789abcdef' }))).code, 'E_DEPLOY_UNKNOWN');
  await svc.close();
  t.deepEqual(switched, []);
  t.true(clean(root, store));
});
