/**
 * The deploy control commands (docs/deploy.md): a model directory sent in chunks over the
 * control channel, checked, stored under its content hash and switched in through the same
 * path as the `model` command (verified off the main thread, swapped between two cycles; a
 * refusal leaves the running model running). One deploy at a time; one left without requests
 * for `idleTimeoutMs` is dropped with its files.
 */
import { randomBytes } from 'node:crypto';
import { Counters } from '../core/counters.js';
import { ReflexError } from '../core/errors.js';
import {
  DEFAULT_DEPLOY_IDLE_MS,
  DEFAULT_DEPLOY_MAX_BYTES,
  DEPLOY_CHUNK_BYTES,
  DEPLOY_COMMANDS,
  deployArgCheckers,
  REQUIRED_FILES,
  type DeployBeginArgs,
  type DeployBeginResult,
  type DeployChunkArgs,
  type DeployCommitResult,
  type DeployIdArgs,
} from '../deploy/deploy-protocol.js';
import { modelHash } from '../deploy/model-hash.js';
import { ModelStore } from '../deploy/model-store.js';
import { checkModelDir } from '../predict/model-dir.js';
import { ModelCodes } from '../predict/errors.js';
import { TelemetryCodes } from '../telemetry/codes.js';
import type { PlainValue } from '../telemetry/control-protocol.js';
import type { ControlServer } from '../telemetry/control-server.js';
import { RuntimeCodes } from './codes.js';
import { DeploySession } from './deploy-session.js';
import type { ModelSwitch } from './loop-setup.js';
import type { RunEvent } from './types.js';

export interface DeployOptions {
  /** The model store directory (created on the first deploy). */
  store: string;
  /** Total bytes of one model's files at most (default 64 MiB). */
  maxBytes?: number;
  /** A deploy with no request for this long is dropped and its files removed (default 30 s). */
  idleTimeoutMs?: number;
  /**
   * How long `deploy.commit` waits for the check and swap before answering `verifying`
   * (default 8 s, inside the control server's 10 s handler timeout); `deploy.status` then follows it.
   */
  commitWaitMs?: number;
}

export interface DeployTarget {
  /** The `model` command's path: check, verify and swap in, or refuse and change nothing. */
  switchModel(dir: string): Promise<ModelSwitch>;
  event: RunEvent;
}

type Outcome = { state: 'verifying' } | { state: 'done'; result: DeployCommitResult & { state: 'done' } } | { state: 'failed'; error: ReflexError };

type DeployCounter = 'begun' | 'done' | 'refused' | 'timed_out' | 'aborted';

/** Errors after which a deploy can go on (the client resends or sends the rest). */
const RECOVERABLE = new Set<string>([RuntimeCodes.deployOffset, RuntimeCodes.deployIncomplete]);

/**
 * The control server checks arguments before a handler runs; the service checks them again so
 * a caller using it directly cannot name a file outside the staging directory (a "../" name or
 * a negative size) or pass base64 the lenient Buffer decoder would quietly half-read.
 */
function checked(check: (a: Record<string, PlainValue>) => string | undefined, cmd: string, args: object): void {
  const why = check(args as Record<string, PlainValue>);
  if (why !== undefined) throw new ReflexError(TelemetryCodes.badArgs, `${cmd}: ${why}`);
}

function asReflexError(err: unknown): ReflexError {
  return err instanceof ReflexError
    ? err
    : new ReflexError(RuntimeCodes.deployStore, `deploy failed: ${(err as Error).message ?? String(err)}`, { cause: err });
}

export class DeployService {
  readonly store: ModelStore;
  readonly maxBytes: number;
  readonly idleTimeoutMs: number;
  readonly counters = new Counters<DeployCounter>();
  readonly #commitWaitMs: number;
  readonly #target: DeployTarget;
  #session: DeploySession | null = null;
  #idle: NodeJS.Timeout | undefined;
  /** The deploy being verified or last finished, for `deploy.status`. */
  #last: { id: string; hash: string; outcome: Outcome } | null = null;
  /** Begin, commit, abort and timeouts run one at a time (each touches the store). */
  #serial: Promise<unknown> = Promise.resolve();
  #closed = false;
  #committing: DeploySession | null = null;
  /** Deploys of a model the store already held at deploy.begin (no files sent). */
  readonly #reusing = new WeakSet<DeploySession>();

  constructor(target: DeployTarget, opts: DeployOptions) {
    this.#target = target;
    this.store = new ModelStore(opts.store);
    this.maxBytes = opts.maxBytes ?? DEFAULT_DEPLOY_MAX_BYTES;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_DEPLOY_IDLE_MS;
    this.#commitWaitMs = opts.commitWaitMs ?? 8000;
  }

  /** The deploy receiving or being verified, if any. */
  get active(): { id: string; hash: string; received: number; total: number } | null {
    const s = this.#session;
    return s ? { id: s.id, hash: s.hash, received: s.received, total: s.totalBytes } : null;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  async begin(args: DeployBeginArgs): Promise<DeployBeginResult> {
    checked(deployArgCheckers.begin, DEPLOY_COMMANDS.begin, args);
    // Refused at once, not queued behind a verification that may take seconds.
    this.#refuseIfBusy();
    return this.#exclusive(async () => {
      this.#refuseIfBusy();
      const missing = REQUIRED_FILES.filter((n) => !args.files.some((f) => f.name === n));
      if (missing.length > 0)
        throw new ReflexError(
          ModelCodes.missing,
          `the model directory lacks ${missing.join(' and ')}: deploy a directory with model.json, its weights and reflex-model.json`,
        );
      const total = args.files.reduce((a, f) => a + f.size, 0);
      if (total > this.maxBytes)
        throw new ReflexError(
          RuntimeCodes.deploySize,
          `the model's files add up to ${total} bytes; this runtime takes at most ${this.maxBytes} (deploy.maxBytes)`,
        );
      const hash = modelHash(args.files);
      if (hash !== args.hash)
        throw new ReflexError(RuntimeCodes.deployHash, `the files declared hash to ${hash}, not ${args.hash}; recompute the hash (docs/deploy.md)`);
      await this.store.open();
      const stored = (await this.store.check(hash)).intact;
      const id = randomBytes(8).toString('hex');
      const dir = await this.store.stage(id);
      try {
        this.#session = await DeploySession.create(id, hash, dir, stored ? [] : args.files);
        if (stored) this.#reusing.add(this.#session);
      } catch (err) {
        await this.store.remove(dir);
        throw err;
      }
      this.counters.inc('begun');
      this.#touch();
      this.#target.event(
        'deploy',
        'info',
        `deploy ${id}: receiving model ${hash.slice(0, 12)} (${args.files.length} files, ${total} bytes${stored ? ', already stored' : ''})`,
      );
      return { id, hash, stored, chunk_bytes: DEPLOY_CHUNK_BYTES, max_bytes: this.maxBytes, idle_timeout_ms: this.idleTimeoutMs };
    });
  }

  async chunk(args: DeployChunkArgs): Promise<{ received: number; total: number }> {
    checked(deployArgCheckers.chunkAnySize, DEPLOY_COMMANDS.chunk, args);
    const s = this.#current(args.id);
    if (this.#committing === s) throw new ReflexError(RuntimeCodes.state, `deploy ${s.id} is being committed; it takes no more chunks`);
    const bytes = Buffer.from(args.data, 'base64');
    this.#touch();
    try {
      return s.chunk(args.file, args.offset, bytes);
    } catch (err) {
      const e = asReflexError(err);
      if (!RECOVERABLE.has(e.code)) await this.#exclusive(() => this.#drop(s, 'refused', e.message));
      throw e;
    }
  }

  /** Finishes the transfer, checks and stores the model and switches to it; answers within commitWaitMs. */
  async commit(args: DeployIdArgs): Promise<DeployCommitResult> {
    const s = this.#current(args.id);
    if (this.#committing === s) throw new ReflexError(RuntimeCodes.state, `deploy ${s.id} is already being committed; follow it with deploy.status`);
    this.#committing = s;
    try {
      return await this.#commit(s);
    } finally {
      this.#committing = null;
    }
  }

  async #commit(s: DeploySession): Promise<DeployCommitResult> {
    // Complete before the session is handed over: an incomplete one stays open for the rest.
    clearTimeout(this.#idle);
    try {
      await s.finish();
    } catch (err) {
      const e = asReflexError(err);
      if (RECOVERABLE.has(e.code)) this.#touch();
      else await this.#exclusive(() => this.#drop(s, 'refused', e.message));
      throw e;
    }
    this.#session = null;
    const last = { id: s.id, hash: s.hash, outcome: { state: 'verifying' } as Outcome };
    this.#last = last;
    const work = this.#exclusive(() => this.#install(s)).then(
      (result) => {
        last.outcome = { state: 'done', result };
        this.counters.inc('done');
      },
      (err: unknown) => {
        const error = asReflexError(err);
        last.outcome = { state: 'failed', error };
        this.counters.inc('refused');
        this.#target.event('deploy', 'warn', `deploy ${s.id} refused (${error.code}): ${error.message}; the running model keeps running`);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((r) => (timer = setTimeout(r, this.#commitWaitMs)))]);
    clearTimeout(timer);
    return this.status({ id: s.id });
  }

  /** The last deploy's outcome: its result, `verifying`, or its refusal thrown as the error it was. */
  status(args: DeployIdArgs): DeployCommitResult {
    const last = this.#last;
    if (!last || last.id !== args.id) {
      if (this.#session?.id === args.id)
        throw new ReflexError(RuntimeCodes.state, `deploy ${args.id} is still receiving; send deploy.commit when every chunk is sent`);
      throw new ReflexError(RuntimeCodes.deployUnknown, `no deploy ${args.id} here: it timed out, was aborted, or a later deploy replaced its record`);
    }
    const o = last.outcome;
    if (o.state === 'failed') throw o.error;
    if (o.state === 'done') return o.result;
    return { id: last.id, state: 'verifying', hash: last.hash };
  }

  async abort(args: DeployIdArgs): Promise<{ aborted: string }> {
    const s = this.#current(args.id);
    return this.#exclusive(async () => {
      await this.#drop(s, 'aborted', 'aborted by the client');
      return { aborted: s.id };
    });
  }

  /** Drops a deploy in progress and its files (the runtime is stopping). */
  async close(): Promise<void> {
    this.#closed = true;
    const s = this.#session;
    if (s) await this.#exclusive(() => this.#drop(s, 'aborted', 'the runtime is stopping'));
    await this.#serial;
  }

  #refuseIfBusy(): void {
    if (this.#closed) throw new ReflexError(RuntimeCodes.state, 'the runtime is stopping; deploy to it once it runs again');
    const busy = this.#session ?? (this.#last?.outcome.state === 'verifying' ? this.#last : null);
    if (busy)
      throw new ReflexError(RuntimeCodes.deployBusy, `deploy ${busy.id} (model ${busy.hash.slice(0, 12)}) is under way; wait for it, or for it to time out`);
  }

  #current(id: string): DeploySession {
    const s = this.#session;
    if (s?.id === id) return s;
    if (this.#last?.id === id) throw new ReflexError(RuntimeCodes.state, `deploy ${id} is committed; follow it with deploy.status`);
    throw new ReflexError(RuntimeCodes.deployUnknown, `no deploy ${id} is receiving: it timed out, was aborted or refused; start again with deploy.begin`);
  }

  #touch(): void {
    clearTimeout(this.#idle);
    const s = this.#session;
    if (!s) return;
    this.#idle = setTimeout(() => {
      void this.#exclusive(() => this.#drop(s, 'timed_out', `no request for ${this.idleTimeoutMs} ms`)).catch((err: unknown) =>
        this.#target.event('deploy', 'error', `dropping timed-out deploy ${s.id}: ${(err as Error).message}`),
      );
    }, this.idleTimeoutMs);
    this.#idle.unref();
  }

  async #drop(s: DeploySession, why: 'refused' | 'timed_out' | 'aborted', detail: string): Promise<void> {
    if (this.#session !== s) return;
    this.#session = null;
    clearTimeout(this.#idle);
    this.counters.inc(why);
    await s.close();
    await this.store.remove(s.dir);
    this.#target.event('deploy', why === 'aborted' ? 'info' : 'warn', `deploy ${s.id} dropped (${why.replace('_', ' ')}): ${detail}; its files are removed`);
  }

  async #install(s: DeploySession): Promise<DeployCommitResult & { state: 'done' }> {
    let stored: { dir: string; reused: boolean };
    try {
      // Staged files are whole and hash-checked; a received model must also be one (a re-used one was when stored).
      if (this.#reusing.has(s)) {
        // Nothing was sent: the copy found intact at deploy.begin must still be intact.
        const now = await this.store.check(s.hash);
        if (!now.intact)
          throw new ReflexError(RuntimeCodes.deployHash, `the stored copy of model ${s.hash} changed since deploy.begin (${now.reason}); deploy it again`);
      } else checkModelDir(s.dir);
      stored = await this.store.publish(s.dir, s.hash);
    } catch (err) {
      await this.store.remove(s.dir);
      throw err;
    }
    let sw: ModelSwitch;
    try {
      sw = await this.#target.switchModel(stored.dir);
    } catch (err) {
      // A refused model does not stay in the store, unless it was there before this deploy.
      if (!stored.reused) await this.store.remove(stored.dir);
      throw err;
    }
    this.#target.event('deploy', 'info', `deploy ${s.id}: model ${s.hash.slice(0, 12)} running from ${stored.dir}`, { hash: s.hash, dir: stored.dir });
    return {
      id: s.id,
      state: 'done',
      hash: s.hash,
      dir: stored.dir,
      reused: stored.reused,
      swapped_at_cycle: sw.cycle,
      swap_margin_ms: sw.marginMs,
      safe: sw.loop.safe,
    };
  }
}

type Args = Record<string, PlainValue>;

/** Registers deploy.begin/chunk/commit/abort/status on `server`; close the service when the runtime stops. */
export function registerDeploy(server: ControlServer, target: DeployTarget, opts: DeployOptions): DeployService {
  const svc = new DeployService(target, opts);
  server.handle(DEPLOY_COMMANDS.begin, (a: Args) => svc.begin(a as unknown as DeployBeginArgs), deployArgCheckers.begin);
  server.handle(DEPLOY_COMMANDS.chunk, (a: Args) => svc.chunk(a as unknown as DeployChunkArgs), deployArgCheckers.chunk);
  server.handle(DEPLOY_COMMANDS.commit, (a: Args) => svc.commit(a as unknown as DeployIdArgs), deployArgCheckers.id);
  server.handle(DEPLOY_COMMANDS.abort, (a: Args) => svc.abort(a as unknown as DeployIdArgs), deployArgCheckers.id);
  server.handle(DEPLOY_COMMANDS.status, (a: Args) => svc.status(a as unknown as DeployIdArgs), deployArgCheckers.id);
  return svc;
}
