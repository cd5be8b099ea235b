/**
 * Fake data-ready edges that cross threads, for driving the ADS1299 reader thread in tests and
 * the benchmark. An edge queue in shared memory stands in for the kernel's line-event buffer
 * (16 events per line by default; an edge arriving when it is full is dropped, as the kernel
 * drops it), with the number of the chip's latest conversion beside it (what the datasheet model
 * clocks out, FakeAds1299's `conversionClock`). The producer is the oscillator thread below (the
 * chip's clock and the GPIO interrupt); the consumer is a GpioInputLine in the reader thread that
 * sleeps on the queue with Atomics.waitAsync, so its event loop (stall checks, control messages)
 * keeps running.
 */
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import type { LineRef } from '../../boards/types.js';
import { startWorker } from '../../core/worker.js';
import type { EdgeListener, GpioInputLine, Level } from '../../hal/gpio.js';
import { applyThreadPriority } from '../../loop/priority.js';
import { monotonicMs } from '../../time/monotonic.js';

/** ctl (Int32Array) indices. */
const HEAD = 0;
const TAIL = 1;
/** Edges dropped because the queue was full. */
const OVERFLOW = 2;
/** The chip's latest conversion since START (-1: none). */
const CONV = 3;
/** Edges whose grid point the oscillator thread overslept; its worst lateness, ns. */
const SIM_LATE = 4;
const SIM_WORST_NS = 5;
const CTL_INTS = 8;

/** The kernel's line-event buffer: 16 events per requested line by default. */
export const KERNEL_EDGE_QUEUE = 16;

/** Plain data (structured-cloneable): a queue both threads map. */
export interface EdgeQueueBuffers {
  ctl: SharedArrayBuffer;
  stamps: SharedArrayBuffer;
  size: number;
  /** Optional (Float64Array): for the i-th edge taken, how long after its stamp the reader took it, ms (the benchmark's service latency). */
  service?: SharedArrayBuffer;
}

/** `size`: a power of two, so slot indices stay continuous when the int32 counters wrap. */
export function allocEdgeQueue(size = KERNEL_EDGE_QUEUE, opts: { serviceLog?: number } = {}): EdgeQueueBuffers {
  if (size < 1 || (size & (size - 1)) !== 0) throw new RangeError(`edge queue size must be a power of two, got ${size}`);
  const q: EdgeQueueBuffers = { ctl: new SharedArrayBuffer(4 * CTL_INTS), stamps: new SharedArrayBuffer(8 * size), size };
  if (opts.serviceLog) q.service = new SharedArrayBuffer(8 * opts.serviceLog);
  new Int32Array(q.ctl)[CONV] = -1;
  return q;
}

/** What the queue's producer side counted. */
export function edgeQueueStats(q: EdgeQueueBuffers): { overflows: number; simLateEdges: number; simWorstLateUs: number; conversion: number } {
  const c = new Int32Array(q.ctl);
  return {
    overflows: Atomics.load(c, OVERFLOW),
    simLateEdges: Atomics.load(c, SIM_LATE),
    simWorstLateUs: Atomics.load(c, SIM_WORST_NS) / 1000,
    conversion: Atomics.load(c, CONV),
  };
}

/** The chip's latest conversion number as the queue's producer published it (for FakeAds1299's conversionClock). */
export function conversionClockOf(q: EdgeQueueBuffers): () => number {
  const c = new Int32Array(q.ctl);
  return () => Atomics.load(c, CONV);
}

// Node 20 has Atomics.waitAsync; TypeScript's ES2022 lib does not declare it.
type WaitAsync = (view: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * The data-ready line in the reader thread: falling edges with the producer's stamps
 * (`edgeClock` 'fake'). Edges are taken in order as soon as the thread runs.
 */
export class SharedEdgeLine implements GpioInputLine {
  readonly ref: LineRef;
  readonly edgeClock = 'fake';
  readonly #ctl: Int32Array;
  readonly #stamps: Float64Array;
  readonly #size: number;
  readonly #service: Float64Array | null;
  #taken = 0;
  readonly #listeners: EdgeListener[] = [];
  readonly #pump = (): void => this.#take();
  #level: Level = 1;
  #waiting = false;
  #closed = false;

  constructor(ref: LineRef, q: EdgeQueueBuffers) {
    this.ref = ref;
    this.#ctl = new Int32Array(q.ctl);
    this.#stamps = new Float64Array(q.stamps);
    this.#size = q.size;
    this.#service = q.service ? new Float64Array(q.service) : null;
  }

  read(): Level {
    return this.#level;
  }

  watch(listener: EdgeListener): void {
    this.#listeners.push(listener);
    if (!this.#waiting) this.#take();
  }

  close(): void {
    this.#closed = true;
  }

  #take(): void {
    this.#waiting = false;
    const ctl = this.#ctl;
    for (;;) {
      if (this.#closed) return;
      let tail = Atomics.load(ctl, TAIL);
      const head = Atomics.load(ctl, HEAD);
      while (tail !== head) {
        const stamp = this.#stamps[tail & (this.#size - 1)]!;
        tail = (tail + 1) | 0;
        Atomics.store(ctl, TAIL, tail);
        if (this.#service && this.#taken < this.#service.length) this.#service[this.#taken++] = monotonicMs() - stamp;
        this.#level = 0;
        for (const l of this.#listeners) l(0, stamp);
      }
      // The bounded wait lets a closed line's thread end; a wake-up with nothing new just waits again.
      const w = waitAsync(ctl, HEAD, head, 250);
      if (w.async) {
        this.#waiting = true;
        void (w.value as Promise<string>).then(this.#pump);
        return;
      }
    }
  }
}

/** The oscillator thread's plan: conversion k at t0 + k periods, for `count` conversions. */
export interface OscillatorConfig {
  periodMs: number;
  count: number;
  queue: EdgeQueueBuffers;
  /** Every edge's stamp by conversion number (Float64Array), to check the reader stamped each sample with its own edge's. */
  kernel?: SharedArrayBuffer;
  /** 1 for each conversion whose grid point the thread overslept (Uint8Array). */
  overslept?: SharedArrayBuffer;
  /** SCHED_FIFO priority for this thread (it stands in for hardware, which is never late). */
  fifo?: number;
}

interface OscillatorData extends OscillatorConfig {
  role: 'ads1299-oscillator';
}

export interface Oscillator {
  /** SCHED_FIFO as applied, or why not. */
  readonly priority: string;
  /** Starts the grid at `t0` (monotonicMs()); resolves after the last conversion. */
  run(t0: number): Promise<void>;
  terminate(): Promise<number>;
}

/** Starts the oscillator thread and resolves when it is ready to run. */
export function startOscillator(cfg: OscillatorConfig): Promise<Oscillator> {
  const worker: Worker = startWorker(new URL(import.meta.url), { workerData: { ...cfg, role: 'ads1299-oscillator' } satisfies OscillatorData });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { priority: string }) => {
      worker.off('error', reject);
      resolve({
        priority: m.priority,
        run: (t0) =>
          new Promise<void>((done, fail) => {
            worker.once('error', fail);
            worker.once('message', () => done());
            worker.postMessage(t0);
          }),
        terminate: () => worker.terminate(),
      });
    });
  });
}

if (!isMainThread && (workerData as OscillatorData | undefined)?.role === 'ads1299-oscillator') {
  const cfg = workerData as OscillatorData;
  const prio = cfg.fifo === undefined ? null : applyThreadPriority({ fifo: cfg.fifo });
  parentPort!.once('message', (t0: number) => {
    oscillate(cfg, t0);
    parentPort!.postMessage('done');
  });
  parentPort!.postMessage({ priority: prio === null ? 'normal' : prio.applied.join(', ') || `none (${prio.failed.join('; ')})` });
}

/**
 * Conversion k at t0 + k periods: publish it as the latest, stamp its edge and queue it. The
 * stamp is the moment this thread got there (its own interrupt latency, measured) while that is
 * within 0.1 period of the grid point. A thread descheduled longer is not a chip running late
 * (its oscillator never is): the conversions went on at their grid points and the kernel stamped
 * their edges there, so those edges get their grid times, the latest conversion is published
 * (the earlier frames overwritten, as for a host that was away that long), and SIM_LATE counts
 * them.
 */
function oscillate(cfg: OscillatorConfig, t0: number): void {
  const ctl = new Int32Array(cfg.queue.ctl);
  const stamps = new Float64Array(cfg.queue.stamps);
  const size = cfg.queue.size;
  const kernel = cfg.kernel ? new Float64Array(cfg.kernel) : null;
  const overslept = cfg.overslept ? new Uint8Array(cfg.overslept) : null;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const tolerance = 0.1 * cfg.periodMs;
  let worst = 0;
  for (let k = 0; k < cfg.count;) {
    const target = t0 + k * cfg.periodMs;
    // Sleep to 150 µs before the grid point, then spin: a sleep alone wakes too late.
    const wait = target - monotonicMs() - 0.15;
    if (wait > 0.05) Atomics.wait(sleeper, 0, 0, wait);
    while (monotonicMs() < target);
    const now = monotonicMs();
    const late = now - target;
    if (late > worst) worst = late;
    const latest = late <= tolerance ? k : Math.min(cfg.count - 1, Math.floor((now - t0) / cfg.periodMs));
    Atomics.store(ctl, CONV, latest);
    for (; k <= latest; k++) {
      const stamp = late <= tolerance ? now : t0 + k * cfg.periodMs;
      if (late > tolerance) {
        Atomics.add(ctl, SIM_LATE, 1);
        if (overslept) overslept[k] = 1;
      }
      if (kernel) kernel[k] = stamp;
      const head = Atomics.load(ctl, HEAD);
      if (((head - Atomics.load(ctl, TAIL)) | 0) < size) {
        stamps[head & (size - 1)] = stamp;
        Atomics.store(ctl, HEAD, (head + 1) | 0);
      } else {
        Atomics.add(ctl, OVERFLOW, 1);
      }
    }
    Atomics.notify(ctl, HEAD);
  }
  Atomics.store(ctl, SIM_WORST_NS, Math.min(2 ** 31 - 1, Math.round(worst * 1e6)));
}
