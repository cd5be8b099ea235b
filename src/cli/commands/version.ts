import { readFileSync } from 'node:fs';
import type { CliContext } from '../context.js';

export const summary = 'print the Reflex version and the protocol version it speaks';
export const usage = 'usage: reflex version\n\nPrints the package version and the firmware-bridge protocol major version.';

export function main(_argv: string[], ctx: CliContext): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  ctx.stdout.write(`reflex ${pkg.version} (firmware-bridge protocol 1)\n`);
  return Promise.resolve(0);
}
