/**
 * A closed-loop run of the simulated board without processes or clocks, for replay tests: the
 * firmware's offline EMG and poses go through the runtime's own SampleChain into windows, the
 * loop's own ControlCore (predictor, output map, limiter, watchdog) runs on a 100 Hz tick grid,
 * and what the runtime would publish is written to XDF by the layout's rules. Arrival times,
 * clock drift, an e-stop and a release are scripted, so every run is the same.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { OutputMap } from '../src/actuate/mapping.js';
import { SafetyLimiter } from '../src/actuate/safety.js';
import { loadBoard } from '../src/boards/load.js';
import type { SampleBlock } from '../src/core/block.js';
import { Counters } from '../src/core/counters.js';
import { ControlCore } from '../src/loop/core.js';
import type { ControlLoop } from '../src/loop/loop.js';
import { Predictor } from '../src/predict/predictor.js';
import { actuatorsSpec, blockSpec, companionSpec, predictionSpec, streamName } from '../src/record/layout.js';
import { XdfWriter } from '../src/record/xdf-writer.js';
import { SampleChain } from '../src/runtime/chain.js';
import { defaultConfig } from '../src/runtime/config.js';
import type { BlockTopic, TopicBodies } from '../src/telemetry/topics.js';
import type { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { readSimRecording } from '../src/train/simfile.js';

export const simHost = new URL('../firmware-bridge/build/reflex-bridge-host', import.meta.url).pathname;
export const defaultModel = new URL('../models/default', import.meta.url).pathname;

export interface SimRunOptions {
  dir: string;
  seconds: number;
  seed?: number;
  channels?: number;
  /** Model directory the loop runs; null: no model, no loop (a recording for training only). */
  model?: string | null;
  /** Publish every Nth loop tick, as telemetry does at its own rate (1: every tick). */
  publishEvery?: number;
  /** Ticks at which an e-stop and a release happen. */
  estopAt?: number;
  releaseAt?: number;
  /** Write the tracker stream (default true). */
  tracker?: boolean;
  /** Write the emg.features stream (default true). */
  features?: boolean;
  /** Run configuration and board in the header (default true). */
  header?: boolean;
}

interface Writer {
  w: XdfWriter;
  ids: Map<string, { data: number; companion?: number }>;
}

function writeBlock(x: Writer, topic: BlockTopic, b: SampleBlock, meta: { runtime: string; board: string }): void {
  const key = `${topic}/${b.stream}`;
  let s = x.ids.get(key);
  if (!s) {
    const name = streamName(topic, b.stream);
    const m = { ...meta, topic, stream: b.stream };
    const data = x.w.addStream(blockSpec(topic, name, { rate: b.rate, unit: b.unit, channels: b.channelNames }, m));
    const companion = x.w.addStream(companionSpec(name, m));
    s = { data, companion };
    x.ids.set(key, s);
  }
  x.w.writeBlock(s.data, b.data, b.samples, true, b.hostTimeMs, b.hostPeriodMs);
  x.w.writeSample(s.companion!, [b.firstSample, b.seq, b.samples, b.deviceTimeUs, b.hostTimeMs, b.hostPeriodMs, b.valid ? 1 : 0], b.hostTimeMs / 1000);
}

function emgBlock(emg: Float32Array, total: number, C: number, bi: number, B: number, hostTimeMs: number, P: number): SampleBlock {
  const data = new Float32Array(C * B);
  for (let c = 0; c < C; c++) data.set(emg.subarray(c * total + bi * B, c * total + (bi + 1) * B), c * B);
  return {
    stream: 'emg',
    channels: C,
    samples: B,
    rate: 2000,
    data,
    channelNames: Array.from({ length: C }, (_, i) => `ch${i + 1}`),
    unit: 'uV',
    firstSample: bi * B,
    seq: bi,
    deviceTimeUs: bi * B * 500,
    hostTimeMs,
    hostPeriodMs: P,
    valid: true,
  };
}

function trackerBlock(names: readonly string[], unit: string, values: Float32Array, hostTimeMs: number, seq: number): SampleBlock {
  return {
    stream: 'tracker',
    channels: names.length,
    samples: 1,
    rate: 100,
    data: values,
    channelNames: names,
    unit,
    firstSample: seq,
    seq,
    deviceTimeUs: Number.NaN,
    hostTimeMs,
    hostPeriodMs: 10,
    valid: true,
  };
}

/** Runs the scripted session and returns the XDF file's path. */
export async function simRun(o: SimRunOptions): Promise<string> {
  const C = o.channels ?? 8;
  const raw = join(o.dir, `sim-${o.seconds}-${C}.bin`);
  execFileSync(simHost, ['--offline', String(o.seconds), '--out', raw, '--rate', '2000', '--channels', String(C), '--seed', String(o.seed ?? 7)]);
  const sim = readSimRecording(raw);
  const sim8 = loadBoard('sim');
  // The sim board at another channel count (the firmware synthesises any): same actuators and tracker.
  const board = C === 8 || sim8.source.kind !== 'bridge' ? sim8 : { ...sim8, source: { ...sim8.source, channels: C } };
  const config = defaultConfig('sim');
  config.model = o.model === undefined ? defaultModel : o.model;
  const file = join(
    o.dir,
    `run-${o.seconds}-${o.publishEvery ?? 1}-${o.seed ?? 7}-${C}${o.model === null ? '-nomodel' : ''}${o.tracker === false ? '-notracker' : ''}.xdf`,
  );
  if (config.model === null) {
    // Training data only: raw EMG and tracker, as a run without a model records them.
    const x: Writer = { w: new XdfWriter(file, { overwrite: true, header: { config, board_def: board } }), ids: new Map() };
    const m = { runtime: 'test', board: 'sim' };
    const B = 20;
    const P = 0.5 * (1 + 12e-6);
    let pi = 0;
    for (let bi = 0; bi < Math.floor(sim.samples / B); bi++) {
      const t = 5000.25 + bi * B * P;
      while (o.tracker !== false && pi < sim.poses && 5000.25 + pi * 10 <= t) {
        const values = sim.tracker.slice(pi * sim.dims, (pi + 1) * sim.dims);
        writeBlock(x, 'tracker', trackerBlock(board.tracker!.names, board.tracker!.unit, values, 5000.25 + pi * 10, pi), m);
        pi++;
      }
      writeBlock(x, 'emg.raw', emgBlock(sim.emg, sim.samples, C, bi, B, t, P), m);
    }
    x.w.close();
    return file;
  }
  const predictor = await Predictor.load(config.model, { warmUp: 1 });
  const meta = predictor.meta;
  const header = { config, board_def: board, predictor: { path: predictor.info.path } };
  const x: Writer = { w: new XdfWriter(file, { overwrite: true, ...(o.header !== false && { header }) }), ids: new Map() };
  const m = { runtime: 'test', board: 'sim' };

  // What the runtime publishes, to the file; the loop's latest window, as ControlLoop holds it.
  const latest = new Float32Array(meta.input.samples * meta.input.channels);
  let latestEnd = Number.NaN;
  let windows = 0;
  const pub = {
    publishBlock(topic: BlockTopic, b: SampleBlock): void {
      if (topic === 'emg.features' && o.features === false) return;
      writeBlock(x, topic, b, m);
    },
    publish<T extends keyof TopicBodies>(topic: T, body: TopicBodies[T]): void {
      if (topic !== 'tracker' || o.tracker === false) return;
      const t = body as TopicBodies['tracker'];
      writeBlock(
        x,
        'tracker',
        {
          stream: t.stream,
          channels: t.channels.length,
          samples: 1,
          rate: t.rate,
          data: Float32Array.from(t.data),
          channelNames: t.channels,
          unit: t.unit,
          firstSample: t.first_sample,
          seq: t.block_seq,
          deviceTimeUs: t.device_time_us,
          hostTimeMs: t.host_time_ms,
          hostPeriodMs: t.host_period_ms,
          valid: t.valid,
        },
        m,
      );
    },
  };
  const loop = {
    pushWindow(data: Float32Array, hostTimeMs: number): void {
      latest.set(data);
      latestEnd = hostTimeMs;
      windows++;
    },
  };
  const chain = new SampleChain({
    config,
    board,
    counters: new Counters(),
    pub: pub as unknown as TelemetryPublisher,
    loop: () => loop as unknown as ControlLoop,
  });
  chain.setModel(meta);
  chain.sizeWindow(meta);

  const mapping = config.outputs.filter((e) => board.actuators.some((a) => a.name === e.actuator));
  const map = new OutputMap(mapping, board.actuators, predictor.info.outputNames);
  const core = new ControlCore({
    predictor,
    map: new OutputMap(mapping, board.actuators, predictor.info.outputNames),
    limiter: new SafetyLimiter(board.actuators),
    watchdog: { staleMs: config.loop.staleMs, overrunStreak: 5 },
    startArmed: true,
    onEvent: () => {},
  });
  const A = board.actuators.length;
  const predId = x.w.addStream(
    predictionSpec(streamName('prediction', undefined), { names: predictor.info.outputNames, unit: '', model: 'default' }, { ...m, topic: 'prediction' }),
  );
  const actId = x.w.addStream(
    actuatorsSpec(
      streamName('actuators', undefined),
      { names: board.actuators.map((a) => a.name), units: board.actuators.map((a) => a.unit) },
      { ...m, topic: 'actuators' },
    ),
  );
  const target = new Float64Array(A);

  // Host clock: the board's clock runs 12 ppm fast; blocks of 20 samples arrive 3 ms after their last sample.
  const T0 = 5000.25;
  const P = 0.5 * (1 + 12e-6);
  const B = 20;
  const nBlocks = Math.floor(sim.samples / B);
  const periodMs = 1000 / config.loop.rateHz;
  const S0 = T0 + 7.3;
  let bi = 0;
  let pi = 0;
  let seen = 0;
  let inputAt = S0;
  let inputEnd = Number.NaN;
  let lastK = -1;
  const endMs = T0 + nBlocks * B * P;
  for (let k = 0; S0 + k * periodMs < endMs; k++) {
    const now = S0 + k * periodMs;
    for (;;) {
      const blockArrives = bi < nBlocks ? T0 + ((bi + 1) * B - 1) * P + 3 : Infinity;
      const poseArrives = pi < sim.poses ? T0 + pi * 10 + 1 : Infinity;
      if (Math.min(blockArrives, poseArrives) > now) break;
      if (blockArrives <= poseArrives) {
        chain.onSamples(emgBlock(sim.emg, sim.samples, C, bi, B, T0 + bi * B * P, P));
        bi++;
      } else {
        chain.onTracker({ hostTimeMs: T0 + pi * 10, values: sim.tracker.subarray(pi * sim.dims, (pi + 1) * sim.dims), valid: true, seq: pi });
        pi++;
      }
    }
    if (k === o.estopAt) core.estop('estop', k, now);
    if (k === o.releaseAt) core.release(k, now);
    // As LoopRunner.cycle: a new window is fresh input.
    let fresh = false;
    if (windows !== seen) {
      seen = windows;
      core.input.set(latest);
      inputAt = now;
      inputEnd = latestEnd;
      fresh = true;
    }
    const dtS = lastK < 0 ? periodMs / 1000 : ((k - lastK) * periodMs) / 1000;
    lastK = k;
    core.cycle(k, now, dtS, fresh, inputAt);
    if (k % (o.publishEvery ?? 1) !== 0) continue;
    // As RunReporter.tick.
    map.map(core.outputs, target);
    const row = [k, inputEnd, 0.1, ...core.outputs];
    x.w.writeSample(predId, row, now / 1000);
    const applied = Float32Array.from(core.commands);
    const requested = Float32Array.from(core.safe ? applied : target);
    x.w.writeSample(actId, [k, core.safe ? 1 : 0, ...requested, ...applied, ...requested.map((r, i) => (r === applied[i] ? 0 : 1))], now / 1000);
  }
  x.w.close();
  predictor.dispose();
  return file;
}
