/**
 * ArraySubscriber: receive one topic's array messages (orakle's subscribe_to_arrays).
 * Messages whose topic only shares the prefix are skipped and counted; sequence gaps
 * (messages the publisher sent that we never saw: dropped past a high-water mark or sent
 * before we joined) are counted, never hidden.
 */
import { rmSync } from 'node:fs';
import * as zmq from 'zeromq';
import { ConfigError, ReflexError } from '../core/errors.js';
import { Counters } from '../core/counters.js';
import { OrakleCodes, decodeMessage, type ArrayMessage } from './message.js';

export interface ArraySubscriberOptions {
  topic: string;
  /** ZMQ_RCVHWM (default 1000). */
  receiveHighWaterMark?: number;
}

export interface ReceiveOptions {
  /** Give up after this long and return null; 0 means only what is already queued. */
  timeoutMs?: number;
  /** Abort the wait (rejects with E_ORAKLE_ABORTED); a message arriving later is kept for the next receive. */
  signal?: AbortSignal;
}

export type SubscriberCounter = 'received' | 'gaps' | 'otherTopic';

export class ArraySubscriber {
  readonly topic: string;
  readonly socket: zmq.Subscriber;
  readonly counters = new Counters<SubscriberCounter>();
  /** The most recent message received, or null. */
  latest: ArrayMessage | null = null;
  #lastSeq = -1;
  /** A native receive left pending by an aborted wait; the next receive takes it over. */
  #inflight: Promise<Buffer[]> | null = null;
  readonly #ipcFiles: string[] = [];

  constructor(opts: ArraySubscriberOptions) {
    if (typeof opts.topic !== 'string' || opts.topic.length === 0)
      throw new ConfigError(OrakleCodes.topic, 'ArraySubscriber: topic must be a non-empty string');
    this.topic = opts.topic;
    this.socket = new zmq.Subscriber({ receiveHighWaterMark: opts.receiveHighWaterMark ?? 1000, linger: 0 });
    this.socket.subscribe(opts.topic);
  }

  connect(endpoint: string): void {
    this.socket.connect(endpoint);
  }

  /** Bind; an ipc socket file made here is removed again by close(). */
  async bind(endpoint: string): Promise<string> {
    await this.socket.bind(endpoint);
    const bound = this.socket.lastEndpoint ?? endpoint;
    if (bound.startsWith('ipc://')) this.#ipcFiles.push(bound.slice('ipc://'.length));
    return bound;
  }

  /** Next message on our topic; null on timeout. */
  async receive(opts: ReceiveOptions = {}): Promise<ArrayMessage | null> {
    for (;;) {
      const frames = await this.#receiveFrames(opts);
      if (frames === null) return null;
      const msg = decodeMessage(frames);
      if (msg.topic !== this.topic) {
        this.counters.inc('otherTopic');
        continue;
      }
      if (this.#lastSeq >= 0 && msg.seq > this.#lastSeq + 1) this.counters.inc('gaps', msg.seq - this.#lastSeq - 1);
      // A seq at or below the last one means the publisher restarted: start counting afresh.
      this.#lastSeq = msg.seq;
      this.counters.inc('received');
      this.latest = msg;
      return msg;
    }
  }

  /** Everything already queued, oldest first (orakle's empty_subscriber). */
  async drain(): Promise<ArrayMessage[]> {
    const out: ArrayMessage[] = [];
    for (;;) {
      const m = await this.receive({ timeoutMs: 0 });
      if (m === null) return out;
      out.push(m);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ArrayMessage, void, undefined> {
    while (!this.socket.closed) {
      let m: ArrayMessage | null;
      try {
        m = await this.receive();
      } catch (err) {
        if (this.socket.closed) return; // closing the socket is how iteration ends
        throw err;
      }
      if (m !== null) yield m;
    }
  }

  close(): void {
    if (!this.socket.closed) this.socket.close();
    // libzmq leaves a bound ipc socket file behind.
    for (const f of this.#ipcFiles.splice(0)) rmSync(f, { force: true });
  }

  async #receiveFrames(opts: ReceiveOptions): Promise<Buffer[] | null> {
    const { timeoutMs, signal } = opts;
    if (signal?.aborted) throw aborted(signal);
    if (this.#inflight === null && signal === undefined) {
      // The native timeout settles the receive itself, so nothing is left pending.
      this.socket.receiveTimeout = timeoutMs ?? -1;
      try {
        return await this.socket.receive();
      } catch (err) {
        if ((err as { code?: string }).code === 'EAGAIN' && !this.socket.closed) return null;
        throw err;
      }
    }
    if (this.#inflight === null) {
      this.socket.receiveTimeout = -1;
      const p = this.socket.receive();
      // Marks the rejection handled while nobody waits; the next receive still sees it.
      p.catch(() => undefined);
      this.#inflight = p;
    }
    const p = this.#inflight;
    const got = await raceWait(p, timeoutMs, signal);
    if (got === TIMEOUT) return null;
    if (got === ABORTED) throw aborted(signal!);
    this.#inflight = null;
    return got;
  }
}

const TIMEOUT = Symbol('timeout');
const ABORTED = Symbol('aborted');

function raceWait<V>(p: Promise<V>, timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<V | typeof TIMEOUT | typeof ABORTED> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => finish(ABORTED);
    const finish = (v: V | typeof TIMEOUT | typeof ABORTED | Promise<V>): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(TIMEOUT), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // A rejected p: resolving with p itself passes its rejection on untouched.
    p.then(finish, () => finish(p));
  });
}

export function aborted(signal: AbortSignal): ReflexError {
  return new ReflexError(OrakleCodes.aborted, 'stopped by its AbortSignal', { cause: signal.reason });
}
