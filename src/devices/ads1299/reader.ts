/**
 * The main thread's handle on the ADS1299 reader thread (reader-worker.ts): starts it, drains the
 * shared ring into SampleBlocks (one preallocated block per size, as the device makes them) and
 * re-emits the device's events in order: samples, gaps, state. Counters live in shared memory
 * and are read directly.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { createBlock, type SampleBlock } from '../../core/block.js';
import type { ErrorCode } from '../../core/codes.js';
import { ReflexError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { entryUrl, startWorker } from '../../core/worker.js';
import { Ads1299Codes } from './codes.js';
import { ADS1299_COUNTER_KEYS, COUNTER_INDEX, type Ads1299CounterKey, type Ads1299DeviceEvents } from './device.js';
import type { Ads1299ReaderConfig, ReaderCommand, ReaderMessage, ReaderWorkerData } from './reader-protocol.js';
import { allocRing, RingReader, type RingGap, type RingRecordSink } from './ring.js';

export type { Ads1299ReaderConfig } from './reader-protocol.js';

export interface Ads1299ReaderOptions {
  config: Ads1299ReaderConfig;
  log: Logger;
  /** How long the ring holds when the main thread does not drain it, ms (default 2000). */
  ringMs?: number;
}

export class Ads1299Reader extends EventEmitter<Ads1299DeviceEvents> {
  readonly rate: number;
  readonly channels: number;
  readonly blockSamples: number;
  /** Records the ring holds. */
  readonly ringSlots: number;
  readonly #cfg: Ads1299ReaderConfig;
  readonly #log: Logger;
  readonly #ring: RingReader;
  readonly #ringBuffers: ReturnType<typeof allocRing>;
  readonly #counters: Float64Array;
  readonly #countersBuf: SharedArrayBuffer;
  readonly #blocks = new Map<number, SampleBlock>();
  readonly #sink: RingRecordSink;
  #blockSeq = 0;
  #worker: Worker | null = null;
  #pending: Array<{ cmd: ReaderCommand['cmd']; resolve: () => void; reject: (e: Error) => void }> = [];
  #priority = '';
  #edgeClock = '';
  #tid = -1;
  #exited: Promise<void> = Promise.resolve();

  constructor(opts: Ads1299ReaderOptions) {
    super();
    this.#cfg = opts.config;
    this.#log = opts.log;
    const src = opts.config.source;
    this.rate = src.rate;
    this.channels = src.channels;
    this.blockSamples = src.blockSamples ?? Math.max(1, Math.round(this.rate / 250));
    const ringMs = opts.ringMs ?? 2000;
    // Blocks, plus a gap record per block at worst.
    const slots = Math.max(8, Math.ceil((2 * ringMs * this.rate) / 1000 / this.blockSamples));
    this.#ringBuffers = allocRing(slots, this.channels * this.blockSamples);
    this.ringSlots = this.#ringBuffers.slots;
    this.#ring = new RingReader(this.#ringBuffers);
    this.#countersBuf = new SharedArrayBuffer(8 * ADS1299_COUNTER_KEYS.length);
    this.#counters = new Float64Array(this.#countersBuf);
    this.#sink = {
      block: (first, samples, channels, arrivalMs, data, offset) => this.#emitBlock(first, samples, channels, arrivalMs, data, offset),
      gap: (g) => this.#emitGap(g),
    };
  }

  counter(key: Ads1299CounterKey): number {
    return this.#counters[COUNTER_INDEX[key]]!;
  }

  /** The reader thread's scheduling as applied (or why not), its edge clock and thread id: for describe(). */
  get thread(): { priority: string; edgeClock: string; tid: number } {
    return { priority: this.#priority, edgeClock: this.#edgeClock, tid: this.#tid };
  }

  /** Starts the reader thread; resolves once the chip streams, rejects with its error (E_ADS1299_ID, E_SPI_UNAVAILABLE...). */
  start(): Promise<void> {
    if (this.#worker) return Promise.reject(new Error('ads1299 reader already started'));
    const data: ReaderWorkerData = {
      role: 'ads1299-reader',
      config: this.#cfg,
      ring: this.#ringBuffers,
      counters: this.#countersBuf,
      log: this.#log.settings(),
    };
    const worker = startWorker(entryUrl('reader-worker', import.meta.url), { workerData: data });
    this.#worker = worker;
    this.#exited = new Promise((r) => worker.once('exit', () => r()));
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: ReaderMessage) => {
        // Records first: a state change or a reply comes after the samples written before it.
        this.drain();
        if (m.type === 'started') {
          started = true;
          this.#priority = m.priority;
          this.#edgeClock = m.edgeClock;
          this.#tid = m.tid;
          resolve();
        } else if (m.type === 'failed') {
          reject(new ReflexError(m.code as ErrorCode, m.message));
          void this.#terminate();
        } else if (m.type === 'state') {
          this.emit('state', m.state, { ...(m.reason && { reason: m.reason }), ...(m.code && { code: m.code }) });
        } else if (m.type === 'log') {
          // Already rate-limited in the reader thread, per its own keys.
          this.#log.log(m.level, m.message);
        } else if (m.type === 'done') {
          const i = this.#pending.findIndex((p) => p.cmd === m.cmd);
          const p = i >= 0 ? this.#pending.splice(i, 1)[0] : undefined;
          if (m.error !== undefined) p?.reject(new Error(m.error));
          else p?.resolve();
        }
      });
      worker.on('error', (err) => {
        this.#log.error(`ads1299 reader thread failed: ${err.message}`);
        if (!started) reject(err);
        else this.emit('state', 'reconnecting', { reason: `reader thread failed: ${err.message}`, code: Ads1299Codes.reader });
        this.#failPending(err);
      });
      worker.on('exit', () => {
        this.#worker = null;
        this.#failPending(new Error('ads1299 reader thread exited'));
        if (!started) reject(new Error('ads1299 reader thread exited before it started'));
      });
    });
  }

  /**
   * Hands every record in the ring to listeners; returns how many. Called on the reader's
   * wake-ups; callers may call it at any time (the benchmark after its busy task).
   */
  drain(): number {
    return this.#ring.drain(this.#sink);
  }

  stop(): Promise<void> {
    return this.#command('stop');
  }

  resume(): Promise<void> {
    return this.#command('resume');
  }

  /** Stops conversions, closes the line and the bus in the reader thread, and ends it. */
  async close(): Promise<void> {
    if (!this.#worker) return;
    try {
      await this.#command('close');
    } catch (err) {
      this.#log.error(`ads1299 reader thread did not close cleanly: ${(err as Error).message}`);
    }
    this.drain();
    await this.#terminate();
  }

  async #terminate(): Promise<void> {
    const w = this.#worker;
    if (w) await w.terminate();
    await this.#exited;
  }

  #command(cmd: ReaderCommand['cmd']): Promise<void> {
    const w = this.#worker;
    if (!w) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ cmd, resolve, reject });
      w.postMessage({ cmd } satisfies ReaderCommand);
    });
  }

  #failPending(err: Error): void {
    const p = this.#pending;
    this.#pending = [];
    for (const x of p) x.reject(err);
  }

  #emitBlock(firstSample: number, n: number, channels: number, arrivalMs: number, data: Float32Array, offset: number): void {
    let block = this.#blocks.get(n);
    if (!block) {
      block = createBlock({ stream: 'emg', channels, samples: n, rate: this.rate, unit: 'uV' });
      this.#blocks.set(n, block);
    }
    const out = block.data;
    for (let i = 0, len = n * channels; i < len; i++) out[i] = data[offset + i]!;
    block.firstSample = firstSample;
    block.seq = this.#blockSeq++;
    block.deviceTimeUs = (firstSample * 1e6) / this.rate;
    block.hostTimeMs = Number.NaN;
    block.valid = true;
    this.emit('samples', block, arrivalMs);
  }

  #emitGap(g: RingGap): void {
    this.emit('gap', {
      cause: g.outage ? 'outage' : 'dropped',
      missingSamples: g.missingSamples,
      hostSpanMs: g.hostSpanMs,
      fromSample: g.fromSample,
      toSample: g.toSample,
      deviceReset: g.deviceReset,
    });
  }
}
