import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { CoreCodes } from '../../core/codes.js';
import { RecordCodes } from '../../record/codes.js';
import { EXPORT_FORMATS, exportRecording, type ExportFormat } from '../../record/export.js';
import { convertCborRecording } from '../../record/from-cbor.js';
import { readRecording } from '../../record/xdf-reader.js';
import type { CliContext } from '../context.js';

export const summary = 'export an XDF recording to CSV and NumPy .npy files (one per stream, with JSON metadata)';
export const usage = `usage: reflex export FILE.xdf [options]
       reflex export --from-cbor OLD.cbor [--out NEW.xdf] [--force]

Writes, per stream of the recording, <id>-<name>.csv (timestamp and one column per channel),
<id>-<name>.npy (samples x channels) with <id>-<name>.timestamps.npy (seconds), and
<id>-<name>.json (channels, units, rate, Reflex metadata). Refuses to replace existing files.

  --out DIR            output directory (default: FILE without .xdf, plus "-export"); --from-cbor: the XDF file
  --format LIST        csv, npy or csv,npy (default csv,npy)
  --force              replace existing output files
  --allow-truncated    export a recording whose last chunk was cut (e.g. after kill -9): the complete part
  --from-cbor          FILE is an old \`reflex subscribe --record\` CBOR file: convert it to XDF`;

export function main(argv: string[], ctx: CliContext): Promise<number> {
  return Promise.resolve(exportMain(argv, ctx));
}

function exportMain(argv: string[], ctx: CliContext): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      format: { type: 'string' },
      force: { type: 'boolean' },
      'allow-truncated': { type: 'boolean' },
      'from-cbor': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new ConfigError(CoreCodes.usage, 'give exactly one recording, e.g. reflex export run1.xdf --out run1-csv');
  const file = positionals[0]!;
  const stem = join(dirname(file), basename(file, extname(file)));
  if (values['from-cbor']) {
    if (values.format !== undefined) throw new ConfigError(CoreCodes.usage, '--from-cbor writes XDF; --format does not apply (export the XDF afterwards)');
    const out = values.out ?? `${stem}.xdf`;
    const st = convertCborRecording(file, out, { overwrite: values.force === true });
    ctx.stdout.write(`converted ${st.messages} messages into ${st.streams.length} streams: ${out}\n`);
    return 0;
  }
  const formats: ExportFormat[] = [];
  for (const f of (values.format ?? 'csv,npy').split(',')) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(f))
      throw new ConfigError(CoreCodes.usage, `unknown --format "${f}"; formats are ${EXPORT_FORMATS.join(', ')}`);
    formats.push(f as ExportFormat);
  }
  const rec = readRecording(file);
  if (rec.truncatedBytes > 0 && !values['allow-truncated'])
    throw new ConfigError(
      RecordCodes.xdfCorrupt,
      `${file} ends inside a chunk (${rec.truncatedBytes} bytes cut, e.g. by kill -9 or a full disk); ` +
        'nothing was written: pass --allow-truncated to export the complete part',
    );
  const dir = values.out ?? `${stem}-export`;
  const done = exportRecording(rec, dir, { formats, force: values.force === true });
  for (const d of done) ctx.stdout.write(`${d.stream}: ${d.files.map((f) => basename(f)).join(' ')}\n`);
  ctx.stdout.write(`exported ${done.length} streams to ${dir}\n`);
  return 0;
}
