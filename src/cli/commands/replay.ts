import { writeFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { CoreCodes } from '../../core/codes.js';
import { openRecording } from '../../offline/open.js';
import { Progress } from '../../offline/progress.js';
import { replayRecording, type ReplayResult } from '../../replay/replay.js';
import type { CliContext } from '../context.js';

export const summary = 'rerun a recording through the same pipeline offline and check it against the live run, bit for bit';
export const usage = `usage: reflex replay FILE [options]

Runs the recorded raw EMG through the run's feature units, aligner, predictor, output map and
safety limiter as fast as the machine goes, and compares features, predictions and actuator
commands with what the live run recorded (float32 per value). Exit 0 when identical, 1 at the
first difference (printed), 2 for a bad file or flags. docs/replay.md.

  --model DIR      model directory to use (default: the one the run recorded)
  --out FILE.json  also write the result as JSON (refuses an existing file without --force)
  --force          replace --out if it exists
  --no-progress    no progress line on stderr`;

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { model: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, 'no-progress': { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new ConfigError(CoreCodes.usage, 'give one recording, e.g. reflex replay run.xdf');
  const out = values.out;
  if (out !== undefined && existsSync(out) && !values.force) throw new ConfigError(CoreCodes.usage, `${out} exists; pass --force to replace it`);
  const rec = openRecording(positionals[0]!);
  const bar = new Progress(ctx.stderr, 'replay', { quiet: values['no-progress'] === true });
  const r = await replayRecording(rec, { ...(values.model !== undefined && { modelDir: values.model }), onProgress: (d, t) => bar.update(d, t) });
  bar.end();
  if (out !== undefined) writeFileSync(out, JSON.stringify(r, null, 2) + '\n');
  ctx.stdout.write(describe(r));
  return r.identical ? 0 : 1;
}

function describe(r: ReplayResult): string {
  const head =
    `${r.file}: ${r.recordingS.toFixed(1)} s replayed in ${(r.elapsedMs / 1000).toFixed(2)} s ` +
    `(${r.xRealtime.toFixed(0)}x real time, ${r.predictor} predictor), ` +
    `${r.predictions} predictions, ${r.actuatorTicks} actuator ticks, ${r.featureBlocksChecked} feature blocks, ${r.valuesCompared} values compared\n`;
  const gaps =
    r.tickGaps > 0
      ? `note: ${r.tickGaps} gaps between recorded ticks; commands after a gap are exact only where the slew limit did not act inside it (docs/replay.md)\n`
      : '';
  if (r.identical) return `${head}${gaps}identical\n`;
  const f = r.first!;
  return (
    `${head}${gaps}DIFFERENT: ${r.mismatches} values (features ${r.mismatchesBy.feature}, predictions ${r.mismatchesBy.prediction}, ` +
    `requested ${r.mismatchesBy.requested}, applied ${r.mismatchesBy.applied}); first at ${f.what === 'feature' ? 'feature block' : 'tick'} ${f.tick}, ` +
    `${f.what} ${f.name}: live ${f.live}, replay ${f.replay}\n`
  );
}
