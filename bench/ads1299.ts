/**
 * `npm run bench -- ads1299 [--duration S] [--rate HZ]`: the ads1299 source's read path at 8
 * channels x 2 kHz for 30 s. The ADC is the datasheet model (src/hal/spi-fake.ts); its data-ready
 * edges come from a worker thread keeping the ideal sample grid (sleeping, then spinning the last
 * 200 µs to each grid point), posted to the main thread, which converts and drives the fake GPIO
 * line: the driver stamps, reads, converts and blocks each sample as it would on a Pi. Like the
 * chip, the model keeps only its latest conversion: an edge handled after the next grid point
 * reads that one, and the conversions in between are lost (counted by the driver as missed edges).
 *
 * Figures: `samples_per_s` (per channel: 8 x 2000 = 16,000 when nothing is lost); `lost` (grid
 * points never delivered as samples); `cpu_percent` of the main thread alone (/proc/self/task/PID/stat,
 * so the worker's spinning is not counted); `timestamp_jitter_us`: median |edge stamp - ideal grid
 * point - median offset|, with the p99 and the constant offset (worker-to-main message latency);
 * `mapped_jitter_us`: the same for the clock model's host times of each block's first sample.
 */
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Ads1299Device } from '../src/devices/ads1299/device.js';
import { startWorker } from '../src/core/worker.js';
import { FakeGpio } from '../src/hal/gpio-fake.js';
import { FakeAds1299 } from '../src/hal/spi-fake.js';
import { ClockModel } from '../src/time/clock-model.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { benchArgs, log, machine, median, percentile, sortedCopy } from './_util.js';

interface Grid {
  role: 'ads1299-edges';
  periodMs: number;
  count: number;
}

if (!isMainThread && (workerData as Grid | undefined)?.role === 'ads1299-edges') {
  // Ready first (loading the worker takes a while under tsx), then the grid's start from the main thread.
  parentPort!.once('message', (t0: number) => edgeWorker(workerData as Grid, t0));
  parentPort!.postMessage(-2);
}

/** Posts k at grid point t0 + k * period: Atomics.wait until 200 µs before, then spin. */
function edgeWorker(g: Grid, t0: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let k = 0; k < g.count; k++) {
    const target = t0 + k * g.periodMs;
    const wait = target - monotonicMs() - 0.2;
    if (wait > 0.05) Atomics.wait(sleeper, 0, 0, wait);
    while (monotonicMs() < target);
    parentPort!.postMessage(k);
  }
  parentPort!.postMessage(-1);
}

/** utime + stime of this process's main thread, seconds (clock ticks of 1/100 s on Linux). */
function mainThreadCpuS(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 30 });
  const rate = Number(values.rate ?? 2000) as 2000;
  const channels = 8;
  const periodMs = 1000 / rate;
  const count = Math.round(duration * rate);
  const spi = new FakeAds1299();
  const gpio = new FakeGpio();
  const ref = { chip: 'reflex-sim', line: 25 };
  spi.onDataReady = (level) => gpio.drive(ref, level);
  const stamps = new Float64Array(count).fill(Number.NaN);
  let pendingK = -1;
  const dev = new Ads1299Device({
    spi,
    dataReady: gpio.input(ref, 'falling'),
    source: { kind: 'ads1299', rate, channels, gain: 24 },
    resetWait: () => Promise.resolve(),
    now: () => {
      const t = monotonicMs();
      if (pendingK >= 0) stamps[pendingK] = t;
      pendingK = -1;
      return t;
    },
  });
  const clock = new ClockModel({ name: 'ads1299-bench' });
  const mappedAt = new Float64Array(count).fill(Number.NaN);
  let samples = 0;
  dev.on('samples', (block, arrivalMs) => {
    samples += block.samples;
    if (clock.ingestBlock(block, arrivalMs) && block.firstSample < count) mappedAt[block.firstSample] = block.hostTimeMs;
  });
  await dev.start();
  const worker = startWorker(new URL(import.meta.url), { workerData: { role: 'ads1299-edges', periodMs, count } satisfies Grid });
  let t0 = Number.NaN;
  let cpu0 = 0;
  let lastK = -1;
  await new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (k: number) => {
      if (k === -2) {
        t0 = monotonicMs() + 50;
        cpu0 = mainThreadCpuS();
        worker.postMessage(t0);
        return;
      }
      if (k < 0) return resolve();
      // The chip holds only its latest conversion: a message handled late reads the conversion of
      // now, the ones in between overwritten (real losses, as on a Pi whose host was late).
      const kNow = Math.max(k, Math.min(count - 1, Math.floor((monotonicMs() - t0) / periodMs)));
      if (kNow <= lastK) return;
      pendingK = kNow;
      spi.convert(kNow - lastK - 1);
      lastK = kNow;
    });
  });
  const wallS = (monotonicMs() - t0) / 1000;
  const cpuS = mainThreadCpuS() - cpu0;
  dev.stop();
  await worker.terminate();
  const offsets: number[] = [];
  for (let k = 0; k < count; k++) if (stamps[k] === stamps[k]) offsets.push(stamps[k]! - (t0 + k * periodMs));
  const off50 = median(offsets);
  const dev1 = sortedCopy(offsets.map((o) => Math.abs(o - off50) * 1000));
  const mapped: number[] = [];
  // The model's first seconds are its lock-in; judge the locked part.
  for (let k = Math.min(count, 5 * rate); k < count; k++) if (mappedAt[k] === mappedAt[k]) mapped.push(mappedAt[k]! - (t0 + k * periodMs));
  const m50 = median(mapped);
  const mdev = sortedCopy(mapped.map((o) => Math.abs(o - m50) * 1000));
  const r = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  log(`ads1299: ${samples} samples of ${count} grid points in ${duration} s`);
  return {
    bench: 'ads1299',
    rate,
    channels,
    duration_s: duration,
    samples_per_s: r((samples * channels) / duration, 0),
    lost: count - samples,
    missed_edges: dev.counter('missed_edges'),
    cpu_percent: r((100 * cpuS) / wallS),
    timestamp_jitter_us: r(percentile(dev1, 50)),
    timestamp_jitter_p99_us: r(percentile(dev1, 99)),
    timestamp_offset_us: r(off50 * 1000),
    mapped_jitter_us: mapped.length ? r(percentile(mdev, 50)) : null,
    mapped_jitter_p99_us: mapped.length ? r(percentile(mdev, 99)) : null,
    machine: machine(),
  };
}
