/**
 * This machine's own timer floor, measured with no JavaScript at all: bench/native/cyclic.c
 * runs a periodic loop on absolute CLOCK_MONOTONIC deadlines (by default with the loop
 * worker's wake strategy: sleep until 150 us before each deadline, spin the rest) and
 * reports how late every cycle woke. Whatever lateness it sees, no userspace loop on this
 * machine can beat, so it is the figure to quote beside the loop benchmark's.
 *
 *   npm run bench -- platform-floor [--duration S] [--hz 1000] [--spin-us 150] [--fifo 50]
 *                                   [--cpu N] [--mlock] [--steal-ms 10] [--slack-ns N]
 *
 * There is no in-run baseline here: this bench is the baseline for `bench/loop.ts`, which
 * can call measureFloor() itself. cyclic.c is compiled on first use with `cc -O2` (or $CC)
 * into os.tmpdir()/reflex-bench-native-<hash of source and compiler>/.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchArgs, log, machine } from './_util.js';

/** The loop worker's default spin before each deadline (ControlLoop `spinUs`, src/loop). */
export const LOOP_SPIN_US = 150;

const SOURCE = new URL('./native/cyclic.c', import.meta.url).pathname;
const CFLAGS = ['-O2', '-std=c99', '-Wall', '-Wextra', '-pthread'];

/**
 * Codes of the platform-floor probe. A benchmark tool, not part of the package, so these are
 * not ErrorCodes (src/core/codes.ts); docs/errors.md lists them under "bench".
 */
export const FloorCodes = {
  /** A probe option or flag is out of range or unknown. */
  options: 'E_FLOOR_OPTIONS',
  /** No C compiler to build bench/native/cyclic.c. */
  noCc: 'E_FLOOR_NO_CC',
  /** Compiling cyclic.c failed. */
  compile: 'E_FLOOR_COMPILE',
  /** Running the probe failed. */
  run: 'E_FLOOR_RUN',
  /** The probe printed something other than its JSON line. */
  output: 'E_FLOOR_OUTPUT',
} as const;
export type FloorCode = (typeof FloorCodes)[keyof typeof FloorCodes];

/** Failures to set up, build, run or read the native probe. */
export class FloorError extends Error {
  readonly code: FloorCode;
  constructor(code: FloorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'FloorError';
  }
}

export interface FloorOptions {
  /** Cycles per second, 1..100000. */
  hz: number;
  /** How long to run; the run has exactly round(hz * seconds) deadlines. */
  seconds: number;
  /** SCHED_FIFO priority 1..99 for the measuring thread; a failure is reported in `errors`, not thrown. */
  fifo?: number;
  /** Spin this long before each deadline after sleeping (default LOOP_SPIN_US, as the loop worker); 0: sleep only, like cyclictest. */
  spinUs?: number;
  /** Pin the measuring thread to this CPU (sched_setaffinity). */
  cpu?: number;
  /** mlockall(MCL_CURRENT | MCL_FUTURE) before measuring. */
  mlock?: boolean;
  /** Sample per-CPU steal from /proc/stat every this many ms on a normal-priority thread, to match steal to the worst cycles (default 0: off). */
  stealMs?: number;
  /** Set the thread's timer slack (ns, >= 1); by default it keeps the kernel's (50 us for normal-priority threads). */
  slackNs?: number;
  /** C compiler (default $CC, then `cc`). */
  compiler?: string;
  signal?: AbortSignal;
}

export type SpikeCause = 'run_queue' | 'on_cpu' | 'unaccounted';

/** One of the five latest cycles, with what the guest kernel says the thread was doing since the previous wake. */
export interface FloorSpike {
  cycle: number;
  offsetMs: number;
  latenessUs: number;
  cpu: number;
  /** Waiting on a run queue (runnable, another task had the CPU). */
  runQueueUs: number | null;
  onCpuUs: number | null;
  switchedIn: number | null;
  /**
   * At least this long neither on CPU, nor on a run queue, nor asleep as planned: the virtual CPU was not
   * running this thread at all (hypervisor steal: this kernel has PARAVIRT_TIME_ACCOUNTING,
   * so on-CPU time excludes steal) or the timer that should wake it was delivered late.
   */
  unaccountedUs: number | null;
  /** How late the sleep ended (after its planned wake-up); 0 when there was no time to sleep. */
  wokeLateUs: number;
  /** Wall time spent spinning after the sleep: more than the spin budget means time vanished while the thread ran. */
  spinWallUs: number;
  /** The largest part of the window: 'run_queue' (guest scheduling), 'on_cpu' (kernel or interrupt work charged to the thread), 'unaccounted' (not running). */
  cause: SpikeCause | null;
  /** /proc/stat steal around the cycle, on its CPU and on all CPUs (null without `stealMs`). */
  stealJiffiesCpu: number | null;
  stealJiffiesAll: number | null;
}

export interface FloorSteal {
  /** /proc/stat deltas over the run, in USER_HZ jiffies. */
  jiffies: number;
  totalJiffies: number;
  irqJiffies: number;
  percent: number;
  perCpu: number[];
  userHz: number;
}

export interface FloorSampling {
  intervalMs: number;
  samples: number;
  /** The most steal (all CPUs) in one sampling interval, and when (ms from the start). */
  maxJiffiesInSample: number;
  maxAtMs: number;
}

export interface FloorResult {
  hz: number;
  seconds: number;
  spinUs: number;
  /** Deadlines in the run (exactly round(hz * seconds)) = run + skipped. */
  cycles: number;
  run: number;
  /** Deadlines dropped because an earlier cycle woke after them (the loop's 'skip' policy). */
  skipped: number;
  elapsedS: number;
  minUs: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  over1ms: number;
  over100us: number;
  /** Latest first. */
  worst: FloorSpike[];
  /** The policy the thread ran with: "SCHED_OTHER" or "SCHED_FIFO 50". */
  policy: string;
  fifoRequested: number | null;
  fifoApplied: boolean;
  mlock: boolean;
  cpuPinned: number | null;
  /** What could not be applied or read (SCHED_FIFO, mlockall, affinity, /proc files). */
  errors: string[];
  startMonotonicNs: number;
  clocksource: string;
  timerSlackNs: number;
  steal: FloorSteal | null;
  sampling: FloorSampling | null;
}

function checkOptions(o: FloorOptions): void {
  const bad = (what: string): never => {
    throw new FloorError(FloorCodes.options, `platform floor: ${what}`);
  };
  if (!(Number.isFinite(o.hz) && o.hz >= 1 && o.hz <= 100_000)) bad(`hz must be 1..100000, got ${o.hz}`);
  if (!(Number.isFinite(o.seconds) && o.seconds > 0)) bad(`seconds must be positive, got ${o.seconds}`);
  const cycles = Math.round(o.hz * o.seconds);
  if (cycles < 1 || cycles > 20_000_000) bad(`hz * seconds must give 1..20000000 cycles, got ${cycles}`);
  if (o.fifo !== undefined && !(Number.isInteger(o.fifo) && o.fifo >= 1 && o.fifo <= 99)) bad(`fifo must be an integer 1..99, got ${o.fifo}`);
  if (o.spinUs !== undefined && !(o.spinUs >= 0 && o.spinUs <= 1_000_000)) bad(`spinUs must be 0..1000000, got ${o.spinUs}`);
  if (o.cpu !== undefined && !(Number.isInteger(o.cpu) && o.cpu >= 0 && o.cpu < 256)) bad(`cpu must be an integer 0..255, got ${o.cpu}`);
  if (o.stealMs !== undefined && !(o.stealMs >= 0 && o.stealMs <= 10_000)) bad(`stealMs must be 0..10000, got ${o.stealMs}`);
  if (o.slackNs !== undefined && !(Number.isInteger(o.slackNs) && o.slackNs >= 1 && o.slackNs <= 1e9))
    bad(`slackNs must be an integer 1..1000000000, got ${o.slackNs}`);
}

/** The command line for cyclic.c. */
export function cyclicArgs(o: FloorOptions): string[] {
  checkOptions(o);
  const a = ['--hz', String(o.hz), '--seconds', String(o.seconds), '--spin-us', String(o.spinUs ?? LOOP_SPIN_US)];
  if (o.fifo !== undefined) a.push('--fifo', String(o.fifo));
  if (o.cpu !== undefined) a.push('--cpu', String(o.cpu));
  if (o.mlock) a.push('--mlock');
  if (o.stealMs) a.push('--steal-ms', String(o.stealMs));
  if (o.slackNs !== undefined) a.push('--slack-ns', String(o.slackNs));
  return a;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  error: NodeJS.ErrnoException | null;
}

function run(file: string, args: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', maxBuffer: 4 << 20, timeout: opts.timeoutMs ?? 0, ...(opts.signal && { signal: opts.signal }) },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr, error: error && typeof error.code !== 'number' ? (error as NodeJS.ErrnoException) : null });
      },
    );
  });
}

/**
 * Compile cyclic.c once per source and compiler; returns the binary's path. Builds to a
 * temporary name and renames, so concurrent callers never run a half-written binary.
 */
export async function buildCyclic(compiler = process.env.CC || 'cc'): Promise<string> {
  const source = await readFile(SOURCE);
  const hash = createHash('sha256')
    .update(source)
    .update('\0' + compiler + '\0' + CFLAGS.join(' '))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), `reflex-bench-native-${hash}`);
  const bin = join(dir, 'cyclic');
  try {
    await access(bin, constants.X_OK);
    return bin;
  } catch {
    // Not built yet (the only expected failure); any other problem shows up in the build below.
  }
  // Asked first, so a missing compiler leaves no empty cache directory behind.
  const probe = await run(compiler, ['--version']);
  if (probe.error?.code === 'ENOENT') {
    throw new FloorError(FloorCodes.noCc, `no C compiler found (tried "${compiler}"): install one (Debian: apt-get install gcc) or set CC to its path`);
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const r = await run(compiler, [...CFLAGS, '-o', tmp, SOURCE, '-lm']);
  if (r.code !== 0) {
    await rm(tmp, { force: true });
    const why = r.error ? r.error.message : r.stderr.trim();
    throw new FloorError(FloorCodes.compile, `compiling ${SOURCE} with "${compiler}" failed: ${why}`);
  }
  await rename(tmp, bin);
  return bin;
}

/** Which accounted part of the late cycle's window was largest; spinning on time is expected on-CPU time, not a cause. */
export function causeOf(s: FloorSpike): SpikeCause | null {
  if (s.runQueueUs === null || s.onCpuUs === null || s.unaccountedUs === null) return null;
  const onCpu = s.onCpuUs - Math.max(0, s.spinWallUs - s.latenessUs);
  if (s.runQueueUs >= onCpu && s.runQueueUs >= s.unaccountedUs) return 'run_queue';
  return onCpu >= s.unaccountedUs ? 'on_cpu' : 'unaccounted';
}

/** Reads cyclic.c's JSON line into a FloorResult; throws E_FLOOR_OUTPUT if anything is missing. */
export function parseFloorLine(line: string): FloorResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new FloorError(FloorCodes.output, `cyclic printed something that is not JSON (${(err as Error).message}): ${line.slice(0, 200)}`);
  }
  const fail = (key: string): never => {
    throw new FloorError(FloorCodes.output, `cyclic's JSON has no valid "${key}": rebuild it from bench/native/cyclic.c (${line.slice(0, 200)})`);
  };
  const obj = (v: unknown, key: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(key);
  const o = obj(raw, '(top level)');
  const num = (src: Record<string, unknown>, key: string): number => {
    const v = src[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : fail(key);
  };
  const numOrNull = (src: Record<string, unknown>, key: string): number | null => (src[key] === null ? null : num(src, key));
  const str = (key: string): string => {
    const v = o[key];
    return typeof v === 'string' ? v : fail(key);
  };
  const arr = (key: string): unknown[] => {
    const v = o[key];
    return Array.isArray(v) ? (v as unknown[]) : fail(key);
  };

  const worst = arr('worst').map((w): FloorSpike => {
    const s = obj(w, 'worst[]');
    const spike: FloorSpike = {
      cycle: num(s, 'cycle'),
      offsetMs: num(s, 'offset_ms'),
      latenessUs: num(s, 'lateness_us'),
      cpu: num(s, 'cpu'),
      runQueueUs: numOrNull(s, 'run_queue_us'),
      onCpuUs: numOrNull(s, 'on_cpu_us'),
      switchedIn: numOrNull(s, 'switched_in'),
      unaccountedUs: numOrNull(s, 'unaccounted_us'),
      wokeLateUs: num(s, 'woke_late_us'),
      spinWallUs: num(s, 'spin_wall_us'),
      stealJiffiesCpu: numOrNull(s, 'steal_jiffies_cpu'),
      stealJiffiesAll: numOrNull(s, 'steal_jiffies_all'),
      cause: null,
    };
    spike.cause = causeOf(spike);
    return spike;
  });
  const errors = arr('errors').map((e) => (typeof e === 'string' ? e : fail('errors[]')));
  const fifo = num(o, 'fifo_requested');
  const cpuPinned = num(o, 'cpu_pinned');
  const policy = str('policy');
  const mlock = typeof o.mlock === 'boolean' ? o.mlock : fail('mlock');
  const steal: FloorSteal | null =
    o.steal_jiffies === null
      ? null
      : {
          jiffies: num(o, 'steal_jiffies'),
          totalJiffies: num(o, 'total_jiffies'),
          irqJiffies: num(o, 'irq_jiffies'),
          percent: num(o, 'steal_percent'),
          perCpu: arr('steal_jiffies_per_cpu').map((v) => (typeof v === 'number' ? v : fail('steal_jiffies_per_cpu[]'))),
          userHz: num(o, 'user_hz'),
        };
  const sampling: FloorSampling | null =
    o.steal_samples === undefined
      ? null
      : {
          intervalMs: num(o, 'steal_ms'),
          samples: num(o, 'steal_samples'),
          maxJiffiesInSample: num(o, 'steal_max_jiffies_in_sample'),
          maxAtMs: num(o, 'steal_max_at_ms'),
        };
  return {
    hz: num(o, 'hz'),
    seconds: num(o, 'seconds'),
    spinUs: num(o, 'spin_us'),
    cycles: num(o, 'cycles'),
    run: num(o, 'run'),
    skipped: num(o, 'skipped'),
    elapsedS: num(o, 'elapsed_s'),
    minUs: num(o, 'min_us'),
    meanUs: num(o, 'mean_us'),
    p50Us: num(o, 'p50_us'),
    p99Us: num(o, 'p99_us'),
    p999Us: num(o, 'p999_us'),
    maxUs: num(o, 'max_us'),
    over1ms: num(o, 'over_1ms'),
    over100us: num(o, 'over_100us'),
    worst,
    policy,
    fifoRequested: fifo > 0 ? fifo : null,
    fifoApplied: fifo > 0 && policy === `SCHED_FIFO ${fifo}`,
    mlock,
    cpuPinned: cpuPinned >= 0 ? cpuPinned : null,
    errors,
    startMonotonicNs: num(o, 'start_monotonic_ns'),
    clocksource: str('clocksource'),
    timerSlackNs: num(o, 'timer_slack_ns'),
    steal,
    sampling,
  };
}

/** Run cyclic.c (building it first if needed) and return what it measured. */
export async function measureFloor(opts: FloorOptions): Promise<FloorResult> {
  const args = cyclicArgs(opts);
  const bin = await buildCyclic(opts.compiler);
  // Generous: the run itself, plus start-up and the final sort on a loaded machine.
  const r = await run(bin, args, { timeoutMs: opts.seconds * 1000 + 60_000, ...(opts.signal && { signal: opts.signal }) });
  if (r.code !== 0) {
    const why = r.error ? r.error.message : `exit ${r.code ?? 'by signal'}: ${r.stderr.trim()}`;
    throw new FloorError(FloorCodes.run, `${bin} ${args.join(' ')} failed: ${why}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return parseFloorLine(line);
}

const round = (v: number): number => Math.round(v * 10) / 10;

/** Flat figures for a benchmark's JSON line, e.g. floorFigures(r, 'floor_') beside the loop's own. */
export function floorFigures(r: FloorResult, prefix = ''): Record<string, unknown> {
  const f: Record<string, unknown> = {
    hz: r.hz,
    spin_us: r.spinUs,
    policy: r.policy,
    cycles: r.cycles,
    skipped: r.skipped,
    p50_us: round(r.p50Us),
    p99_us: round(r.p99Us),
    p999_us: round(r.p999Us),
    max_us: round(r.maxUs),
    over_1ms: r.over1ms,
    over_100us: r.over100us,
    steal_jiffies: r.steal?.jiffies ?? null,
    total_jiffies: r.steal?.totalJiffies ?? null,
    steal_percent: r.steal ? round(r.steal.percent) : null,
    worst: r.worst.map((w) => ({
      cycle: w.cycle,
      offset_ms: round(w.offsetMs),
      lateness_us: round(w.latenessUs),
      cpu: w.cpu,
      cause: w.cause,
      run_queue_us: w.runQueueUs,
      on_cpu_us: w.onCpuUs,
      switched_in: w.switchedIn,
      unaccounted_us: w.unaccountedUs,
      woke_late_us: w.wokeLateUs,
      spin_wall_us: w.spinWallUs,
      steal_jiffies_cpu: w.stealJiffiesCpu,
      steal_jiffies_all: w.stealJiffiesAll,
    })),
    ...(r.sampling && { steal_max_jiffies_in_sample: r.sampling.maxJiffiesInSample, steal_max_at_ms: round(r.sampling.maxAtMs) }),
    ...(r.errors.length > 0 && { errors: r.errors }),
  };
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [prefix + k, v]));
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 60 });
  const options = {
    duration: { type: 'string' },
    hz: { type: 'string' },
    fifo: { type: 'string' },
    'spin-us': { type: 'string' },
    cpu: { type: 'string' },
    mlock: { type: 'boolean' },
    'steal-ms': { type: 'string' },
    'slack-ns': { type: 'string' },
  } as const;
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (err) {
    throw new FloorError(
      FloorCodes.options,
      `platform-floor: ${(err as Error).message}; flags: ${Object.keys(options)
        .map((k) => `--${k}`)
        .join(' ')}`,
      { cause: err },
    );
  }
  const opt = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const o: FloorOptions = {
    hz: opt(values.hz) ?? 1000,
    seconds: duration,
    spinUs: opt(values['spin-us']) ?? LOOP_SPIN_US,
    // 10 ms sampling costs well under 1% of a CPU and says whether the worst cycles coincide with steal.
    stealMs: opt(values['steal-ms']) ?? 10,
    mlock: values.mlock ?? false,
  };
  const fifo = opt(values.fifo);
  const cpu = opt(values.cpu);
  const slack = opt(values['slack-ns']);
  if (fifo !== undefined) o.fifo = fifo;
  if (cpu !== undefined) o.cpu = cpu;
  if (slack !== undefined) o.slackNs = slack;
  log(`platform-floor: native loop at ${o.hz} Hz for ${duration} s, spin ${o.spinUs} us${fifo ? `, SCHED_FIFO ${fifo}` : ''}...`);
  const r = await measureFloor(o);
  for (const e of r.errors) log(`platform-floor: not applied: ${e}`);
  return {
    ...floorFigures(r),
    duration_s: duration,
    run: r.run,
    min_us: round(r.minUs),
    mean_us: round(r.meanUs),
    irq_jiffies: r.steal?.irqJiffies ?? null,
    steal_jiffies_per_cpu: r.steal?.perCpu ?? null,
    user_hz: r.steal?.userHz ?? null,
    clocksource: r.clocksource,
    timer_slack_ns: r.timerSlackNs,
    start_monotonic_ns: r.startMonotonicNs,
    mlock: r.mlock,
    cpu_pinned: r.cpuPinned,
    load_average: loadavg().map(round),
    machine: machine(),
  };
}
