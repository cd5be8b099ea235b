import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { CoreCodes } from '../../core/codes.js';
import { readJsonFile } from '../../core/validate.js';
import { Progress } from '../../offline/progress.js';
import { type Arch, ARCHS } from '../../train/models.js';
import { trainModel } from '../../train/train.js';
import { numberFlag, type CliContext } from '../context.js';

export const summary = 'train a model directory from recordings (EMG windows and tracker targets, as the loop sees them)';
export const usage = `usage: reflex train FILE.xdf... --out MODEL_DIR [options]

Builds (EMG feature window, tracker target) pairs with the aligner's dataset builder, mixes the
recordings with a seeded Mux, trains on TensorFlow.js's cpu backend (same seed, same weights),
scores the saved model on the last part of each recording (held out in time) and writes the
model directory \`reflex run --model\` loads, the scores in its reflex-model.json. docs/training.md.

  --out DIR            model directory to write (required; refuses an existing one without --force)
  --force              replace --out if it exists
  --arch mlp|cnn       model: a 2-layer MLP or a small 1-D CNN (default mlp)
  --seed N             seed of weights and data order (default 1)
  --epochs N           passes over the training pairs (default 10)
  --window-ms MS       EMG window length (default 200)
  --hop-ms MS          step between window ends (default 10)
  --val-fraction F     last fraction of each recording held out for validation (default 0.2)
  --outputs A,B        tracker channels to predict, in order (default: all of them)
  --features FILE      units pipeline JSON (default: band-pass, notch, envelope, decimate to 100 Hz)
  --no-progress        no progress line on stderr`;

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      force: { type: 'boolean' },
      arch: { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      'window-ms': { type: 'string' },
      'hop-ms': { type: 'string' },
      'val-fraction': { type: 'string' },
      outputs: { type: 'string' },
      features: { type: 'string' },
      'no-progress': { type: 'boolean' },
    },
  });
  if (positionals.length === 0) throw new ConfigError(CoreCodes.usage, 'give at least one recording, e.g. reflex train calib.xdf --out models/mine');
  if (values.out === undefined) throw new ConfigError(CoreCodes.usage, '--out MODEL_DIR is required');
  const arch = values.arch ?? 'mlp';
  if (!ARCHS.includes(arch as Arch)) throw new ConfigError(CoreCodes.usage, `--arch must be one of ${ARCHS.join(', ')}, got "${arch}"`);
  let pipeline: unknown[] | undefined;
  if (values.features !== undefined) {
    const raw = readJsonFile(values.features);
    if (!Array.isArray(raw)) throw new ConfigError(CoreCodes.usage, `${values.features}: must be a JSON array of units, e.g. [{"unit":"rectify"}]`);
    pipeline = raw;
  }
  const bar = new Progress(ctx.stderr, 'train', { quiet: values['no-progress'] === true });
  const r = await trainModel({
    files: positionals,
    out: values.out,
    force: values.force === true,
    arch: arch as Arch,
    seed: numberFlag('seed', values.seed, 1),
    epochs: numberFlag('epochs', values.epochs, 10),
    windowMs: numberFlag('window-ms', values['window-ms'], 200),
    hopMs: numberFlag('hop-ms', values['hop-ms'], 10),
    valFraction: numberFlag('val-fraction', values['val-fraction'], 0.2),
    ...(values.outputs !== undefined && { outputs: values.outputs.split(',').map((s) => s.trim()) }),
    ...(pipeline && { pipeline }),
    onProgress: (d, t, note) => bar.update(d, t, note),
  });
  bar.end();
  const lines = Object.entries(r.validation).map(
    ([name, s]) => `  ${name.padEnd(16)} R^2 ${s.r2.toFixed(3)}  RMSE ${s.rmse.toPrecision(4)}  (${s.n} held-out pairs)`,
  );
  ctx.stdout.write(
    `${r.out}: ${r.arch}, seed ${r.seed}, ${r.epochs} epochs on ${r.pairs.train} pairs ` +
      `in ${r.seconds.toFixed(1)} s (final loss ${r.loss[r.loss.length - 1]!.toFixed(4)})\n` +
      `validation (last ${r.valFraction} of each recording, through the ${r.predictorPath} predictor):\n${lines.join('\n')}\n`,
  );
  return 0;
}
