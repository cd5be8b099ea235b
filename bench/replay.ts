/**
 * `npm run bench -- replay [--duration S]`: replay speed of 16 channels at 2 kHz with the default
 * model's recipe (its feature units and MLP, at 16 channels), as a multiple of real time.
 *
 * The recording is made without waiting on clocks: the sim firmware's offline output (16 ch,
 * 2 kHz, S seconds, default 60) goes through the runtime's SampleChain and ControlCore and is
 * written with the XDF writer, every loop tick included (test/_sim-run.ts). The 16-channel model
 * is trained first by `reflex train` (one epoch: its speed, not its accuracy, matters here).
 * Baseline in the same run: the feature units alone over the same blocks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockStream, sampleBlocks } from '../src/offline/recording-view.js';
import { openRecording } from '../src/offline/open.js';
import { replayRecording } from '../src/replay/replay.js';
import { DEFAULT_PIPELINE } from '../src/train/features.js';
import { trainModel } from '../src/train/train.js';
import { buildPipeline } from '../src/units/index.js';
import { simRun } from '../test/_sim-run.js';
import { benchArgs, log, machine, median } from './_util.js';

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 60 });
  const dir = mkdtempSync(join(tmpdir(), 'reflex-bench-replay-'));
  try {
    log(`making a 16-channel model and a ${duration} s recording...`);
    const data = await simRun({ dir, seconds: 30, channels: 16, model: null, seed: 21 });
    const model = join(dir, 'model16');
    await trainModel({ files: [data], out: model, epochs: 1, hopMs: 20, seed: 1 });
    const file = await simRun({ dir, seconds: duration, channels: 16, model, publishEvery: 1, seed: 22 });
    const rec = openRecording(file);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await replayRecording(rec));
    const last = runs[runs.length - 1]!;
    // Baseline: only the feature units over the same raw blocks.
    const blocks = sampleBlocks(rec, blockStream(rec, 'emg.raw'));
    const base: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = buildPipeline(DEFAULT_PIPELINE, { input: { rate: 2000, channels: 16 } });
      const t0 = performance.now();
      for (const b of blocks) p.process(b);
      base.push((last.recordingS * 1000) / (performance.now() - t0));
    }
    const x = median(runs.map((r) => r.xRealtime));
    return {
      x_realtime: Number(x.toFixed(1)),
      x_realtime_units_only: Number(median(base).toFixed(1)),
      ratio_to_units_only: Number((x / median(base)).toFixed(3)),
      recording_s: Number(last.recordingS.toFixed(1)),
      channels: 16,
      rate_hz: 2000,
      predictions: last.predictions,
      predictor: last.predictor,
      load_ms: Math.round(median(runs.map((r) => r.loadMs))),
      identical: runs.every((r) => r.identical),
      machine: machine(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
