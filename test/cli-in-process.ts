/** Runs a `reflex` command in this process (src/cli/main.ts `run`) and collects what it writes. Shared by CLI tests. */
import { PassThrough } from 'node:stream';
import { run } from '../src/cli/main.js';

export async function reflex(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const code = await run(argv, { stdout: out, stderr: err, signal: new AbortController().signal });
  return { code, out: Buffer.concat(o).toString('utf8'), err: Buffer.concat(e).toString('utf8') };
}
