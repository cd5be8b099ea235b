/**
 * The workstation side of a deploy (docs/deploy.md): hash a model directory, send it to a
 * runtime in chunks over its control socket, commit, and follow the check and swap to its end.
 * Chunks go one at a time, each after the previous reply, so the runtime's control rate limits
 * pace the transfer: an E_BUSY reply means "later", and the same chunk is sent again after a pause.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ReflexError } from '../core/errors.js';
import { checkModelDir } from '../predict/model-dir.js';
import { ControlReplyError, type ControlClient } from '../telemetry/control-client.js';
import type { PlainValue } from '../telemetry/control-protocol.js';
import { TelemetryCodes } from '../telemetry/codes.js';
import { DEPLOY_CHUNK_BYTES, DEPLOY_COMMANDS, type DeployBeginResult, type DeployCommitResult } from './deploy-protocol.js';
import { listModelFiles, modelHash, type DeployFile } from './model-hash.js';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface DeployProgress {
  file: string;
  /** Bytes sent so far, all files. */
  sent: number;
  total: number;
}

export interface DeployModelOptions {
  /** Check the directory here first (model.json, weights sizes, metadata), as the runtime will (default true). */
  localCheck?: boolean;
  onProgress?: (p: DeployProgress) => void;
  /** Longest wait for the runtime's check and swap after commit (default 120 s). */
  verifyTimeoutMs?: number;
  /** Stops the transfer (the deploy is aborted on the runtime). */
  signal?: AbortSignal;
}

export type DeployDone = DeployCommitResult & { state: 'done' };

export interface DeployOutcome extends DeployDone {
  files: DeployFile[];
  /** Bytes sent (0 when the runtime already stored the model). */
  sentBytes: number;
}

/** Longest pause after an E_BUSY reply before the same request is sent again. */
const MAX_BACKOFF_MS = 1000;
const POLL_MS = 200;

/** One request; an E_BUSY reply (rate limit) is waited out and the request sent again. */
async function call(client: ControlClient, cmd: string, args: Record<string, PlainValue>, signal?: AbortSignal): Promise<unknown> {
  let pause = 20;
  for (;;) {
    signal?.throwIfAborted();
    const reply = await client.send(cmd, args);
    if (reply.ok) return reply.result;
    if (reply.error.code !== TelemetryCodes.busy) throw new ControlReplyError(reply.error.code, reply.error.message);
    await sleep(pause, undefined, signal ? { signal } : undefined);
    pause = Math.min(pause * 2, MAX_BACKOFF_MS);
  }
}

/** Sends `dir` to the runtime behind `client` and resolves once it runs there; a refusal rejects with the runtime's code. */
export async function deployModel(client: ControlClient, dir: string, opts: DeployModelOptions = {}): Promise<DeployOutcome> {
  const root = resolve(dir);
  if (opts.localCheck !== false) checkModelDir(root);
  const files = await listModelFiles(root);
  const hash = modelHash(files);
  const total = files.reduce((a, f) => a + f.size, 0);
  const begin = (await call(
    client,
    DEPLOY_COMMANDS.begin,
    { files: files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })), hash },
    opts.signal,
  )) as DeployBeginResult;
  let sent = 0;
  if (!begin.stored) {
    try {
      sent = await sendFiles(client, root, begin, files, total, opts);
    } catch (err) {
      // Whatever stopped the transfer (a refused chunk, a lost reply, the signal), the half-sent deploy goes now.
      try {
        await client.send(DEPLOY_COMMANDS.abort, { id: begin.id });
      } catch (abortErr) {
        (err as Error).message += ` (deploy.abort failed too: ${(abortErr as Error).message}; the runtime drops the deploy after ${begin.idle_timeout_ms} ms)`;
      }
      throw err;
    }
  }
  // From here a refusal has already dropped the deploy on the runtime.
  const first = (await call(client, DEPLOY_COMMANDS.commit, { id: begin.id }, opts.signal)) as DeployCommitResult;
  const done = await follow(client, begin.id, first, opts);
  return { ...done, files, sentBytes: sent };
}

async function sendFiles(
  client: ControlClient,
  root: string,
  begin: DeployBeginResult,
  files: readonly DeployFile[],
  total: number,
  opts: DeployModelOptions,
): Promise<number> {
  const size = Math.min(begin.chunk_bytes, DEPLOY_CHUNK_BYTES);
  const buf = Buffer.alloc(size);
  let sent = 0;
  for (const f of files) {
    const fh = await open(join(root, f.name), 'r');
    try {
      for (let offset = 0; offset < f.size;) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(size, f.size - offset), offset);
        if (bytesRead === 0) throw new ReflexError(TelemetryCodes.send, `${join(root, f.name)} shrank while it was being sent; deploy again`);
        await call(client, DEPLOY_COMMANDS.chunk, { id: begin.id, file: f.name, offset, data: buf.toString('base64', 0, bytesRead) }, opts.signal);
        offset += bytesRead;
        sent += bytesRead;
        opts.onProgress?.({ file: f.name, sent, total });
      }
    } finally {
      await fh.close();
    }
  }
  return sent;
}

/** Polls deploy.status until the runtime has switched to the model or refused it. */
async function follow(client: ControlClient, id: string, first: DeployCommitResult, opts: DeployModelOptions): Promise<DeployDone> {
  const until = performance.now() + (opts.verifyTimeoutMs ?? 120_000);
  let r = first;
  while (r.state !== 'done') {
    if (performance.now() > until)
      throw new ReflexError(
        TelemetryCodes.timeout,
        `deploy ${id}: the runtime was still verifying the model after ${opts.verifyTimeoutMs ?? 120_000} ms; ask again with deploy.status`,
      );
    await sleep(POLL_MS, undefined, opts.signal ? { signal: opts.signal } : undefined);
    r = (await call(client, DEPLOY_COMMANDS.status, { id }, opts.signal)) as DeployCommitResult;
  }
  return r;
}
