/**
 * Loop timing at 1 kHz while the main thread is busy with realistic work, against a
 * setInterval loop doing the same control work on the main thread, in the same run.
 *   npm run bench -- loop [--duration SECONDS] [--no-floor]   (per phase; default 60, so about 4 min)
 *
 * Main-thread load (identical in both phases): 2 kHz x 8 ch EMG arrives as firmware-bridge
 * SAMPLES frames (one per ms) and goes through the real BridgeDecoder, the real clock
 * model (ClockModel, as the runtime's source maps blocks), the real units pipeline of the
 * default model (band-pass, notch, envelope, decimate to 100 Hz) and the runtime's Aligner,
 * whose time-major 200 ms window is handed to the loop as the runtime hands it
 * (bench/_windows.ts); every raw block is published on the real TelemetryPublisher
 * (ZeroMQ XPUB, CBOR) to a SUB socket in this process, and every 50 ms a ~200 KB status
 * object is serialised (logging / status replies).
 *
 * Control work (identical): the default model through the compiled kernel, output map,
 * safety limiter, three simulated actuators.
 *
 * Phases: the worker loop at normal priority, the worker loop with its thread at
 * SCHED_FIFO 50 (rt_*; needs root or CAP_SYS_NICE, reported if not applied), the
 * setInterval baseline, then the platform floor (floor_*, bench/platform-floor.ts): a C
 * loop on absolute clock_nanosleep deadlines at SCHED_FIFO 50 under the same main-thread
 * load, which is the best any userspace loop can do on this machine at this moment.
 * `--no-floor` skips it (it needs a C compiler).
 *
 * Figures: p99_us / max_us are the worker loop's lateness (cycle start minus its
 * absolute deadline start + k*period, 'skip' policy); drift_us is how far its median
 * lateness moved between the first and the last second. baseline_p99_us is the
 * setInterval loop's lateness by the same definition (grid, skip; early ticks count 0);
 * baseline_interval_p99_us measures each tick against the previous one + 1 ms instead
 * (the most favourable definition for it); baseline_drift_us is how far behind the
 * absolute grid it ended.
 */
import { Subscriber } from 'zeromq';
import { OutputMap } from '../src/actuate/mapping.js';
import { SafetyLimiter } from '../src/actuate/safety.js';
import { createActuators } from '../src/actuate/set.js';
import type { BoardDef } from '../src/boards/types.js';
import { BridgeDecoder } from '../src/bridge/decoder.js';
import { FrameWriter } from '../src/bridge/encode.js';
import type { SampleBlock } from '../src/core/block.js';
import { nullLogger } from '../src/core/log.js';
import { ControlCore } from '../src/loop/core.js';
import { ControlLoop } from '../src/loop/loop.js';
import { emptyStats } from '../src/loop/stats.js';
import { Predictor } from '../src/predict/predictor.js';
import { readModelMeta } from '../src/predict/metadata.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { ClockModel } from '../src/time/clock-model.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { benchArgs, log, machine, percentile, sortedCopy } from './_util.js';
import { RuntimeWindows } from './_windows.js';
import { FloorCodes, FloorError, floorFigures, measureFloor } from './platform-floor.js';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { ThreadPriority } from '../src/loop/priority.js';

const MODEL = new URL('../models/default', import.meta.url).pathname;
const board = JSON.parse(readFileSync(new URL('../boards/sim.json', import.meta.url), 'utf8')) as BoardDef;
const defs = board.actuators.map((a) => ({ ...a, via: 'sim' as const }));
export const MAPPING = [
  { actuator: 'wrist', output: 'wrist_angle', scale: 10, offset: 1500 },
  { actuator: 'grip', output: 'grip', scale: 1000, offset: 1000 },
];

/** The main thread's realistic work; `onWindow` receives each new 200 ms feature window (time-major). */
export class MainLoad {
  /** One second of sample counts (2 samples x C channels per frame), replayed in a loop. */
  readonly #counts: Int32Array[] = [];
  readonly #writer = new FrameWriter();
  readonly #decoder: BridgeDecoder;
  readonly #clock = new ClockModel();
  readonly #windows: RuntimeWindows;
  readonly #emit: (w: Float32Array) => void;
  readonly #C: number;
  #pub!: TelemetryPublisher;
  #sub!: Subscriber;
  #received = 0;
  #next = 0;
  #t0 = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #status: Record<string, unknown>;
  #arrivalMs = Number.NaN;

  constructor(onWindow: (w: Float32Array) => void) {
    const meta = readModelMeta(MODEL);
    this.#C = meta.input.channels;
    this.#windows = new RuntimeWindows(MODEL, 2000);
    this.#emit = onWindow;
    let x = 99;
    const rand = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
    for (let k = 0; k < 1000; k++) {
      const burst = Math.sin(k / 80) > 0 ? 20000 : 3000;
      this.#counts.push(Int32Array.from({ length: this.#C * 2 }, () => Math.round(rand() * burst)));
    }
    this.#decoder = new BridgeDecoder({ onSamples: (b) => this.#onBlock(b) }, { rate: 2000, logger: nullLogger() });
    this.#status = { counters: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`counter_${i}`, i * 1.5])), text: 'x'.repeat(100_000) };
  }

  async start(): Promise<void> {
    this.#pub = new TelemetryPublisher({ endpoints: ['tcp://127.0.0.1:*'], runtimeId: 'bench', boardId: 'sim', logger: nullLogger() });
    const [ep] = await this.#pub.start();
    this.#sub = new Subscriber();
    this.#sub.connect(ep!);
    this.#sub.subscribe('');
    void (async () => {
      for await (const _m of this.#sub) this.#received++;
    })();
    this.#running = true;
    this.#t0 = monotonicMs();
    this.#next = 0;
    const tick = (): void => {
      if (!this.#running) return;
      // Frames "arrive" on the wall clock: handle every one due by now, like serial data.
      // Each is encoded as it is due (about a microsecond) so sequence numbers, sample
      // indices and device times run on as a device's do: a replayed second would look
      // like a device restart every second to the decoder, the clock model and the aligner.
      const now = monotonicMs();
      const due = Math.floor(now - this.#t0);
      while (this.#next <= due) {
        const k = this.#next;
        this.#arrivalMs = now;
        this.#decoder.push(
          this.#writer.samples({
            seq: k,
            firstSample: 2 * k,
            tUs: 1000 * k,
            uvPerLsb: 0.0224,
            channels: this.#C,
            samples: 2,
            format: 0,
            counts: this.#counts[k % this.#counts.length]!,
          }),
        );
        this.#next++;
        if (this.#next % 50 === 0) {
          const s = JSON.stringify(this.#status);
          if (s.length === 0) throw new Error('unreachable');
        }
      }
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  #onBlock(b: SampleBlock): void {
    this.#clock.ingestBlock(b, this.#arrivalMs);
    this.#pub.publishBlock('emg.raw', b);
    this.#windows.push(b, this.#emit);
  }

  /** Windows handed to the loop; invalid (incomplete) ones and blocks the clock model left unmapped. */
  get windows(): { windows: number; invalid: number; unmapped: number } {
    const w = this.#windows;
    return { windows: w.windows, invalid: w.invalid, unmapped: w.unmapped };
  }

  get received(): number {
    return this.#received;
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#sub.close();
    await this.#pub.close();
  }
}

/** Median of (t - k * period) over samples: the grid origin plus the typical lateness. */
function medianOffset(samples: Array<[number, number]>, periodMs: number): number {
  return percentile(sortedCopy(samples.map(([k, t]) => t - k * periodMs)), 50);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function workerPhase(seconds: number, priority?: ThreadPriority): Promise<Record<string, number | string>> {
  const sink = createActuators(defs, {});
  const loop = await ControlLoop.start({
    ...(priority ? { priority } : {}),
    schedule: { rateHz: 1000, policy: 'skip' },
    watchdog: { staleMs: 500, overrunStreak: 1000 },
    predictor: { kind: 'model', dir: MODEL, mode: 'compiled', warmUp: 200 },
    actuators: defs,
    mapping: MAPPING,
    sink,
    startArmed: true,
    statsWindow: Math.min(1 << 20, Math.ceil(seconds * 1000) + 1000),
  });
  const load = new MainLoad((w) => loop.pushWindow(w));
  await load.start();
  const out = loop.createOutput();
  const sampleFor = async (ms: number): Promise<Array<[number, number]>> => {
    const acc: Array<[number, number]> = [];
    const end = monotonicMs() + ms;
    while (monotonicMs() < end) {
      if (loop.readLatest(out) && out.cycle >= 0) acc.push([out.cycle, out.timeMs]);
      await sleep(3);
    }
    return acc;
  };
  const first = await sampleFor(1000);
  await sleep(Math.max(0, seconds * 1000 - 2000));
  const last = await sampleFor(1000);
  const s = emptyStats();
  loop.readStats(s);
  await load.stop();
  await loop.stop();
  const wn = load.windows;
  log(
    `loop: worker phase: ${s.cycles} cycles, ${s.overruns} overruns, ${s.skipped} skipped, safe=${s.safe}, ` +
      `windows ${wn.windows} (invalid ${wn.invalid}, unmapped blocks ${wn.unmapped}), telemetry received ${load.received}`,
  );
  const pr = loop.predictor.priority;
  return {
    ...(pr ? { priority: pr.applied.join(', ') || `not applied: ${pr.failed.join('; ')}` } : {}),
    p50_us: round(s.latenessP50Us),
    p99_us: round(s.latenessP99Us),
    max_us: round(s.latenessMaxUs),
    drift_us: round((medianOffset(last, 1) - medianOffset(first, 1)) * 1000),
    compute_p50_us: round(s.computeP50Us),
    compute_p99_us: round(s.computeP99Us),
    cycles: s.cycles,
    overruns: s.overruns,
    skipped: s.skipped,
    worker_gcs: loop.workerGcs,
  };
}

async function baselinePhase(seconds: number): Promise<Record<string, number | string>> {
  const p = await Predictor.load(MODEL, { mode: 'compiled', warmUp: 200 });
  const sink = createActuators(defs, {});
  const core = new ControlCore({
    predictor: p,
    map: new OutputMap(MAPPING, defs, p.info.outputNames),
    limiter: new SafetyLimiter(defs),
    watchdog: { staleMs: 500, overrunStreak: 1000 },
    startArmed: true,
    onEvent: () => {},
  });
  let fresh = false;
  let inputAt = monotonicMs();
  const load = new MainLoad((w) => {
    core.input.set(w);
    fresh = true;
    inputAt = monotonicMs();
  });
  await load.start();
  const times = new Float64Array(Math.ceil(seconds * 1000 * 1.2) + 1000);
  let n = 0;
  const t0 = monotonicMs();
  await new Promise<void>((resolve) => {
    const h = setInterval(() => {
      const now = monotonicMs();
      if (n < times.length) times[n++] = now;
      core.cycle(n, now, 0.001, fresh, inputAt);
      fresh = false;
      sink.apply(core.commands);
      if (now - t0 >= seconds * 1000) {
        clearInterval(h);
        resolve();
      }
    }, 1);
  });
  await load.stop();
  // Interval lateness: each tick against the previous one + 1 ms (the most favourable definition).
  const interval: number[] = [];
  for (let i = 1; i < n; i++) interval.push((times[i]! - times[i - 1]! - 1) * 1000);
  // Grid lateness with the worker's 'skip' policy: each tick is due at the next grid point
  // after the previous tick; a tick that comes early counts as on time (0), not negative.
  const grid: number[] = [];
  let k = 1;
  for (let i = 1; i < n; i++) {
    const t = times[i]! - times[0]!;
    grid.push(Math.max(0, t - k) * 1000);
    k = Math.max(k + 1, Math.floor(t) + 1);
  }
  const si = sortedCopy(interval);
  const sg = sortedCopy(grid);
  log(`loop: setInterval phase: ${n} ticks in ${((times[n - 1]! - times[0]!) / 1000).toFixed(1)} s`);
  return {
    baseline_p50_us: round(percentile(sg, 50)),
    baseline_p99_us: round(percentile(sg, 99)),
    baseline_max_us: round(sg[sg.length - 1]!),
    baseline_interval_p99_us: round(percentile(si, 99)),
    baseline_drift_us: round((times[n - 1]! - times[0]! - (n - 1)) * 1000),
    baseline_rate_hz: round((n - 1) / ((times[n - 1]! - times[0]!) / 1000)),
  };
}

async function floorPhase(seconds: number): Promise<Record<string, unknown>> {
  const load = new MainLoad(() => {});
  await load.start();
  try {
    return floorFigures(await measureFloor({ hz: 1000, seconds, fifo: 50, stealMs: 10 }), 'floor_');
  } catch (err) {
    // No compiler is a property of the machine, not a failed measurement: say so in the figures.
    if (err instanceof FloorError && err.code === FloorCodes.noCc) return { floor_error: err.message };
    throw err;
  } finally {
    await load.stop();
  }
}

const round = (v: number): number => Math.round(v * 10) / 10;

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 60 });
  if (duration < 3) throw new Error('--duration must be at least 3 seconds (1 s of drift sampling at each end)');
  log(`loop: worker loop at 1 kHz for ${duration} s under main-thread load...`);
  const w = await workerPhase(duration);
  log(`loop: the same with the loop thread at SCHED_FIFO 50 (root or CAP_SYS_NICE)...`);
  const rt = await workerPhase(duration, { fifo: 50 });
  log(`loop: setInterval(1 ms) baseline for ${duration} s under the same load...`);
  const b = await baselinePhase(duration);
  let f: Record<string, unknown> = {};
  if (!argv.includes('--no-floor')) {
    log(`loop: platform floor (C clock_nanosleep loop, SCHED_FIFO 50) for ${duration} s under the same load...`);
    f = await floorPhase(duration);
  }
  const rtKeys = Object.fromEntries(Object.entries(rt).map(([key, v]) => [`rt_${key}`, v]));
  return {
    rate_hz: 1000,
    ...w,
    ...rtKeys,
    ...b,
    baseline_p99_over_p99: round((b.baseline_p99_us as number) / Math.max(w.p99_us as number, 0.1)),
    baseline_p99_over_rt_p99: round((b.baseline_p99_us as number) / Math.max(rt.p99_us as number, 0.1)),
    ...f,
    duration_s_per_phase: duration,
    load_average: loadavg().map((x) => round(x)),
    machine: machine(),
  };
}
