/**
 * `npm run bench -- ads1299 [--duration S] [--rate HZ] [--fifo PRIO] [--load-every MS] [--load-min MS] [--load-max MS]`:
 * the ads1299 source's read path at 8 channels x 2 kHz for 30 s, with the main thread busy.
 *
 * Three threads, as deployed plus a stand-in for the hardware:
 * - the oscillator thread (src/devices/ads1299/fake-edges.ts, SCHED_FIFO 60) is the chip's clock
 *   and the kernel's GPIO interrupt: at each grid point it makes the conversion the chip's latest,
 *   stamps the data-ready edge with the clock at that moment and queues it in a 16-event buffer
 *   (the kernel's default per line);
 * - the reader thread (src/devices/ads1299/reader-worker.ts, SCHED_FIFO 40 as the source asks at
 *   1 kHz and above; `--fifo 0`: normal) runs the real driver: it takes each queued edge with its
 *   stamp, reads the datasheet model over the SPI interface (the model clocks out whatever
 *   conversion is the latest at the moment of the read: a frame not read in time is gone), counts
 *   conversions against the grid and writes blocks into the shared ring;
 * - the main thread drains the ring into SampleBlocks and the clock model, as the runtime does,
 *   and every `--load-every` ms (default 20) runs a busy task of `--load-min`..`--load-max` ms
 *   (default 2-5, uniformly drawn) standing in for telemetry encoding, a garbage collection or a
 *   control request. `--load-every 0` turns it off.
 *
 * Every sample's data is checked against the conversion its number claims (channel 1 carries the
 * conversion's number), so `lost` is counted here against the grid, not taken from the driver.
 *
 * Figures: `samples_per_s` (per channel, correct samples only: 16,000 at 8 x 2 kHz when nothing
 * is lost); `lost` (grid points not delivered as a correct sample), of which
 * `lost_while_model_overslept` were conversions whose edge the oscillator thread itself raised
 * more than 0.1 period late (the machine ran neither it nor, likely, the reader), `corrupt`
 * (samples holding another conversion's data: must be 0); the driver's `driver_lost`,
 * `missed_edges`, `late_reads`, `ring_overflows` (samples dropped because the main thread did not
 * drain the ring: must be 0); `cpu_percent` of the reader thread alone and `main_cpu_percent`
 * (includes the busy task); `busy_ms_per_s`, the main thread's extra load as run, and its longest
 * task; `delivery_latency_ms` (edge stamp to the main thread getting the block: what the busy
 * task costs, harmlessly); `service_latency_us` (edge stamp to the reader thread taking it: p50, p99,
 * p99.9, max; over 0.9 periods, 450 µs at 2 kHz, the conversion is lost); `timestamp_jitter_us`: median |block's first-sample stamp - its grid
 * point - median offset|, with p99 and the offset, and `stamp_errors`, blocks whose stamp is not
 * their first sample's own edge stamp (must be 0); `mapped_jitter_us`: the same for the clock
 * model's host times after its first 5 s; `load_avg` at the start and end.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mulberry32 } from '../src/core/prng.js';
import { Logger } from '../src/core/log.js';
import { allocEdgeQueue, edgeQueueStats, startOscillator } from '../src/devices/ads1299/fake-edges.js';
import { Ads1299Reader } from '../src/devices/ads1299/reader.js';
import { ClockModel } from '../src/time/clock-model.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { benchArgs, log, machine, median, percentile, sortedCopy } from './_util.js';

/** utime + stime of one of this process's threads, seconds (clock ticks of 1/100 s on Linux). */
function threadCpuS(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function busy(ms: number): void {
  const end = monotonicMs() + ms;
  while (monotonicMs() < end);
}

const PERIOD = 50_000;

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 30 });
  const rate = Number(values.rate ?? 2000) as 2000;
  const fifo = values.fifo === undefined ? 40 : Number(values.fifo);
  const loadEvery = values['load-every'] === undefined ? 20 : Number(values['load-every']);
  const loadMin = values['load-min'] === undefined ? 2 : Number(values['load-min']);
  const loadMax = values['load-max'] === undefined ? 5 : Number(values['load-max']);
  const channels = 8;
  const periodMs = 1000 / rate;
  const count = Math.round(duration * rate);
  const r = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  const loadStart = loadavg().map((x) => r(x, 2));

  const queue = allocEdgeQueue(undefined, { serviceLog: count });
  const kernelBuf = new SharedArrayBuffer(8 * count);
  const kernel = new Float64Array(kernelBuf);
  const oversleptBuf = new SharedArrayBuffer(count);
  const overslept = new Uint8Array(oversleptBuf);
  const osc = await startOscillator({ periodMs, count, queue, kernel: kernelBuf, overslept: oversleptBuf, fifo: 60 });
  const reader = new Ads1299Reader({
    log: new Logger({ component: 'bench' }),
    config: {
      spiPath: 'fake:ads1299',
      spi: { mode: 1, speedHz: 4_000_000, bus: 0, chipSelect: 0 },
      dataReady: { chip: 'reflex-sim', line: 25 },
      source: { kind: 'ads1299', rate, channels, gain: 24 },
      edges: queue,
      modelSignalPeriod: PERIOD,
      resetWaitMs: 0,
      ...(fifo > 0 && { priority: { fifo } }),
    },
  });
  const correct = new Uint8Array(count);
  const clock = new ClockModel({ name: 'ads1299-bench' });
  const blockAt = new Float64Array(count).fill(Number.NaN);
  const mappedAt = new Float64Array(count).fill(Number.NaN);
  const deliveryMs = new Float64Array(Math.ceil(count / 8) + 16);
  let deliveries = 0;
  // Gain 24 x counts x µV per count at gain 24 = counts x µV per count at gain 1.
  const lsb1 = (9 / 2 ** 24) * 1e6;
  let good = 0;
  let corrupt = 0;
  reader.on('samples', (block, arrivalMs) => {
    const S = block.samples;
    for (let i = 0; i < S; i++) {
      const n = block.firstSample + i;
      const first = Math.round(block.data[i]! / lsb1) - 1000;
      const last = -Math.round(block.data[7 * S + i]! / lsb1) - 8000;
      if (first === n % PERIOD && last === n % PERIOD && n < count) {
        good++;
        correct[n] = 1;
      } else corrupt++;
    }
    if (deliveries < deliveryMs.length) deliveryMs[deliveries++] = monotonicMs() - arrivalMs;
    if (block.firstSample < count) blockAt[block.firstSample] = arrivalMs;
    if (clock.ingestBlock(block, arrivalMs) && block.firstSample < count) mappedAt[block.firstSample] = block.hostTimeMs;
  });
  await reader.start();
  const tid = reader.thread.tid;

  // The main thread's extra work: a seeded draw, so runs are comparable.
  const rnd = mulberry32(0xad51299);
  let busyMs = 0;
  let busyWorst = 0;
  const loadTimer =
    loadEvery > 0
      ? setInterval(() => {
          const ms = loadMin + (loadMax - loadMin) * rnd();
          const b0 = monotonicMs();
          busy(ms);
          const took = monotonicMs() - b0;
          busyMs += took;
          if (took > busyWorst) busyWorst = took;
        }, loadEvery)
      : null;

  const t0 = monotonicMs() + 50;
  const cpuReader0 = threadCpuS(tid);
  const cpuMain0 = threadCpuS(process.pid);
  await osc.run(t0);
  const wallS = (monotonicMs() - t0) / 1000;
  const cpuReaderS = threadCpuS(tid) - cpuReader0;
  const cpuMainS = threadCpuS(process.pid) - cpuMain0;
  if (loadTimer) clearInterval(loadTimer);
  // The reader has the last edges queued or in hand; give it a moment to take them (bounded).
  const deadline = monotonicMs() + 2000;
  while (reader.counter('samples') + reader.counter('lost') < count && monotonicMs() < deadline) await new Promise((res) => setTimeout(res, 10));
  await reader.close();
  await osc.terminate();

  let lostModelLate = 0;
  for (let k = 0; k < count; k++) if (!correct[k] && overslept[k]) lostModelLate++;
  const offsets: number[] = [];
  let stampErrors = 0;
  for (let k = 0; k < count; k++) {
    if (blockAt[k] !== blockAt[k]) continue;
    offsets.push(blockAt[k]! - (t0 + k * periodMs));
    if (blockAt[k] !== kernel[k]) stampErrors++;
  }
  const off50 = median(offsets);
  const dev1 = sortedCopy(offsets.map((o) => Math.abs(o - off50) * 1000));
  const mapped: number[] = [];
  // The model's first seconds are its lock-in; judge the locked part.
  for (let k = Math.min(count, 5 * rate); k < count; k++) if (mappedAt[k] === mappedAt[k]) mapped.push(mappedAt[k]! - (t0 + k * periodMs));
  const m50 = median(mapped);
  const mdev = sortedCopy(mapped.map((o) => Math.abs(o - m50) * 1000));
  const deliv = sortedCopy(deliveryMs.subarray(0, deliveries));
  const svcAll = new Float64Array(queue.service!);
  let taken = 0;
  while (taken < svcAll.length && svcAll[taken] !== 0) taken++;
  const svc = sortedCopy(svcAll.subarray(0, taken).map((x) => x * 1000));
  const q = edgeQueueStats(queue);
  log(
    `ads1299: ${good} correct samples of ${count} grid points in ${duration} s; reader thread ${reader.thread.priority}; ` +
      `oscillator ${osc.priority}; main thread busy ${r(busyMs / wallS)} ms/s`,
  );
  return {
    bench: 'ads1299',
    rate,
    channels,
    duration_s: duration,
    samples_per_s: r((good * channels) / duration, 0),
    lost: count - good,
    lost_while_model_overslept: lostModelLate,
    corrupt,
    driver_lost: reader.counter('lost'),
    missed_edges: reader.counter('missed_edges'),
    late_reads: reader.counter('late_reads'),
    ring_overflows: reader.counter('ring_overflows'),
    queue_overflows: q.overflows,
    cpu_percent: r((100 * cpuReaderS) / wallS),
    main_cpu_percent: r((100 * cpuMainS) / wallS),
    busy_ms_per_s: r(busyMs / wallS),
    busy_worst_ms: r(busyWorst, 2),
    busy_task: loadEvery > 0 ? `${loadMin}-${loadMax} ms every ${loadEvery} ms` : 'none',
    service_latency_us: { p50: r(percentile(svc, 50)), p99: r(percentile(svc, 99)), p999: r(percentile(svc, 99.9)), max: r(svc[svc.length - 1] ?? Number.NaN) },
    delivery_latency_ms: { p50: r(percentile(deliv, 50), 2), p99: r(percentile(deliv, 99), 2), max: r(deliv[deliv.length - 1] ?? Number.NaN, 2) },
    timestamp_jitter_us: r(percentile(dev1, 50)),
    timestamp_jitter_p99_us: r(percentile(dev1, 99)),
    timestamp_offset_us: r(off50 * 1000),
    stamp_errors: stampErrors,
    mapped_jitter_us: mapped.length ? r(percentile(mdev, 50)) : null,
    mapped_jitter_p99_us: mapped.length ? r(percentile(mdev, 99)) : null,
    sim_late_edges: q.simLateEdges,
    sim_worst_late_us: r(q.simWorstLateUs),
    reader_priority: reader.thread.priority,
    sim_priority: osc.priority,
    ring_slots: reader.ringSlots,
    load_avg_start: loadStart,
    load_avg: loadavg().map((x) => r(x, 2)),
    machine: machine(),
  };
}
