/**
 * `reflex export`: a Recording as files for people without an XDF reader. Per stream: a CSV
 * (timestamp then one column per channel; string streams: timestamp, text), NumPy arrays
 * (`<base>.npy` samples x channels in the stream's dtype, `<base>.timestamps.npy` float64
 * seconds) and a JSON sidecar with the stream's metadata and the file header.
 * Every target is checked before the first byte is written: an existing file is refused
 * unless `force`, so a refused export changes nothing.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { RecordCodes } from './codes.js';
import { npyBytes } from './npy.js';
import type { RecordedStream, Recording } from './types.js';

export type ExportFormat = 'csv' | 'npy';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'npy'];

export interface ExportOptions {
  formats: readonly ExportFormat[];
  /** Replace existing files. */
  force?: boolean;
}

export interface ExportedStream {
  stream: string;
  files: string[];
}

/** File name stem for a stream: its id and name with anything but [A-Za-z0-9._-] turned into "_". */
export function exportBase(s: RecordedStream): string {
  return `${String(s.id).padStart(2, '0')}-${s.name.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
}

function targets(s: RecordedStream, formats: readonly ExportFormat[]): { csv?: string; npy?: string; ts?: string; json: string } {
  const base = exportBase(s);
  return {
    ...(formats.includes('csv') && { csv: `${base}.csv` }),
    ...(formats.includes('npy') && s.format !== 'string' && { npy: `${base}.npy`, ts: `${base}.timestamps.npy` }),
    json: `${base}.json`,
  };
}

/** Write the export of `rec` into `dir` (created if missing). Returns the files per stream. */
export function exportRecording(rec: Recording, dir: string, opts: ExportOptions): ExportedStream[] {
  prepareDir(dir);
  const plan = rec.streams.map((s) => ({ s, t: targets(s, opts.formats) }));
  if (!opts.force) {
    const existing = plan.flatMap(({ t }) => Object.values(t).filter((f) => existsSync(join(dir, f))));
    if (existing.length > 0)
      throw new ConfigError(
        RecordCodes.exists,
        `${dir} already holds ${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ` and ${existing.length - 3} more` : ''}; ` +
          'nothing was written: pass --force to replace them or choose another --out',
      );
  }
  const out: ExportedStream[] = [];
  for (const { s, t } of plan) {
    const files: string[] = [];
    const write = (name: string, bytes: Uint8Array | string): void => {
      const path = join(dir, name);
      try {
        writeFileSync(path, bytes);
      } catch (err) {
        throw new ConfigError(RecordCodes.output, `cannot write ${path}: ${(err as Error).message}`, { cause: err });
      }
      files.push(path);
    };
    if (t.csv !== undefined) {
      writeCsv(join(dir, t.csv), s);
      files.push(join(dir, t.csv));
    }
    if (t.npy !== undefined && t.ts !== undefined && s.format !== 'string') {
      write(t.npy, npyBytes(s.data, [s.samples, s.channels.length]));
      write(t.ts, npyBytes(s.timestamps, [s.samples]));
    }
    const sidecar = {
      name: s.name,
      type: s.type,
      xdf_id: s.id,
      rate: s.rate,
      format: s.format,
      samples: s.samples,
      channels: s.channels,
      units: s.units,
      meta: s.meta,
      clock_offsets: s.clockOffsets,
      files: { csv: t.csv ?? null, npy: t.npy ?? null, timestamps_npy: t.ts ?? null },
      recording: { path: rec.path, header: rec.header, truncated_bytes: rec.truncatedBytes },
    };
    write(t.json, JSON.stringify(sidecar, null, 2) + '\n');
    out.push({ stream: s.name, files });
  }
  return out;
}

function prepareDir(dir: string): void {
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new ConfigError(RecordCodes.output, `${dir} exists and is not a directory; choose another --out`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(RecordCodes.output, `cannot write to ${dir}: ${(err as Error).message}; choose a writable --out`, { cause: err });
  }
}

function csvText(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Streams the CSV out in pieces: a long recording never becomes one giant string. */
function writeCsv(path: string, s: RecordedStream): void {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw new ConfigError(RecordCodes.output, `cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const ch = s.channels.length;
    const head = ['timestamp', ...s.channels.map((c, i) => (s.units[i] ? `${c} [${s.units[i]}]` : c))];
    let text = head.map(csvText).join(',') + '\n';
    for (let i = 0; i < s.samples; i++) {
      text += String(s.timestamps[i]);
      if (s.format === 'string') for (let c = 0; c < ch; c++) text += ',' + csvText(s.strings[i * ch + c] ?? '');
      else for (let c = 0; c < ch; c++) text += ',' + String(s.data[i * ch + c]);
      text += '\n';
      if (text.length > 1 << 16) {
        writeSync(fd, text);
        text = '';
      }
    }
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
