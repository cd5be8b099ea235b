/**
 * Recording cost: the simulated board at 16 channels x 2 kHz run by the Runtime (units,
 * aligner, loop worker with a 16-channel MLP, telemetry) with `reflex run --record`'s tap, the
 * recorder switched on and off in alternating phases of the same run. cpu_percent is the
 * median process CPU (all threads: main, loop worker, the fsync thread) with recording minus
 * without, in % of one core (cpu_paired_percent: the median of each on phase minus the off
 * phase before it; recorder_busy_percent: time inside the recorder's calls and its write()s, a
 * lower bound (no GC, no fsync) that the machine's noise does not blur). `lost` compares what the tap handed the recorder in the "on"
 * phases with what the XDF file holds: emg.raw samples (first_sample continuity inside each
 * phase) plus every other topic's messages; `source_gaps` is the source's own gap counter (a
 * recorder stalling the main thread would show there).
 *
 * The 16-channel model is an untrained MLP of the default model's shape (seeded weights): the
 * models/default model has 8 inputs, and its outputs do not change what recording costs.
 *   npm run bench -- record [--duration 40] [--phases 4]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { SampleBlock } from '../src/core/block.js';
import { nullLogger } from '../src/core/log.js';
import type { ReflexModelMeta } from '../src/predict/metadata.js';
import { companionOf, streamsOf } from '../src/record/layout.js';
import { openRunRecorder } from '../src/record/run-recorder.js';
import { readRecording } from '../src/record/xdf-reader.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { PublishTap } from '../src/telemetry/publisher.js';
import type { BlockTopic, Topic, TopicBodies } from '../src/telemetry/topics.js';
import { saveReflexModel } from '../src/train/save.js';
import { benchArgs, log, machine, median } from './_util.js';

const CHANNELS = 16;
const RATE = 2000;

/** Forwards to the recorder only while `on`; counts what it forwarded. */
class SwitchTap implements PublishTap {
  on = false;
  readonly messages = new Map<Topic, number>();
  /** emg.raw first_sample ranges [start, end) forwarded, one per "on" phase. */
  readonly ranges: Array<[number, number]> = [];
  /** Wall time spent inside the recorder's calls, ms (main thread). */
  busyMs = 0;
  #open = false;
  constructor(readonly target: PublishTap) {}
  message<T extends Topic>(topic: T, body: TopicBodies[T], monoMs: number): void {
    if (!this.on) return;
    this.messages.set(topic, (this.messages.get(topic) ?? 0) + 1);
    const t0 = performance.now();
    this.target.message(topic, body, monoMs);
    this.busyMs += performance.now() - t0;
  }
  block(topic: BlockTopic, b: SampleBlock, monoMs: number): void {
    if (!this.on) {
      this.#open = false;
      return;
    }
    this.messages.set(topic, (this.messages.get(topic) ?? 0) + 1);
    if (topic === 'emg.raw') {
      if (!this.#open) this.ranges.push([b.firstSample, b.firstSample]);
      this.#open = true;
      this.ranges[this.ranges.length - 1]![1] = b.firstSample + b.samples;
    }
    const t0 = performance.now();
    this.target.block(topic, b, monoMs);
    this.busyMs += performance.now() - t0;
  }
}

/** An untrained MLP of the default model's shape and feature pipeline, for 16 channels. */
async function model16(dir: string): Promise<void> {
  const base = JSON.parse(readFileSync(new URL('../models/default/reflex-model.json', import.meta.url), 'utf8')) as ReflexModelMeta;
  const samples = base.input.samples;
  const init = (k: number) => tf.initializers.glorotUniform({ seed: 100 + k });
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [samples, CHANNELS] }),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 2, kernelInitializer: init(3) }),
    ],
  });
  const meta: ReflexModelMeta = {
    format: 'reflex-model',
    version: 1,
    input: {
      channels: CHANNELS,
      samples,
      rateHz: base.input.rateHz,
      windowMs: base.input.windowMs,
      unit: 'uV',
      channelNames: Array.from({ length: CHANNELS }, (_, i) => `ch${i + 1}`),
    },
    normalization: { mean: new Array<number>(CHANNELS).fill(30), std: new Array<number>(CHANNELS).fill(25) },
    outputs: [
      { name: 'wrist_angle', unit: 'deg', mean: 0, std: 30 },
      { name: 'grip', unit: 'unit', mean: 0.3, std: 0.3 },
    ],
    features: { ...(base.features as Record<string, unknown>), sourceRateHz: RATE, channels: CHANNELS },
    training: { note: 'untrained: bench/record.ts measures recording cost only' },
  };
  await saveReflexModel(model, dir, meta);
  model.dispose();
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 40 });
  const phases = Number(values.phases ?? Math.max(2, Math.round(duration / 4)));
  const dir = mkdtempSync(join(tmpdir(), 'reflex-bench-record-'));
  const board = JSON.parse(readFileSync(new URL('../boards/sim.json', import.meta.url), 'utf8')) as { id: string; source: { channels: number; rate: number } };
  board.id = 'sim16';
  board.source.channels = CHANNELS;
  board.source.rate = RATE;
  const boardFile = join(dir, 'sim16.json');
  writeFileSync(boardFile, JSON.stringify(board));
  const modelDir = join(dir, 'model16');
  await model16(modelDir);

  const cfg = defaultConfig(boardFile);
  cfg.runtimeId = 'bench-record';
  cfg.model = modelDir;
  cfg.telemetry.endpoints = [`ipc://${join(dir, 'pub.sock')}`];
  cfg.telemetry.control = null;
  const file = join(dir, 'bench.xdf');
  const recorder = openRunRecorder(cfg, file);
  const tap = new SwitchTap(recorder);
  const rt = await Runtime.start(cfg, { log: nullLogger(), guardProcess: false, arm: true, tap });
  const counters0 = rt.counters.snapshot();
  log(`record: sim board ${CHANNELS} ch x ${RATE} Hz, ${phases} x (off, on) phases of ${(duration / (2 * phases)).toFixed(1)} s`);
  // Warm-up: start-up work (model load, first windows) out of the measurement.
  await new Promise((r) => setTimeout(r, 2000));
  const off: number[] = [];
  const on: number[] = [];
  let onMs = 0;
  const phaseMs = (duration * 1000) / (2 * phases);
  for (let p = 0; p < 2 * phases; p++) {
    tap.on = p % 2 === 1;
    const c0 = cpuMs();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, phaseMs));
    const wall = performance.now() - t0;
    if (tap.on) onMs += wall;
    const pct = ((cpuMs() - c0) / wall) * 100;
    (tap.on ? on : off).push(pct);
    log(`record: phase ${p + 1} ${tap.on ? 'on ' : 'off'} cpu ${pct.toFixed(1)} % of one core`);
  }
  tap.on = false;
  const counters1 = rt.counters.snapshot();
  await rt.stop();
  recorder.close();

  // What the file holds against what the tap forwarded.
  const rec = readRecording(file);
  const raw = streamsOf(rec, 'emg.raw')[0]!;
  const comp = companionOf(rec, raw)!;
  let lostSamples = 0;
  for (const [start, end] of tap.ranges) {
    let inFile = 0;
    let next = start;
    for (let i = 0; i < comp.samples; i++) {
      const first = comp.data[i * 7]!;
      if (first < start || first >= end) continue;
      if (first !== next) lostSamples += Math.abs(first - next);
      inFile += comp.data[i * 7 + 2]!;
      next = first + comp.data[i * 7 + 2]!;
    }
    lostSamples += end - start - inFile;
  }
  let lostMessages = 0;
  for (const [topic, count] of tap.messages) {
    if (topic === 'emg.raw') continue;
    const streams = streamsOf(rec, topic);
    const held = streams.reduce((a, s) => a + (topic === 'emg.features' || topic === 'tracker' ? companionOf(rec, s)!.samples : s.samples), 0);
    lostMessages += count - held;
  }
  const recordedS = tap.ranges.reduce((a, [s, e]) => a + (e - s), 0) / RATE;
  const cpuOn = median(on);
  const cpuOff = median(off);
  return {
    bench: 'record',
    channels: CHANNELS,
    rate_hz: RATE,
    cpu_percent: Number((cpuOn - cpuOff).toFixed(2)),
    cpu_paired_percent: Number(median(on.map((x, i) => x - off[i]!)).toFixed(2)),
    recorder_busy_percent: Number((((tap.busyMs + recorder.stats().writeMs) / onMs) * 100).toFixed(2)),
    cpu_on_percent: Number(cpuOn.toFixed(2)),
    cpu_off_percent: Number(cpuOff.toFixed(2)),
    lost: lostSamples + lostMessages,
    lost_samples: lostSamples,
    lost_messages: lostMessages,
    source_gaps: (counters1['source.gaps'] ?? 0) - (counters0['source.gaps'] ?? 0),
    recorded_s: Number(recordedS.toFixed(1)),
    bytes_per_s: Math.round(recorder.stats().bytes / recordedS),
    streams: rec.streams.length,
    phases,
    duration_s: duration,
    machine: machine(),
  };
}
