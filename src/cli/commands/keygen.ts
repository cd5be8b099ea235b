import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateKeyPair, writeKeyPair } from '../../telemetry/keys.js';
import type { CliContext } from '../context.js';

export const summary = 'create a CURVE keypair for telemetry/control (z85 files, mode 0600)';
export const usage = `usage: reflex keygen [options]

Writes NAME.key (public and secret key) and NAME.pub (public key only), both mode 0600,
and prints the public key. Give NAME.pub (or the printed key) to the other side: a
runtime lists workstation public keys in its allow-list; a workstation passes the
runtime's public key as --server-key.

  --out DIR     directory to write into (default: current directory; created if missing)
  --name NAME   file name stem (default: reflex)
  --force       replace existing files`;

export function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } },
  });
  const dir = values.out ?? '.';
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateKeyPair();
  const { keyFile, pubFile } = writeKeyPair(dir, values.name ?? 'reflex', pair, values.force === true);
  ctx.stdout.write(`public-key = ${pair.publicKey}\nwrote ${keyFile} (keep secret) and ${pubFile}\n`);
  return Promise.resolve(0);
}
