/** A CliContext whose stdout and stderr are collected as text, for calling a command's main directly. */
import { PassThrough } from 'node:stream';
import type { CliContext } from '../src/cli/context.js';

export interface CapturedCtx extends CliContext {
  out(): string;
  err(): string;
}

export function captureCtx(): CapturedCtx {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return { stdout, stderr, signal: new AbortController().signal, out: () => o, err: () => e };
}
