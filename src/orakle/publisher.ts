/**
 * ArrayPublisher: publish float arrays on one topic with a status flag, a sequence number and
 * a monotonic timestamp (orakle's publish_arrays). Uses an XPUB socket so `waitForSubscribers`
 * can wait for subscriptions to arrive instead of losing the first messages (slow joiner).
 */
import { rmSync } from 'node:fs';
import * as zmq from 'zeromq';
import { ConfigError, ReflexError } from '../core/errors.js';
import { monotonicMs } from '../time/monotonic.js';
import { MAX_NDIM, OrakleCodes, Status, headerSize, writeHeader, type ArrayDtype, type FloatArray, type StatusCode } from './message.js';

export interface ArrayPublisherOptions {
  topic: string;
  /** Element type of every array sent (default 'float32'). */
  dtype?: ArrayDtype;
  /** Default shape when publish() gives none: [length] otherwise. */
  shape?: readonly number[];
  /** ZMQ_SNDHWM per subscriber; PUB drops for a subscriber past it (default 1000). */
  sendHighWaterMark?: number;
  /**
   * Copy each array before sending (default true). zeromq.js sends arrays over 128 bytes from
   * their own memory after publish() returns, so only set false if arrays are never reused.
   */
  copy?: boolean;
}

export interface PublishOptions {
  status?: StatusCode;
  /** Default: now (monotonicMs). Pass the source sample's time to carry it downstream. */
  timestampMs?: number;
  shape?: readonly number[];
}

export class ArrayPublisher {
  readonly topic: string;
  readonly dtype: ArrayDtype;
  readonly socket: zmq.XPublisher;
  readonly #shape: readonly number[] | undefined;
  readonly #copy: boolean;
  readonly #headers = new Map<number, Buffer>();
  readonly #scratchShape: number[] = [0];
  #seq = 0;
  #subscriptions = 0;
  #waiters: { n: number; resolve: () => void }[] = [];
  #reading = false;
  readonly #ipcFiles: string[] = [];

  constructor(opts: ArrayPublisherOptions) {
    if (typeof opts.topic !== 'string' || opts.topic.length === 0) throw new ConfigError(OrakleCodes.topic, 'ArrayPublisher: topic must be a non-empty string');
    const dtype = opts.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64')
      throw new ConfigError(OrakleCodes.dtype, `ArrayPublisher: dtype must be 'float32' or 'float64', got "${String(dtype)}"`);
    this.topic = opts.topic;
    this.dtype = dtype;
    this.#shape = opts.shape?.slice();
    this.#copy = opts.copy ?? true;
    this.socket = new zmq.XPublisher({ sendHighWaterMark: opts.sendHighWaterMark ?? 1000, linger: 0 });
    this.socket.verbosity = 'allSubs';
  }

  /** Messages published so far (the next message's seq). */
  get seq(): number {
    return this.#seq;
  }

  /** Bind; an ipc socket file made here is removed again by close(). */
  async bind(endpoint: string): Promise<string> {
    await this.socket.bind(endpoint);
    const bound = this.socket.lastEndpoint ?? endpoint;
    if (bound.startsWith('ipc://')) this.#ipcFiles.push(bound.slice('ipc://'.length));
    return bound;
  }

  connect(endpoint: string): void {
    this.socket.connect(endpoint);
  }

  /** Resolve once `n` subscriptions matching our topic have arrived (counted since creation). */
  async waitForSubscribers(n = 1, opts: { timeoutMs?: number } = {}): Promise<void> {
    this.#readSubscriptions();
    if (this.#subscriptions >= n) return;
    await new Promise<void>((resolve, reject) => {
      const w = { n, resolve };
      this.#waiters.push(w);
      if (opts.timeoutMs !== undefined) {
        setTimeout(() => {
          const i = this.#waiters.indexOf(w);
          if (i < 0) return;
          this.#waiters.splice(i, 1);
          reject(
            new ReflexError(
              OrakleCodes.timeout,
              `ArrayPublisher "${this.topic}": ${this.#subscriptions} of ${n} subscriber(s) after ${opts.timeoutMs} ms; ` +
                "check the subscribers' endpoint and topic",
            ),
          );
        }, opts.timeoutMs).unref();
      }
    });
  }

  /** Publish one array. An empty array goes out as INVALID, whatever `status` says (orakle's rule). */
  async publish(data: FloatArray, opts: PublishOptions = {}): Promise<void> {
    if ((this.dtype === 'float32') !== data instanceof Float32Array || !(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new ReflexError(OrakleCodes.dtype, `ArrayPublisher "${this.topic}" sends ${this.dtype}, got ${(data as object)?.constructor?.name}`);
    }
    let shape = opts.shape ?? this.#shape;
    if (shape === undefined) {
      this.#scratchShape[0] = data.length;
      shape = this.#scratchShape;
    }
    if (shape.length > MAX_NDIM) throw new ReflexError(OrakleCodes.shape, `ArrayPublisher "${this.topic}": at most ${MAX_NDIM} dimensions`);
    let n = 1;
    for (let i = 0; i < shape.length; i++) n *= shape[i]!;
    if (n !== data.length)
      throw new ReflexError(OrakleCodes.shape, `ArrayPublisher "${this.topic}": shape [${shape.join(', ')}] holds ${n} values, the array has ${data.length}`);
    const status = data.length === 0 ? Status.INVALID : (opts.status ?? Status.OK);
    let header = this.#headers.get(shape.length);
    if (header === undefined) {
      header = Buffer.alloc(headerSize(shape.length));
      this.#headers.set(shape.length, header);
    }
    writeHeader(header, status, this.dtype, this.#seq, opts.timestampMs ?? monotonicMs(), shape);
    this.#seq++;
    const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // The header buffer is reused: zeromq.js copies frames under 128 bytes while send() runs.
    await this.socket.send([this.topic, header, this.#copy ? body.slice() : body]);
  }

  close(): void {
    if (!this.socket.closed) this.socket.close();
    // libzmq leaves a bound ipc socket file behind.
    for (const f of this.#ipcFiles.splice(0)) rmSync(f, { force: true });
  }

  #readSubscriptions(): void {
    if (this.#reading) return;
    this.#reading = true;
    void (async () => {
      try {
        for await (const [msg] of this.socket) {
          if (msg === undefined || msg[0] !== 1) continue;
          const prefix = msg.subarray(1).toString('utf8');
          if (!this.topic.startsWith(prefix)) continue;
          this.#subscriptions++;
          this.#waiters = this.#waiters.filter((w) => {
            if (this.#subscriptions < w.n) return true;
            w.resolve();
            return false;
          });
        }
      } finally {
        this.#reading = false;
      }
    })();
  }
}
