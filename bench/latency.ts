/**
 * End-to-end latency: EMG sample arrives -> actuator command written, through the real
 * pieces: the firmware-bridge host build on a pseudo-terminal (2 kHz, 8 ch), BridgeLink
 * (serialport, decoder), its clock model, the default model's units pipeline and the
 * runtime's Aligner window (bench/_windows.ts: the steps of the runtime's samples handler,
 * time-major windows pushed as they come), the loop worker (compiled default model, limits)
 * and BridgeActuator, back to the firmware as ACTUATE.
 *   npm run bench -- latency [--duration SECONDS] [--actuate-in worker|main]
 *
 * Two ways the command leaves (ControlLoop actuateIn), measured in the same run:
 * - worker (default; p99_ms): the loop worker writes the ACTUATE frame to the port's fd
 *   itself; "written" is when its write(2) returned (the loop's write log).
 * - main (main_*): the main-thread dispatcher applies the published commands when the
 *   event loop wakes it; "written" is when the ACTUATE is handed to BridgeLink.
 * --actuate-in runs only that one (its figures then under p99_ms etc.).
 *
 * Per window: from the arrival of the SAMPLES frame that completed it (BridgeLink's
 * arrival time) to the first ACTUATE written computed from it or a later window. The
 * loop runs at 1 kHz, so this includes up to one period of waiting.
 * Also both with the loop thread at SCHED_FIFO 50 (rt_*, rt_main_*; root or CAP_SYS_NICE).
 * Baseline in the same run: the same chain with no loop at all (predict + limit +
 * actuate called directly in the samples handler on the main thread): the floor.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { ThreadPriority } from '../src/loop/priority.js';
import { createActuators } from '../src/actuate/set.js';
import type { BoardDef } from '../src/boards/types.js';
import type { SampleBlock } from '../src/core/block.js';
import { nullLogger } from '../src/core/log.js';
import { BridgeLink } from '../src/devices/bridge/link.js';
import { startSimFirmware } from '../src/devices/sim/firmware.js';
import { openNodeSerial } from '../src/hal/serial-node.js';
import { OutputMap } from '../src/actuate/mapping.js';
import { SafetyLimiter } from '../src/actuate/safety.js';
import { ControlCore } from '../src/loop/core.js';
import { ControlLoop } from '../src/loop/loop.js';
import { emptyStats } from '../src/loop/stats.js';
import { attachBridgeClock } from '../src/devices/tracker/bridge.js';
import { Predictor } from '../src/predict/predictor.js';
import { ClockModel } from '../src/time/clock-model.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { benchArgs, log, machine, percentile, sortedCopy } from './_util.js';
import { RuntimeWindows } from './_windows.js';
import { MAPPING } from './loop.js';

const MODEL = new URL('../models/default', import.meta.url).pathname;
const board = JSON.parse(readFileSync(new URL('../boards/sim.json', import.meta.url), 'utf8')) as BoardDef;

async function link(): Promise<{ link: BridgeLink; fwStop: () => Promise<unknown> }> {
  const fw = await startSimFirmware({ rate: 2000, channels: 8, seed: 11 });
  const l = new BridgeLink({ open: openNodeSerial, path: fw.path, rate: 2000, channels: 8, logger: nullLogger() });
  // Blocks reach the windows clock-mapped, as the runtime's bridge source maps them.
  attachBridgeClock(l, new ClockModel());
  await l.start();
  return { link: l, fwStop: () => fw.stop() };
}

type Mode = 'worker' | 'dispatch' | 'main';

async function run(seconds: number, mode: Mode, priority?: ThreadPriority): Promise<{ lat: number[]; errors: number; info: string }> {
  const { link: l, fwStop } = await link();
  const windows = new RuntimeWindows(MODEL, 2000);
  const lat: number[] = [];
  let errors = 0;
  let lastHostTime = Number.NaN;
  let pending = Number.NaN;
  const bridge = {
    send(entries: readonly { channel: number; kind: 'digital' | 'pwm' | 'servo'; value: number }[]): void {
      l.actuate(entries.map((e) => ({ ...e }))).catch(() => errors++);
      const t = monotonicMs();
      // The window this command came from, by the host time it was pushed with.
      // (The frame read here may be one cycle newer than the one dispatched; both come from the same window almost always.)
      const src = mode === 'dispatch' ? (loop && out && loop.readLatest(out) ? out.inputHostTimeMs : Number.NaN) : pending;
      if (!Number.isNaN(src) && src !== lastHostTime) {
        lastHostTime = src;
        lat.push(t - src);
      }
    },
  };
  const sink = createActuators(board.actuators, { bridge });
  let loop: ControlLoop | undefined;
  let core: ControlCore | undefined;
  let p: Predictor | undefined;
  let out: ReturnType<ControlLoop['createOutput']> | undefined;
  let offFd = (): void => {};
  if (mode !== 'main') {
    loop = await ControlLoop.start({
      ...(priority ? { priority } : {}),
      schedule: { rateHz: 1000, policy: 'skip' },
      watchdog: { staleMs: 500, overrunStreak: 1000 },
      predictor: { kind: 'model', dir: MODEL, mode: 'compiled', warmUp: 200 },
      actuators: board.actuators,
      mapping: MAPPING,
      startArmed: true,
      ...(mode === 'dispatch' ? { actuateIn: 'main', sink } : { actuateIn: 'worker', actuation: { bridge: {} }, writeLogSize: 1 << 14 }),
    });
    const lp = loop;
    offFd = l.onActuatorFd((fd) => lp.setBridgeFd(fd));
  } else {
    p = await Predictor.load(MODEL, { mode: 'compiled', warmUp: 200 });
    core = new ControlCore({
      predictor: p,
      map: new OutputMap(MAPPING, board.actuators, p.info.outputNames),
      limiter: new SafetyLimiter(board.actuators),
      watchdog: { staleMs: 500, overrunStreak: 1000 },
      startArmed: true,
      onEvent: () => {},
    });
  }
  if (loop) out = loop.createOutput();
  const onWindow = (w: Float32Array): void => {
    if (loop) loop.pushWindow(w, arrival);
    else {
      core!.input.set(w);
      pending = arrival;
      core!.cycle(0, monotonicMs(), 0.001, true, monotonicMs());
      sink.apply(core!.commands);
    }
  };
  let arrival = Number.NaN;
  const onSamples = (block: SampleBlock, arrivalMs: number): void => {
    arrival = arrivalMs;
    windows.push(block, onWindow);
  };
  l.on('samples', onSamples);
  // Worker path: the write log says when each frame's write(2) returned, and from which window.
  let logged = 0;
  let lost = 0;
  const drainLog = (): void => {
    const wl = loop?.writeLog;
    if (!wl) return;
    logged = wl.drain(
      logged,
      (src, t) => {
        if (!Number.isNaN(src) && src !== lastHostTime) {
          lastHostTime = src;
          lat.push(t - src);
        }
      },
      (n) => (lost += n),
    );
  };
  const poll = setInterval(drainLog, 200);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(poll);
  drainLog();
  let info = `windows ${windows.windows} (invalid ${windows.invalid}, unmapped blocks ${windows.unmapped})`;
  if (loop) {
    const s = emptyStats();
    loop.readStats(s);
    const c = loop.actuationCounters();
    const lc = l.counters().link;
    info += `; ${s.cycles} cycles, ${s.overruns} overruns, lateness p99 ${s.latenessP99Us.toFixed(0)} us`;
    if (mode === 'worker') {
      info +=
        `; frames ${c.framesWritten}, dropped no-fd ${c.droppedNoFd} full ${c.droppedFull}, partial ${c.partialWrites}, ` +
        `write errors ${c.writeErrors}, loop ACKs ${lc.loop_acks ?? 0}, loop ERRORs ${lc.loop_errors ?? 0}, log lost ${lost}`;
      errors += (lc.loop_errors ?? 0) + c.writeErrors + c.partialWrites + c.droppedFull;
    }
    offFd();
    await loop.stop();
  }
  // No new ACTUATE while the link stops: the no-loop path sends one from every window.
  l.off('samples', onSamples);
  p?.dispose();
  await l.stop();
  await fwStop();
  return { lat, errors, info };
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

function summary(lat: number[], prefix: string): Record<string, number> {
  const sl = sortedCopy(lat);
  if (sl.length === 0) return { [`${prefix}windows`]: 0 };
  return {
    [`${prefix}p50_ms`]: round(percentile(sl, 50)),
    [`${prefix}p99_ms`]: round(percentile(sl, 99)),
    [`${prefix}max_ms`]: round(sl[sl.length - 1]!),
    [`${prefix}windows`]: lat.length,
  };
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const i = argv.indexOf('--actuate-in');
  const only = i >= 0 ? argv[i + 1] : undefined;
  if (only !== undefined && only !== 'worker' && only !== 'main') throw new Error(`--actuate-in takes worker or main, got ${String(only)}`);
  const rest = i >= 0 ? [...argv.slice(0, i), ...argv.slice(i + 2)] : argv;
  const { duration } = benchArgs(rest, { duration: 20 });
  const first: Mode = only === 'main' ? 'dispatch' : 'worker';
  log(`latency: loop, actuators driven from ${first === 'worker' ? 'the worker' : 'the main-thread dispatcher'}, ${duration} s...`);
  const w = await run(duration, first);
  log(`latency: ${first}: ${w.lat.length} windows, ${w.errors} ACTUATE errors; ${w.info}`);
  let d: Awaited<ReturnType<typeof run>> | null = null;
  if (!only) {
    log(`latency: loop, main-thread dispatcher, ${duration} s...`);
    d = await run(duration, 'dispatch');
    log(`latency: dispatch: ${d.lat.length} windows, ${d.errors} ACTUATE errors; ${d.info}`);
  }
  log(`latency: same at SCHED_FIFO 50, ${duration} s...`);
  const rt = await run(duration, first, { fifo: 50 });
  log(`latency: rt: ${rt.lat.length} windows, ${rt.errors} ACTUATE errors; ${rt.info}`);
  let drt: Awaited<ReturnType<typeof run>> | null = null;
  if (!only) {
    log(`latency: main-thread dispatcher, loop at SCHED_FIFO 50, ${duration} s...`);
    drt = await run(duration, 'dispatch', { fifo: 50 });
    log(`latency: dispatch rt: ${drt.lat.length} windows, ${drt.errors} ACTUATE errors; ${drt.info}`);
  }
  log(`latency: main-thread baseline (no loop), ${duration} s...`);
  const m = await run(duration, 'main');
  log(`latency: main: ${m.lat.length} windows, ${m.errors} ACTUATE errors; ${m.info}`);
  const sm = sortedCopy(m.lat);
  return {
    actuate_in: first === 'worker' ? 'worker' : 'main',
    ...summary(w.lat, ''),
    ...(d ? summary(d.lat, 'main_') : {}),
    ...summary(rt.lat, 'rt_'),
    ...(drt ? summary(drt.lat, 'rt_main_') : {}),
    baseline_main_thread_p50_ms: round(percentile(sm, 50)),
    baseline_main_thread_p99_ms: round(percentile(sm, 99)),
    actuate_errors: w.errors + rt.errors + m.errors + (d?.errors ?? 0) + (drt?.errors ?? 0),
    load_average: loadavg().map((x) => Math.round(x * 10) / 10),
    duration_s: duration,
    machine: machine(),
  };
}
