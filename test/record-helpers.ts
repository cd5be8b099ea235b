/** Shared fixtures for test/record-*.test.ts (not a test file itself). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LibxdfStream {
  name: string;
  type: string;
  channel_format: string;
  channel_count: number;
  nominal_srate: number;
  labels: string[];
  units: string[];
  footer_sample_count: number;
  first_timestamp: number | null;
  last_timestamp: number | null;
  time_stamps: number;
  clock_offsets: number;
  values: number;
  sum: number | null;
  first: Array<number | null>;
  events: Array<{ text: string; t: number }>;
}

let binary: string | undefined;

/** test/fixtures/xdf-dump.cpp compiled against Debian's libxdf (once per test process). */
export function libxdfDump(): string {
  if (binary) return binary;
  const out = join(mkdtempSync(join(tmpdir(), 'reflex-libxdf-')), 'xdf-dump');
  const src = fileURLToPath(new URL('./fixtures/xdf-dump.cpp', import.meta.url));
  execFileSync('g++', ['-O1', '-o', out, src, '-lxdf'], { stdio: 'pipe' });
  return (binary = out);
}

/** What libxdf's Xdf::load_xdf read from `file`. */
export function loadWithLibxdf(file: string): { version: number; streams: LibxdfStream[] } {
  const text = execFileSync(libxdfDump(), [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = text.split('\n').find((l) => l.startsWith('XDFJSON '));
  if (!line) throw new Error(`xdf-dump printed no result for ${file}:\n${text}`);
  return JSON.parse(line.slice('XDFJSON '.length)) as { version: number; streams: LibxdfStream[] };
}

import { Writable } from 'node:stream';
import { ConfigError } from '../src/core/errors.js';
import type { CommandModule } from '../src/cli/context.js';

/**
 * Runs a command module as src/cli/main.ts's dispatcher does (ConfigError -> exit 2), so these
 * tests hold whether or not the command is registered in its table yet.
 */
export async function runCommand(mod: CommandModule, argv: string[]): Promise<{ code: number; out: string; err: string; error?: ConfigError }> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        add(chunk.toString());
        cb();
      },
    });
  try {
    const code = await mod.main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), signal: new AbortController().signal });
    return { code, out, err };
  } catch (e) {
    if (e instanceof ConfigError) return { code: 2, out, err: err + e.message, error: e };
    throw e;
  }
}
