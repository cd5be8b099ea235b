/**
 * Soak: the whole control chain for a long time, watching for leaks and degradation.
 *   npm run bench -- soak [--duration SECONDS]   (default 300)
 *
 * Chain (all real): firmware-bridge host on a pty (2 kHz x 8 ch) -> BridgeLink -> the
 * default model's units pipeline -> FeatureWindow -> loop worker at 1 kHz (compiled default
 * model, limits, watchdog) -> dispatcher -> BridgeActuator -> ACTUATE back to the firmware.
 * The watchdog is armed (stale 1 s, 50 overruns in a row); any safety event is reported.
 * Memory is sampled every 2 s; growth is measured from the end of the first fifth (after
 * warm-up) to the end, as the slope of a least-squares line, in MB per hour.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createActuators } from '../src/actuate/set.js';
import type { BoardDef } from '../src/boards/types.js';
import { nullLogger } from '../src/core/log.js';
import { BridgeLink } from '../src/devices/bridge-link.js';
import { startSimFirmware } from '../src/devices/sim-firmware.js';
import { openNodeSerial } from '../src/hal/serial-node.js';
import { ControlLoop } from '../src/loop/loop.js';
import { emptyStats } from '../src/loop/stats.js';
import type { SafetyEvent } from '../src/loop/watchdog.js';
import { FeatureWindow } from '../src/loop/window.js';
import { readModelMeta } from '../src/predict/metadata.js';
import { buildPipeline } from '../src/units/registry.js';
import { benchArgs, log, machine } from './_util.js';
import { MAPPING } from './loop.js';

const MODEL = new URL('../models/default', import.meta.url).pathname;
const board = JSON.parse(readFileSync(new URL('../boards/sim.json', import.meta.url), 'utf8')) as BoardDef;

function slopePerHour(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxy / sxx;
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 300 });
  const fw = await startSimFirmware({ rate: 2000, channels: 8, seed: 21 });
  const link = new BridgeLink({ open: openNodeSerial, path: fw.path, rate: 2000, channels: 8, logger: nullLogger() });
  await link.start();
  let actuateErrors = 0;
  let gaps = 0;
  link.on('gap', () => gaps++);
  link.on('error', () => {});
  const sink = createActuators(board.actuators, {
    bridge: { send: (entries) => void link.actuate(entries.map((e) => ({ ...e }))).catch(() => actuateErrors++) },
  });
  const loop = await ControlLoop.start({
    schedule: { rateHz: 1000, policy: 'skip' }, watchdog: { staleMs: 1000, overrunStreak: 50 },
    predictor: { kind: 'model', dir: MODEL, mode: 'compiled', warmUp: 200 }, actuators: board.actuators, mapping: MAPPING, sink,
    startArmed: true, statsWindow: 1 << 16,
  });
  const events: SafetyEvent[] = [];
  loop.onSafetyEvent((e) => {
    events.push(e);
    log(`soak: safety event ${e.reason} ${e.detail}`);
  });
  const meta = readModelMeta(MODEL);
  const pipeline = buildPipeline((meta.features as { pipeline: unknown[] }).pipeline, { input: { rate: 2000, channels: 8 } });
  const win = new FeatureWindow(meta.input.channels, meta.input.samples);
  let arrival = 0;
  let windows = 0;
  const onWindow = (w: Float32Array): void => {
    windows++;
    loop.pushWindow(w, arrival);
  };
  link.on('samples', (block, arrivalMs) => {
    arrival = arrivalMs;
    win.push(pipeline.process(block), onWindow);
  });
  const rss: Array<[number, number]> = [];
  const heap: Array<[number, number]> = [];
  const t0 = performance.now();
  const stats = emptyStats();
  let worstP99 = 0;
  while (performance.now() - t0 < duration * 1000) {
    await new Promise((r) => setTimeout(r, 2000));
    const t = (performance.now() - t0) / 1000;
    const m = process.memoryUsage();
    rss.push([t / 3600, m.rss / 2 ** 20]);
    heap.push([t / 3600, m.heapUsed / 2 ** 20]);
    if (loop.readStats(stats)) worstP99 = Math.max(worstP99, stats.latenessP99Us);
  }
  loop.readStats(stats);
  await loop.stop();
  await link.stop();
  await fw.stop();
  const from = Math.floor(rss.length / 5);
  const round = (v: number): number => Math.round(v * 100) / 100;
  return {
    duration_s: duration, cycles: stats.cycles, overruns: stats.overruns, skipped: stats.skipped, windows, windows_seen_by_loop: stats.inputsSeen,
    lateness_p99_us_last_window: round(stats.latenessP99Us), lateness_max_us: round(stats.latenessMaxAllUs), compute_p99_us: round(stats.computeP99Us),
    safety_events: events.length, safety_reasons: [...new Set(events.map((e) => e.reason))], actuate_errors: actuateErrors, link_gaps: gaps,
    rss_mb_end: round(rss.at(-1)?.[1] ?? Number.NaN), rss_growth_mb_per_h: round(slopePerHour(rss.slice(from))),
    heap_mb_end: round(heap.at(-1)?.[1] ?? Number.NaN), heap_growth_mb_per_h: round(slopePerHour(heap.slice(from))),
    load_average: loadavg().map((x) => round(x)), machine: machine(),
  };
}
