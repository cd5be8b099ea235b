/**
 * Soak: the simulated board run as `npm start` runs it (Runtime with the default run
 * configuration: firmware host build on a pty, link, clock model, units, aligner, loop worker
 * with the default model, bridge actuators, telemetry with a live subscriber), for a long time,
 * watching for leaks and degradation.
 *   npm run bench -- soak [--duration SECONDS]   (default 600)
 *
 * Memory (process RSS, which includes the loop worker's heap) is sampled every 2 s. Warm-up is
 * the first fifth of the run (at least 120 s, at most half). `rss_growth_mb` = median of the last
 * five samples minus median of the first five after warm-up; the least-squares slope over the
 * same span is reported beside it, and `heap_growth_mb` / `external_growth_mb` the same way for
 * the main thread's JS heap and its Buffers. `tensors_growth` = TensorFlow.js tensors alive in the worker at
 * stop minus after warm-up.
 */
import { loadavg } from 'node:os';
import { nullLogger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { benchArgs, log, machine, median } from './_util.js';

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 600 });
  const cfg = defaultConfig('sim');
  cfg.runtimeId = 'soak';
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = null;
  const rt = await Runtime.start(cfg, { log: nullLogger(), guardProcess: false, arm: true });
  const loop = rt.loop!;
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!] });
  let received = 0;
  const reading = (async () => {
    for await (const _m of client) received++;
  })();
  log(`soak: sim board via Runtime for ${duration} s (loop ${cfg.loop.rateHz} Hz, model ${cfg.model})`);

  const rss: Array<[number, number]> = [];
  const heap: Array<[number, number]> = [];
  const external: Array<[number, number]> = [];
  const t0 = performance.now();
  while (performance.now() - t0 < duration * 1000) {
    await new Promise((r) => setTimeout(r, 2000));
    const t = (performance.now() - t0) / 1000;
    const m = process.memoryUsage();
    rss.push([t, m.rss / 2 ** 20]);
    heap.push([t, m.heapUsed / 2 ** 20]);
    external.push([t, m.external / 2 ** 20]);
    if (rss.length % 15 === 0)
      log(
        `soak: ${t.toFixed(0)} s rss ${(m.rss / 2 ** 20).toFixed(1)} MB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MB, ` +
          `external ${(m.external / 2 ** 20).toFixed(1)} MB`,
      );
  }
  const status = rt.status() as { counters: Record<string, number>; loop: { cycles: number; overruns: number; lateness_p99_us: number } };
  await client.close();
  await reading;
  await rt.stop();

  // Resident memory climbs for about two minutes after start (heaps and the allocator settling),
  // then stays flat: a shorter warm-up measures that climb, not a leak.
  const warm = Math.min(Math.max(120, duration / 5), duration / 2);
  const after = rss.filter(([t]) => t >= warm);
  const first = median(after.slice(0, 5).map(([, v]) => v));
  const last = median(after.slice(-5).map(([, v]) => v));
  const round = (v: number): number => Math.round(v * 100) / 100;
  // The same growth for the main thread's JS heap and its external memory (Buffers): flat
  // while RSS grows means the allocator is keeping freed memory, not a leak in our objects.
  const growth = (xs: Array<[number, number]>): number => {
    const a = xs.filter(([t]) => t >= warm);
    return round(median(a.slice(-5).map(([, v]) => v)) - median(a.slice(0, 5).map(([, v]) => v)));
  };
  const safety = Object.entries(status.counters).filter(([k]) => k.startsWith('safety.'));
  return {
    duration_s: duration,
    warmup_s: round(warm),
    rss_growth_mb: round(last - first),
    rss_slope_mb_per_h: round(slope(after) * 3600),
    rss_mb_after_warmup: round(first),
    rss_mb_end: round(last),
    heap_growth_mb: growth(heap),
    external_growth_mb: growth(external),
    tensors_growth: loop.tensorsGrowth,
    tensors_after_warmup: loop.predictor.tensors ?? null,
    loop_cycles: status.loop.cycles,
    loop_overruns: status.loop.overruns,
    loop_lateness_p99_us_last_window: round(status.loop.lateness_p99_us),
    safety_events: Object.fromEntries(safety),
    gaps: status.counters.gaps ?? 0,
    samples: status.counters['source.samples'] ?? 0,
    telemetry_received: received,
    load_average: loadavg().map(round),
    machine: machine(),
  };
}

/** Least-squares slope of (seconds, MB) points, MB per second. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  let sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}
