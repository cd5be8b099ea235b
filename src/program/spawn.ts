import { fork, type ChildProcess } from 'node:child_process';
import { childExecArgv, entryUrl, startWorker } from '../core/worker.js';
import { systemClock, type Clock } from './clock.js';
import { ProgramCodes, ProgramError } from './errors.js';
import type { Json, SpawnNode } from './types.js';

/** Parent -> fragment. */
export interface SpawnRequest {
  readonly body: SpawnNode['body'];
  readonly registers: Record<string, Json>;
  readonly module: string | null;
  /** The fragment runs on real time, or on virtual time starting at the parent's `now`. */
  readonly clock: { kind: 'system' } | { kind: 'virtual'; now: number };
}

/** Fragment -> parent. */
export type SpawnMessage = { type: 'print'; line: string } | { type: 'done'; written: Record<string, Json> } | { type: 'error'; code: string; message: string };

const workerUrl = entryUrl('spawn-worker', import.meta.url);

/**
 * Run a SPAWN node's body in a worker thread or a child process with a copy of `registers`;
 * resolves with the registers the fragment wrote (filtered by `merge`), for the parent to merge.
 */
export function runFragment(
  node: SpawnNode,
  registers: Record<string, Json>,
  opts: { signal: AbortSignal; print: (line: string) => void; clock: Clock; where: string },
): Promise<Record<string, Json>> {
  const request: SpawnRequest = {
    body: node.body,
    registers,
    module: node.module ?? null,
    clock: opts.clock === systemClock ? { kind: 'system' } : { kind: 'virtual', now: opts.clock.now() },
  };
  return new Promise((resolve, reject) => {
    let finished = false;
    let kill: () => void;
    const onMessage = (msg: SpawnMessage) => {
      if (msg.type === 'print') return opts.print(msg.line);
      finished = true;
      kill();
      if (msg.type === 'error') return reject(new ProgramError(ProgramCodes.spawn, opts.where, `the spawned fragment failed: ${msg.code} ${msg.message}`));
      const keep = node.merge ? Object.fromEntries(Object.entries(msg.written).filter(([k]) => node.merge!.includes(k))) : msg.written;
      resolve(keep);
    };
    const onExit = (code: number | null) => {
      if (!finished)
        reject(new ProgramError(ProgramCodes.spawn, opts.where, `the spawned ${node.mode ?? 'thread'} exited (${code}) before reporting a result`));
    };
    if ((node.mode ?? 'thread') === 'thread') {
      const w = startWorker(workerUrl, { workerData: request });
      kill = () => void w.terminate();
      w.on('message', onMessage);
      w.on('error', (e) => {
        finished = true;
        reject(new ProgramError(ProgramCodes.spawn, opts.where, `the spawned thread crashed: ${e.message}`, { cause: e }));
      });
      w.on('exit', onExit);
    } else {
      const child: ChildProcess = fork(workerUrl, [], {
        execArgv: childExecArgv(workerUrl),
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      kill = () => {
        if (child.exitCode === null) child.kill('SIGTERM');
      };
      child.on('message', (m) => onMessage(m as SpawnMessage));
      child.on('error', (e) => {
        finished = true;
        reject(new ProgramError(ProgramCodes.spawn, opts.where, `the spawned process failed: ${e.message}`, { cause: e }));
      });
      child.on('exit', onExit);
      child.send(request);
    }
    opts.signal.addEventListener(
      'abort',
      () => {
        if (finished) return;
        finished = true;
        kill();
        reject(new ProgramError(ProgramCodes.aborted, opts.where, 'the spawned fragment was stopped because the program was cancelled'));
      },
      { once: true },
    );
  });
}
