/**
 * `npm run bench -- train [--duration S] [--arch mlp|cnn] [--epochs N]`: `reflex train` on S
 * seconds (default 600: ten minutes) of a sim-board recording (raw EMG and tracker, written with
 * the XDF writer from the firmware's offline output, as a run without a model records them), with
 * the command's defaults. Reports the wall time, the R^2 reached on the held-out last 20 %, and,
 * as a baseline in the same run, the time to build the (window, target) pairs alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRecording } from '../src/offline/open.js';
import { DEFAULT_PIPELINE } from '../src/train/features.js';
import type { Arch } from '../src/train/models.js';
import { buildPairs } from '../src/train/pairs.js';
import { trainModel } from '../src/train/train.js';
import { simRun } from '../test/_sim-run.js';
import { benchArgs, log, machine } from './_util.js';

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 600 });
  const arch = (typeof values.arch === 'string' ? values.arch : 'mlp') as Arch;
  const epochs = typeof values.epochs === 'string' ? Number(values.epochs) : 10;
  const dir = mkdtempSync(join(tmpdir(), 'reflex-bench-train-'));
  try {
    log(`making a ${duration} s sim-board recording...`);
    const file = await simRun({ dir, seconds: duration, model: null, seed: 31 });
    const t0 = performance.now();
    const pairs = buildPairs([openRecording(file)], { pipeline: DEFAULT_PIPELINE, windowMs: 200, hopMs: 10, valFraction: 0.2 });
    const pairsS = (performance.now() - t0) / 1000;
    log(`pairs alone: ${pairs.recordings[0]!.set.count} in ${pairsS.toFixed(1)} s; training ${arch}, ${epochs} epochs...`);
    let lastLog = 0;
    const r = await trainModel({
      files: [file],
      out: join(dir, 'model'),
      arch,
      epochs,
      onProgress: (d, t, note) => {
        if (performance.now() - lastLog > 15000 || d === t) {
          lastLog = performance.now();
          log(`  ${d}/${t} batches, ${note}`);
        }
      },
    });
    return {
      seconds: Number(r.seconds.toFixed(1)),
      r2: Number(r.r2.toFixed(4)),
      r2_per_output: Object.fromEntries(Object.entries(r.validation).map(([k, v]) => [k, v.r2])),
      rmse_per_output: Object.fromEntries(Object.entries(r.validation).map(([k, v]) => [k, v.rmse])),
      pairs_seconds: Number(pairsS.toFixed(1)),
      recording_s: duration,
      arch,
      epochs,
      pairs: r.pairs,
      final_loss: Number(r.loss[r.loss.length - 1]!.toFixed(4)),
      backend: r.backend,
      machine: machine(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
