/**
 * `reflex deploy` against a live sim-board runtime (real loop worker, real control socket): a
 * good model is sent in chunks, stored under its content hash and swapped in while the loop
 * keeps cycling armed; a model that fails a check (wrong channel count, short weights, bad JSON,
 * corrupt transfer, too big, a missing file) is refused with its code, the old model keeps
 * running and nothing of it stays on the board. Over CURVE, an allowed key deploys and an
 * unknown one is refused.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as deployMain } from '../src/cli/commands/deploy.js';
import type { ErrorCode } from '../src/core/codes.js';
import type { ConfigError, ReflexError } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import { deployModel } from '../src/deploy/deploy-client.js';
import { listModelFiles, modelHash } from '../src/deploy/model-hash.js';
import { defaultConfig, type RunConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ControlClient, ControlReplyError } from '../src/telemetry/control-client.js';
import type { PlainValue } from '../src/telemetry/control-protocol.js';
import { generateKeyPair, writeKeyPair } from '../src/telemetry/keys.js';
import { captureCtx } from './_cli-ctx.js';
import { fourChannelModel, scaledModel as scaledCopy } from './model-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-deploy-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
// A snapshot of the shipped model: models/default may be retrained while this file runs.
const defaultModel = join(tmp, 'default-model');
cpSync(defaultConfig('sim').model!, defaultModel, { recursive: true });

interface Status {
  safe: boolean;
  model: string | null;
  loop: { cycles: number } | null;
}

/** The default model with every weight scaled by `k`: same shapes, other outputs, another hash. */
function scaledModel(name: string, k: number): string {
  return scaledCopy(defaultModel, join(tmp, name), k);
}

function simConfig(store: string): RunConfig {
  const cfg = defaultConfig('sim');
  cfg.model = defaultModel;
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  // Generous: a test machine under load must not trip the stale-input watchdog, which would hide what the swap does.
  cfg.loop.staleMs = 5000;
  cfg.loop.overrunStreak = 1000;
  cfg.deploy = { store, maxBytes: 8 * 1024 * 1024, idleTimeoutMs: 400 };
  return cfg;
}

/** Captures the runtime's log; `next(re)` resolves at the first line (already seen or to come) matching. */
function logCapture(): { logger: Logger; lines: string[]; next: (re: RegExp, timeoutMs?: number) => Promise<string> } {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const logger = new Logger({
    level: 'info',
    sink: (_l, msg) => {
      if (process.env.DEPLOY_TEST_LOG) process.stderr.write(`LOG ${performance.now().toFixed(0)} ${msg}\n`);
      lines.push(msg);
      for (const w of waiters.splice(0)) {
        if (w.re.test(msg)) w.resolve(msg);
        else waiters.push(w);
      }
    },
  });
  const next = (re: RegExp, timeoutMs = 10_000): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line ${re} within ${timeoutMs} ms: ${lines.slice(-5).join(' | ')}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  return { logger, lines, next };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const stagingEmpty = (store: string): boolean => !existsSync(join(store, '.staging')) || readdirSync(join(store, '.staging')).length === 0;

test.serial(
  'deploy over control: stored by hash, swapped in while the loop runs armed; every bad model is refused and the old one keeps running',
  async (t) => {
    t.timeout(120_000);
    const store = join(tmp, 'store');
    const cfg = simConfig(store);
    const log = logCapture();
    const rt = await Runtime.start(cfg, { log: log.logger, guardProcess: false, arm: true });
    const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 60_000 });
    const status = async (): Promise<Status> => (await ctl.request('status')) as Status;
    /** A deploy command's result; an error reply throws it. */
    const req = async (cmd: string, args: Record<string, PlainValue>): Promise<unknown> => {
      const reply = await ctl.send(cmd, args);
      if (!reply.ok) throw new ControlReplyError(reply.error.code, reply.error.message);
      return reply.result;
    };
    const cyclesPast = async (n: number): Promise<number> => {
      const until = Date.now() + 20_000;
      for (;;) {
        const c = (await status()).loop?.cycles ?? -1;
        if (c > n) return c;
        if (Date.now() > until) throw new Error(`the loop did not run past cycle ${n}: ${log.lines.slice(-5).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      const original = cfg.model;
      await cyclesPast(0);
      t.false((await status()).safe, 'armed at start-up');

      // A good model: sent, stored under its hash, running; the loop never went safe.
      const good = scaledModel('good', 0.9);
      const hash = modelHash(await listModelFiles(good));
      const before = (await status()).loop!.cycles;
      const progress: number[] = [];
      const r = await deployModel(ctl, good, { onProgress: (p) => progress.push(p.sent) });
      t.is(r.state, 'done');
      t.is(r.hash, hash);
      t.is(r.dir, join(store, hash));
      t.false(r.reused);
      t.is(
        r.sentBytes,
        (await listModelFiles(good)).reduce((a, f) => a + f.size, 0),
      );
      t.is(progress.at(-1), r.sentBytes);
      t.true(r.swapped_at_cycle !== null && r.swapped_at_cycle >= before);
      t.false(r.safe);
      for (const f of ['model.json', 'reflex-model.json', 'weights.bin']) t.deepEqual(readFileSync(join(r.dir, f)), readFileSync(join(good, f)));
      const s1 = await status();
      t.is(s1.model, join(store, hash), 'status names the new model by its hash');
      await cyclesPast(r.swapped_at_cycle! + 10);
      t.false((await status()).safe, log.lines.filter((l) => /safe|safety|stale|overrun/.test(l)).join(' | '));
      t.false(
        log.lines.some((l) => /-> actuators safe/.test(l)),
        `no safe-state transition: ${log.lines.filter((l) => /safe/.test(l)).join(' | ')}`,
      );
      t.is(rt.loop?.predictor.model?.dir, join(store, hash));

      // The same model again: the stored copy is reused, nothing is sent.
      const again = await deployModel(ctl, good);
      t.true(again.reused);
      t.is(again.sentBytes, 0);
      t.is(again.dir, r.dir);

      const refusedKeepsRunning = async (dir: string, code: ErrorCode, opts: { localCheck?: boolean } = {}): Promise<ReflexError> => {
        const err = await t.throwsAsync<ReflexError>(deployModel(ctl, dir, { localCheck: false, ...opts }));
        t.is(err.code, code, err.message);
        const s = await status();
        t.is(s.model, join(store, hash), `${code}: the running model is still the deployed one`);
        t.false(s.safe, `${code}: still armed`);
        t.true(stagingEmpty(store), `${code}: nothing half-written remains`);
        return err;
      };

      // Wrong channel count: refused by the board's check, not stored.
      const four = await fourChannelModel(defaultModel, join(tmp, 'four'));
      const e4 = await refusedKeepsRunning(four, 'E_MODEL_SHAPE', { localCheck: true });
      t.regex(e4.message, /expects 4 channels, board sim streams 8/);
      t.false(existsSync(join(store, modelHash(await listModelFiles(four)))), 'a refused model is not kept in the store');

      // Short weights, bad JSON, a weights file missing.
      const short = scaledModel('short', 1.1);
      writeFileSync(join(short, 'weights.bin'), readFileSync(join(short, 'weights.bin')).subarray(0, 1000));
      t.regex((await refusedKeepsRunning(short, 'E_MODEL_WEIGHTS')).message, /too short/);
      const badJson = scaledModel('badjson', 1.2);
      writeFileSync(join(badJson, 'model.json'), '{"modelTopology": ');
      await refusedKeepsRunning(badJson, 'E_MODEL_FORMAT');
      const noWeights = scaledModel('noweights', 1.3);
      rmSync(join(noWeights, 'weights.bin'));
      await refusedKeepsRunning(noWeights, 'E_MODEL_MISSING');
      const noMeta = scaledModel('nometa', 1.4);
      rmSync(join(noMeta, 'reflex-model.json'));
      await refusedKeepsRunning(noMeta, 'E_MODEL_MISSING');

      // A transfer whose bytes are not the ones declared: refused at the file's last chunk, dropped.
      const files = await listModelFiles(good);
      const declared = files.map((f) => ({ ...f }));
      declared[0]!.sha256 = createHash('sha256').update('something else').digest('hex');
      const begin = (await req('deploy.begin', { files: declared, hash: modelHash(declared) })) as { id: string; stored: boolean };
      t.false(begin.stored);
      const bad = await ctl.send('deploy.chunk', {
        id: begin.id,
        file: 'model.json',
        offset: 0,
        data: readFileSync(join(good, 'model.json')).toString('base64'),
      });
      t.false(bad.ok);
      if (!bad.ok) t.is(bad.error.code, 'E_DEPLOY_HASH');
      const gone = await ctl.send('deploy.commit', { id: begin.id });
      t.false(gone.ok);
      if (!gone.ok) t.is(gone.error.code, 'E_DEPLOY_UNKNOWN');
      t.true(stagingEmpty(store));

      // A declared hash that is not the files' hash; too many bytes for deploy.maxBytes.
      const mismatch = await ctl.send('deploy.begin', { files: files.map((f) => ({ ...f })), hash: '0'.repeat(64) });
      t.false(mismatch.ok);
      if (!mismatch.ok) t.is(mismatch.error.code, 'E_DEPLOY_HASH');
      const huge = files.map((f) => ({ ...f, size: f.name === 'weights.bin' ? 16 * 1024 * 1024 : f.size }));
      const big = await ctl.send('deploy.begin', { files: huge, hash: modelHash(huge) });
      t.false(big.ok);
      if (!big.ok) {
        t.is(big.error.code, 'E_DEPLOY_SIZE');
        t.regex(big.error.message, /at most 8388608/);
      }

      // One deploy at a time; an abandoned one times out and its files go.
      const first = (await req('deploy.begin', { files: files.map((f) => ({ ...f })), hash: '1'.repeat(64) }).catch((e: Error) => e)) as Error;
      t.regex(first.message, /hash to/);
      const other = scaledModel('other', 0.8);
      const otherFiles = (await listModelFiles(other)).map((f) => ({ ...f }));
      const b1 = (await req('deploy.begin', { files: otherFiles, hash: modelHash(otherFiles) })) as { id: string };
      const chunk = readFileSync(join(other, 'model.json')).subarray(0, 100);
      t.true((await ctl.send('deploy.chunk', { id: b1.id, file: 'model.json', offset: 0, data: chunk.toString('base64') })).ok);
      const busy = await ctl.send('deploy.begin', { files: otherFiles, hash: modelHash(otherFiles) });
      t.false(busy.ok);
      if (!busy.ok) t.is(busy.error.code, 'E_DEPLOY_BUSY');
      const early = await ctl.send('deploy.commit', { id: b1.id });
      t.false(early.ok);
      if (!early.ok) {
        t.is(early.error.code, 'E_DEPLOY_INCOMPLETE');
        const w = statSync(join(other, 'weights.bin')).size;
        t.true(early.error.message.includes(`weights.bin (${w} of ${w} bytes missing)`), early.error.message);
      }
      const offset = await ctl.send('deploy.chunk', { id: b1.id, file: 'model.json', offset: 0, data: chunk.toString('base64') });
      t.false(offset.ok);
      if (!offset.ok) t.is(offset.error.code, 'E_DEPLOY_OFFSET');
      t.false(stagingEmpty(store), 'the deploy in progress has its files');
      await log.next(new RegExp(`deploy ${b1.id} dropped \\(timed out\\)`));
      t.true(stagingEmpty(store), 'the timed-out deploy left nothing');
      const late = await ctl.send('deploy.chunk', { id: b1.id, file: 'model.json', offset: 100, data: chunk.toString('base64') });
      t.false(late.ok);
      if (!late.ok) t.is(late.error.code, 'E_DEPLOY_UNKNOWN');
      // And an abort frees the slot at once.
      const b2 = (await req('deploy.begin', { files: otherFiles, hash: modelHash(otherFiles) })) as { id: string };
      t.true((await ctl.send('deploy.abort', { id: b2.id })).ok);
      t.true(stagingEmpty(store));
      const r2 = await deployModel(ctl, other);
      t.is((await status()).model, r2.dir);

      // A model with a 4 MiB extra file: 128+ chunks, past the control rate's burst, so the
      // client is told E_BUSY on the way and waits; every byte arrives.
      const large = scaledModel('large', 0.5);
      writeFileSync(join(large, 'notes.bin'), randomBytes(4 * 1024 * 1024));
      const t3 = performance.now();
      const r3 = await deployModel(ctl, large);
      const t3s = (performance.now() - t3) / 1000;
      t.is(r3.state, 'done');
      // Compared by hash: ava's deepEqual on 4 MiB buffers would hold this process (and the runtime in it) for half a minute.
      t.is(sha256(readFileSync(join(r3.dir, 'notes.bin'))), sha256(readFileSync(join(large, 'notes.bin'))));
      t.is((await status()).model, r3.dir);
      const counters = ((await ctl.request('status')) as { counters: Record<string, number> }).counters;
      // Paced by E_BUSY replies, unless this machine was too slow to outrun the budget (burst 100,
      // then 50 requests a second per peer): then it took at least as long as the budget allows.
      const requests = Math.ceil(r3.sentBytes / 32768) + r3.files.length + 2;
      const busyPeer = counters['control.busy_peer'] ?? 0;
      t.true(busyPeer > 0 || t3s >= (requests - 100) / 50 - 0.1, `${requests} requests in ${t3s.toFixed(2)} s, busy ${busyPeer}: ${JSON.stringify(counters)}`);

      t.is((await status()).model === original, false);
      t.false((await status()).safe, `armed through all of it: ${log.lines.filter((l) => /safe|safety|stale|overrun|release/.test(l)).join(' | ')}`);
    } finally {
      await ctl.close();
      await rt.stop();
    }
  },
);

test.serial('deploy over CURVE on a non-loopback bind: an allowed key deploys, an unknown key is refused, the CLI wants keys off loopback', async (t) => {
  t.timeout(60_000);
  const keysDir = join(tmp, 'keys');
  mkdirSync(join(keysDir, 'clients'), { recursive: true });
  const server = generateKeyPair();
  const client = generateKeyPair();
  writeKeyPair(keysDir, 'server', server);
  writeKeyPair(join(keysDir, 'clients'), 'lab', client);
  const clientDir = join(tmp, 'client-keys');
  mkdirSync(clientDir);
  const { keyFile } = writeKeyPair(clientDir, 'me', client);
  const { keyFile: strangerFile } = writeKeyPair(clientDir, 'stranger', generateKeyPair());
  const store = join(tmp, 'curve-store');
  const cfg = simConfig(store);
  cfg.telemetry.keysDir = keysDir;
  // Every interface: allowed only because CURVE is on.
  cfg.telemetry.control = 'tcp://0.0.0.0:*';
  const log = logCapture();
  const rt = await Runtime.start(cfg, { log: log.logger, guardProcess: false, arm: true });
  const port = rt.controlEndpoints[0]!.split(':').at(-1)!;
  const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
    const ctx = captureCtx();
    const code = await deployMain(argv, ctx);
    return { code, out: ctx.out() };
  };
  try {
    const good = scaledModel('curve-good', 0.7);
    const ep = `tcp://127.0.0.1:${port}`;
    const ok = await run(good, ep, '--server-key', server.publicKey, '--client-key-file', keyFile, '--quiet');
    t.is(ok.code, 0, ok.out);
    const r = JSON.parse(ok.out) as { ok: boolean; hash: string; dir: string };
    t.true(r.ok);
    t.is(r.dir, join(store, modelHash(await listModelFiles(good))));
    const ctl = new ControlClient({ endpoint: ep, serverKey: server.publicKey, keyPair: client, timeoutMs: 10_000 });
    t.is(((await ctl.request('status')) as Status).model, r.dir);
    await ctl.close();

    const refused = await run(scaledModel('curve-stranger', 0.6), ep, '--server-key', server.publicKey, '--client-key-file', strangerFile, '--quiet');
    t.is(refused.code, 1);
    t.is((JSON.parse(refused.out) as { error: { code: string } }).error.code, 'E_AUTH');

    // Off loopback the CLI sends nothing without keys; a directory that is no model is exit 2 before any connection.
    const e1 = await t.throwsAsync<ConfigError>(run(good, `tcp://10.1.2.3:${port}`));
    t.is(e1.code, 'E_USAGE');
    t.regex(e1.message, /only over CURVE/);
    const e2 = await t.throwsAsync<ConfigError>(run(join(tmp, 'nothing'), ep, '--server-key', server.publicKey, '--client-key-file', keyFile));
    t.is(e2.code, 'E_MODEL_MISSING');
  } finally {
    await rt.stop();
  }
});
