/**
 * ZmqStreamer: run a described Streamer in a child process and consume its items here over
 * ZeroMQ (PUSH in the child, PULL here; ipc or loopback tcp). Typed arrays travel as raw
 * frames (see zmq-codec.ts); both sockets' high-water marks bound how far the producer runs
 * ahead. Each `iterate()` forks one child; the iterator owns it and never leaves it behind:
 * ending, `return()` (a `break` in for-await) and errors all wait for the child to exit,
 * killing it after `stopTimeoutMs`. A child that outlives its parent sees the IPC channel
 * close and stops.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { ConfigError, ReflexError } from '../core/errors.js';
import { childExecArgv, entryUrl } from '../core/worker.js';
import { RemoteStreamError, StreamCodes, checkMaxIter } from './errors.js';
import { DONE } from './iterators.js';
import type { StreamerSpec } from './streamer.js';
import type { Source } from './types.js';
import { decodeItem, parseHeader, type WireItem } from './zmq-codec.js';
import type { ParentMessage, WorkerMessage, WorkerStart } from './zmq-worker.js';

export interface ZmqStreamOptions {
  /** 'ipc' (default: a socket file under the OS temp dir) or 'tcp' (127.0.0.1, a free port). */
  transport?: 'ipc' | 'tcp';
  /** Items queued on each side before the producer blocks (ZMQ_SNDHWM / ZMQ_RCVHWM). Default 8. */
  highWaterMark?: number;
  /** Copy arrays in the producer before sending; needed when its generator reuses buffers. Default false. */
  copy?: boolean;
  /** How long a stopping child may take before SIGKILL, ms. Default 3000. */
  stopTimeoutMs?: number;
  /** After the child exits, how long to wait for its last messages before reporting it gone, ms. Default 2000. */
  exitGraceMs?: number;
  /** Node flags for the child; default: this process's own (so a tsx loader carries over), plus tsx's when running from .ts sources without it. */
  execArgv?: readonly string[];
}

export class ZmqStreamer<T extends WireItem = WireItem> implements Source<T> {
  readonly spec: StreamerSpec;
  readonly opts: Required<Omit<ZmqStreamOptions, 'execArgv'>> & { execArgv: readonly string[] };

  /** `streamer`: a described Streamer (or anything with toSpec()), or its spec. */
  constructor(streamer: { toSpec(): StreamerSpec } | StreamerSpec, opts: ZmqStreamOptions = {}) {
    this.spec = 'toSpec' in streamer ? streamer.toSpec() : { module: streamer.module, export: streamer.export, args: streamer.args };
    const hwm = opts.highWaterMark ?? 8;
    if (!Number.isInteger(hwm) || hwm < 1) throw new ConfigError(StreamCodes.hwm, `highWaterMark must be an integer >= 1, got ${hwm}`);
    const transport = opts.transport ?? 'ipc';
    if (transport !== 'ipc' && transport !== 'tcp')
      throw new ConfigError(StreamCodes.transport, `transport must be 'ipc' or 'tcp', got "${String(transport)}"`);
    this.opts = {
      transport,
      highWaterMark: hwm,
      copy: opts.copy ?? false,
      stopTimeoutMs: opts.stopTimeoutMs ?? 3000,
      exitGraceMs: opts.exitGraceMs ?? 2000,
      execArgv: opts.execArgv ?? childExecArgv(workerUrl),
    };
  }

  iterate(maxIter?: number): ZmqStreamIterator<T> {
    const max = checkMaxIter(maxIter);
    return new ZmqStreamIterator<T>(this, Number.isFinite(max) ? max : null);
  }

  [Symbol.asyncIterator](): ZmqStreamIterator<T> {
    return this.iterate();
  }
}

/** The producer's entry: zmq-worker.ts under tsx, zmq-worker.js once compiled. */
const workerUrl = entryUrl('zmq-worker', import.meta.url);

export interface ZmqStreamStats {
  received: number;
  /** Arrays copied on receipt because their frame was not aligned for the element type. */
  copies: number;
}

export class ZmqStreamIterator<T extends WireItem> implements AsyncIterableIterator<T> {
  /** 'backpressure' (at: number): the producer first blocked on a full queue after `at` items. */
  readonly events = new EventEmitter();
  readonly stats: ZmqStreamStats = { received: 0, copies: 0 };
  readonly #owner: ZmqStreamer<T>;
  readonly #maxIter: number | null;
  #pull: zmq.Pull | null = null;
  #child: ChildProcess | null = null;
  #exited: Promise<void> | null = null;
  #exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null = null;
  #receiving = false;
  #graceTimer: NodeJS.Timeout | null = null;
  #starting: Promise<void> | null = null;
  #done = false;
  #endpoint: string | null = null;
  #pid: number | undefined = undefined;
  #ipcPath: string | null = null;

  constructor(owner: ZmqStreamer<T>, maxIter: number | null) {
    this.#owner = owner;
    this.#maxIter = maxIter;
  }

  /** The child's pid once started. */
  get pid(): number | undefined {
    return this.#pid;
  }
  get endpoint(): string | null {
    return this.#endpoint;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE;
    this.#starting ??= this.#start();
    await this.#starting;
    const pull = this.#pull!;
    let frames: Buffer[];
    try {
      if (this.#exit !== null) pull.receiveTimeout = this.#owner.opts.exitGraceMs;
      this.#receiving = true;
      frames = await pull.receive();
    } catch (err) {
      await this.#shutdown();
      if (this.#exit !== null) throw this.#exitError(err);
      throw err;
    } finally {
      this.#receiving = false;
      if (this.#graceTimer !== null) clearTimeout(this.#graceTimer);
      this.#graceTimer = null;
    }
    let h;
    try {
      h = parseHeader(frames[0]);
      if (h.t === 'i') {
        const value = decodeItem(h, frames, () => this.stats.copies++) as T;
        this.stats.received++;
        return { done: false, value };
      }
    } catch (err) {
      await this.#shutdown();
      throw err;
    }
    await this.#shutdown();
    if (h.t === 'x') throw new RemoteStreamError(h);
    return DONE;
  }

  /** Stop early: tells the child to stop, waits for it to exit (SIGKILL after stopTimeoutMs). */
  async return(): Promise<IteratorResult<T>> {
    if (this.#starting !== null) await this.#starting.catch(() => undefined); // a failed start already shut down
    await this.#shutdown();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #start(): Promise<void> {
    const o = this.#owner.opts;
    const pull = new zmq.Pull({ receiveHighWaterMark: o.highWaterMark, linger: 0 });
    this.#pull = pull;
    if (o.transport === 'ipc') this.#ipcPath = join(tmpdir(), `reflex-zs-${process.pid}-${randomBytes(6).toString('hex')}.ipc`);
    const address = this.#ipcPath === null ? 'tcp://127.0.0.1:*' : `ipc://${this.#ipcPath}`;
    try {
      await pull.bind(address);
    } catch (err) {
      this.#done = true;
      pull.close();
      throw new ReflexError(StreamCodes.workerStart, `worker stream: cannot bind ${address}: ${(err as Error).message}`, { cause: err });
    }
    this.#endpoint = pull.lastEndpoint;
    const child = fork(workerUrl, [], { execArgv: [...o.execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    this.#child = child;
    this.#pid = child.pid;
    this.#exited = new Promise<void>((resolve) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.#exit ??= { code, signal };
        resolve();
        this.#onChildGone();
      };
      child.once('exit', onExit);
      child.on('error', (error) => {
        // Spawn failures emit 'error' and no 'exit'.
        if (child.pid === undefined) {
          this.#exit = { code: null, signal: null, error };
          resolve();
          this.#onChildGone();
        }
      });
    });
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'blocked') this.events.emit('backpressure', m.at);
    });
    const start: WorkerStart = {
      type: 'start',
      spec: this.#owner.spec,
      endpoint: this.#endpoint!,
      highWaterMark: o.highWaterMark,
      maxIter: this.#maxIter,
      copy: o.copy,
      flushMs: o.stopTimeoutMs,
    };
    this.#send(child, start);
  }

  /** A receive still waiting after the grace period means nothing more is coming: unblock it. */
  #onChildGone(): void {
    if (this.#done || !this.#receiving || this.#graceTimer !== null) return;
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = null;
      if (this.#receiving && this.#pull !== null && !this.#pull.closed) this.#pull.close();
    }, this.#owner.opts.exitGraceMs);
  }

  #exitError(cause: unknown): ReflexError {
    const e = this.#exit!;
    const how = e.error ? `could not start (${e.error.message})` : e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    return new ReflexError(StreamCodes.workerExit, `worker stream: the producer process ${how} before ending its stream; see its stderr above`, { cause });
  }

  #send(child: ChildProcess | null, m: ParentMessage): void {
    // A failed write means the channel broke; the child then sees 'disconnect' and exits,
    // and that exit is what gets reported, so the write error itself carries nothing more.
    if (child !== null && child.connected) child.send(m, () => undefined);
  }

  async #shutdown(): Promise<void> {
    if (this.#done && this.#child === null) return;
    this.#done = true;
    if (this.#graceTimer !== null) clearTimeout(this.#graceTimer);
    this.#graceTimer = null;
    const pull = this.#pull;
    if (pull !== null && !pull.closed) pull.close();
    // libzmq leaves the socket file behind when a bound ipc socket closes.
    if (this.#ipcPath !== null) rmSync(this.#ipcPath, { force: true });
    this.#ipcPath = null;
    const child = this.#child;
    const exited = this.#exited;
    this.#child = null;
    if (child === null || exited === null) return;
    if (this.#exit === null) {
      this.#send(child, { type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#owner.opts.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    if (child.connected) child.disconnect();
  }
}
