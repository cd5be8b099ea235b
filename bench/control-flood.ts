/**
 * `npm run bench -- control-flood [--duration SECONDS] [--rate N] [--clients N]` (defaults: 20 s per
 * phase, 10,000 requests/s per client, 2 clients)
 *
 * The real runtime (Runtime.start, defaultConfig: the simulated board with the host firmware
 * on a pseudo-terminal, the default model, loop at 1 kHz, armed, telemetry and control on
 * free loopback ports) runs --duration seconds untouched, then --duration seconds while DEALER
 * clients in a worker thread (off the runtime's main thread) send `status` as fast as
 * --rate each, paced every millisecond, without waiting for replies. Same run, same process.
 *
 * Figures:
 * - requests_per_s: requests the clients actually handed to ZeroMQ per second (all clients);
 *   not_sent: requests refused by their own full send queue.
 * - answered: replies received (ok + E_BUSY), with answered_ok and answered_busy.
 * - safety_trips: loop safety events that entered safe during the flood (loop.onSafetyEvent),
 *   with their reasons; baseline_safety_trips the same for the quiet phase.
 * - loop_p99_ratio: the loop's lateness p99 under the flood over the quiet phase's. The loop
 *   keeps its lateness over the last 2048 cycles (about 2 s); it is read every 2 s and each
 *   phase's figure is the median of its readings (the first reading of each phase is dropped:
 *   its window straddles the phase change).
 * - main_lag_p99_ms: how late a 10 ms timer on the runtime's main thread fired (p99), per
 *   phase: what ingest and telemetry see. main_thread_cpu_pct: the runtime's main thread's CPU
 *   time per phase (/proc/thread-self/stat), flooder_thread_cpu_pct the flooding thread's:
 *   on a 2-core machine the clients' own cost competes with the runtime.
 * - during_flood_status_ms / during_flood_estop_ms: round trip of a `status`, then an `estop`,
 *   from a third client at the end of the flood, while it still runs.
 * - control.*: the control server's counters at the end (busy, yields, ...).
 */
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Dealer } from 'zeromq';
import { createDecoder, createEncoder } from '../src/telemetry/codec.js';
import { startWorker } from '../src/core/worker.js';

export interface FloodOptions {
  endpoint: string;
  /** DEALER sockets, each its own peer (routing id). */
  clients: number;
  /** Requests per second per client. */
  perClientHz: number;
  /** The command sent (default status). */
  cmd?: string;
}

export interface FloodCounts {
  /** CPU time of the flooding thread, ms. */
  cpuMs: number;
  sent: number;
  notSent: number;
  ok: number;
  busy: number;
  other: number;
  seconds: number;
}

type ToWorker = { type: 'counts' } | { type: 'stop' };
type FromWorker = { type: 'ready' } | { type: 'counts'; counts: FloodCounts };

/** Flooding clients in a worker thread, so the flood's own cost is not on the caller's thread. */
export class Flooder {
  readonly #worker: Worker;
  readonly #waiting: Array<{ type: FromWorker['type']; resolve: (m: FromWorker) => void; reject: (e: Error) => void }> = [];
  #failed: Error | undefined;
  #stopped: Promise<FloodCounts> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: FromWorker) => {
      const i = this.#waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.#waiting.splice(i, 1)[0]!.resolve(m);
    });
    const fail = (e: Error): void => {
      this.#failed = e;
      for (const w of this.#waiting.splice(0)) w.reject(e);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`flooder worker exited (${code})`)));
  }

  static async start(opts: FloodOptions): Promise<Flooder> {
    const worker = startWorker(new URL(import.meta.url), { workerData: { role: 'control-flooder', opts } });
    const f = new Flooder(worker);
    await f.#next('ready');
    return f;
  }

  #next(type: FromWorker['type']): Promise<FromWorker> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => this.#waiting.push({ type, resolve, reject }));
  }

  async counts(): Promise<FloodCounts> {
    const reply = this.#next('counts');
    this.#worker.postMessage({ type: 'counts' } satisfies ToWorker);
    return ((await reply) as Extract<FromWorker, { type: 'counts' }>).counts;
  }

  /** Stops sending, waits briefly for replies still on the way, and returns the final counts (idempotent). */
  stop(): Promise<FloodCounts> {
    this.#stopped ??= (async () => {
      const reply = this.#next('counts');
      this.#worker.postMessage({ type: 'stop' } satisfies ToWorker);
      try {
        return ((await reply) as Extract<FromWorker, { type: 'counts' }>).counts;
      } finally {
        await this.#worker.terminate();
      }
    })();
    return this.#stopped;
  }
}

function runFlooder(opts: FloodOptions): void {
  const port = parentPort!;
  const enc = createEncoder();
  const dec = createDecoder();
  const payload = enc.encode({ id: 1, cmd: opts.cmd ?? 'status' });
  const cpu0 = threadCpuMs();
  const counts: FloodCounts = { cpuMs: 0, sent: 0, notSent: 0, ok: 0, busy: 0, other: 0, seconds: 0 };
  const dealers = Array.from({ length: opts.clients }, () => {
    const d = new Dealer({ linger: 0, sendTimeout: 0, sendHighWaterMark: 10_000, receiveHighWaterMark: 100_000 });
    d.connect(opts.endpoint);
    return d;
  });
  const receiving = dealers.map(async (d) => {
    try {
      for await (const [msg] of d) {
        const r = dec.decode(msg!) as { ok?: boolean; error?: { code?: string } };
        if (r.ok === true) counts.ok++;
        else if (r.error?.code === 'E_BUSY') counts.busy++;
        else counts.other++;
      }
    } catch {
      // closed
    }
  });
  const onSent = (): void => void counts.sent++;
  const onNotSent = (): void => void counts.notSent++;
  let running = true;
  const t0 = performance.now();
  const sending = (async () => {
    const sent = new Array<number>(dealers.length).fill(0);
    while (running) {
      const due = Math.floor(((performance.now() - t0) / 1000) * opts.perClientHz);
      for (let i = 0; i < dealers.length; i++) {
        // sendTimeout 0: each send completes or fails (EAGAIN, queue full) at once, so
        // sends need not be awaited one by one.
        while (sent[i]! < due) {
          sent[i]!++;
          dealers[i]!.send(payload).then(onSent, onNotSent);
        }
      }
      await sleep(1);
    }
  })();
  port.on('message', (m: ToWorker) => {
    counts.seconds = (performance.now() - t0) / 1000;
    counts.cpuMs = threadCpuMs() - cpu0;
    if (m.type === 'counts') {
      port.postMessage({ type: 'counts', counts: { ...counts } } satisfies FromWorker);
      return;
    }
    running = false;
    void (async () => {
      await sending;
      counts.seconds = (performance.now() - t0) / 1000;
      counts.cpuMs = threadCpuMs() - cpu0;
      await sleep(300); // replies already on the wire
      for (const d of dealers) d.close();
      await Promise.all(receiving);
      port.postMessage({ type: 'counts', counts: { ...counts } } satisfies FromWorker);
    })();
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'control-flooder') {
  runFlooder((workerData as { opts: FloodOptions }).opts);
}

/** CPU time (user + system) of a thread of this process, ms; `tid` omitted: the calling thread. */
export function threadCpuMs(tid?: number): number {
  const stat = readFileSync(tid === undefined ? '/proc/thread-self/stat' : `/proc/self/task/${tid}/stat`, 'utf8');
  // Fields after the parenthesised name; utime and stime are fields 14 and 15, in clock ticks (100 Hz on Linux).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Timer lateness on this thread: a 10 ms interval's excess delay, in ms. */
class LagProbe {
  readonly lags: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  start(): void {
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.lags.push(Math.max(0, now - this.#last - 10));
      this.#last = now;
    }, 10);
  }

  stop(): number[] {
    clearInterval(this.#timer);
    return this.lags;
  }
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { benchArgs, log, machine, median, percentile, sortedCopy } = await import('./_util.js');
  const { duration, values } = benchArgs(argv, { duration: 20 });
  const rate = values.rate === undefined ? 10_000 : Number(values.rate);
  const clients = values.clients === undefined ? 2 : Number(values.clients);
  if (!(rate > 0) || !Number.isInteger(clients) || clients < 1) throw new Error('--rate must be > 0 and --clients a positive integer');
  if (duration < 6) throw new Error('--duration must be at least 6 seconds (loop p99 is read every 2 s)');
  const { defaultConfig } = await import('../src/runtime/config.js');
  const { Runtime } = await import('../src/runtime/runtime.js');
  const { Logger } = await import('../src/core/log.js');
  const { emptyStats } = await import('../src/loop/stats.js');

  const cfg = defaultConfig('sim');
  cfg.runtimeId = 'bench-control-flood';
  cfg.loop.rateHz = 1000;
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  const logged: string[] = [];
  const rt = await Runtime.start(cfg, {
    log: new Logger({ level: 'warn', sink: (level, msg) => logged.push(`${level} ${msg}`) }),
    guardProcess: false,
    arm: true,
  });
  try {
    const loop = rt.loop;
    if (!loop) throw new Error('the runtime started without a loop');
    type Phase = 'warmup' | 'baseline' | 'flood' | 'after';
    let phase: Phase = 'warmup';
    const trips: Record<Phase, string[]> = { warmup: [], baseline: [], flood: [], after: [] };
    loop.onSafetyEvent((e) => {
      if (e.entered) trips[phase].push(e.reason);
    });
    const stats = emptyStats();
    /** Loop p99 readings every 2 s for `seconds`; the first (straddling) one is dropped. */
    const sample = async (seconds: number): Promise<number[]> => {
      const out: number[] = [];
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end - 1) {
        await sleep(Math.min(2000, end - performance.now()));
        // A read can meet the worker mid-write; it then says so and is tried again.
        let read = false;
        for (let i = 0; i < 100 && !read; i++) read = loop.readStats(stats);
        if (read) out.push(stats.latenessP99Us);
      }
      return out.slice(1);
    };
    log(`control-flood: runtime up (control ${rt.controlEndpoints[0]}); warming up 3 s...`);
    await sleep(3000);
    if (loop.safe) {
      log(`control-flood: loop safe after start-up (${trips.warmup.join(', ') || 'not armed'}); releasing`);
      loop.release();
    }
    phase = 'baseline';
    log(`control-flood: baseline ${duration} s without requests...`);
    const baseLag = new LagProbe();
    baseLag.start();
    let cpu = threadCpuMs();
    let wall = performance.now();
    const baseP99 = await sample(duration);
    const baseCpuPct = ((threadCpuMs() - cpu) / (performance.now() - wall)) * 100;
    const baseLags = baseLag.stop();
    if (loop.safe) {
      log(`control-flood: loop went safe in the baseline (${trips.baseline.join(', ')}); releasing before the flood`);
      loop.release();
    }
    phase = 'flood';
    log(`control-flood: ${clients} clients x ${rate} status/s for ${duration} s...`);
    const flooder = await Flooder.start({ endpoint: rt.controlEndpoints[0]!, clients, perClientHz: rate });
    const floodLag = new LagProbe();
    floodLag.start();
    cpu = threadCpuMs();
    wall = performance.now();
    const floodP99 = await sample(duration);
    const floodCpuPct = ((threadCpuMs() - cpu) / (performance.now() - wall)) * 100;
    const floodLags = floodLag.stop();
    // Still flooding: a third client's status and estop, timed (the e-stop ends the measured phase).
    phase = 'after';
    const { ControlClient } = await import('../src/telemetry/control-client.js');
    const operator = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 10_000 });
    let t = performance.now();
    const statusReply = await operator.send('status');
    const statusMs = performance.now() - t;
    t = performance.now();
    const estopReply = await operator.send('estop', { reason: 'control-flood bench' });
    const estopMs = performance.now() - t;
    await operator.close();
    const counts = await flooder.stop();
    const safeAtEnd = loop.safe; // true after the e-stop above
    const status = rt.status() as { counters: Record<string, number> };
    const control = Object.fromEntries(Object.entries(status.counters).filter(([k]) => k.startsWith('control.')));
    const baseMed = median(baseP99);
    const floodMed = median(floodP99);
    log(
      `control-flood: sent ${counts.sent} (${counts.notSent} not sent), ok ${counts.ok}, busy ${counts.busy}, other ${counts.other}; ` +
        `p99 ${baseMed} -> ${floodMed} us`,
    );
    if (logged.length > 0) log(`control-flood: runtime warnings: ${logged.slice(0, 5).join(' | ')}${logged.length > 5 ? ` (+${logged.length - 5})` : ''}`);
    return {
      requests_per_s: Math.round(counts.sent / counts.seconds),
      answered: counts.ok + counts.busy,
      answered_ok: counts.ok,
      answered_busy: counts.busy,
      answered_other: counts.other,
      not_sent: counts.notSent,
      safety_trips: trips.flood.length,
      safety_trip_reasons: trips.flood,
      baseline_safety_trips: trips.baseline.length,
      safe_at_end: safeAtEnd,
      during_flood_status_ms: round(statusMs, 1),
      during_flood_status: statusReply.ok ? 'ok' : statusReply.error.code,
      during_flood_estop_ms: round(estopMs, 1),
      during_flood_estop: estopReply.ok ? 'ok' : estopReply.error.code,
      loop_p99_ratio: round(floodMed / Math.max(baseMed, 1), 2),
      baseline_p99_us: round(baseMed, 1),
      flood_p99_us: round(floodMed, 1),
      baseline_p99_readings_us: baseP99.map((x) => round(x, 1)),
      flood_p99_readings_us: floodP99.map((x) => round(x, 1)),
      main_lag_p99_ms: { baseline: round(percentile(sortedCopy(baseLags), 99), 2), flood: round(percentile(sortedCopy(floodLags), 99), 2) },
      main_thread_cpu_pct: { baseline: round(baseCpuPct, 1), flood: round(floodCpuPct, 1) },
      flooder_thread_cpu_pct: round((counts.cpuMs / (counts.seconds * 1000)) * 100, 1),
      main_lag_max_ms: { baseline: round(Math.max(...baseLags), 2), flood: round(Math.max(...floodLags), 2) },
      ...control,
      clients,
      rate_per_client: rate,
      duration_s_per_phase: duration,
      load_average: loadavg().map((x) => round(x, 2)),
      machine: machine(),
    };
  } finally {
    await rt.stop();
  }
}
