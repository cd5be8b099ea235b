import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { clientKeysFromFlags } from '../keys.js';
import { ControlClient } from '../../telemetry/control-client.js';
import type { PlainValue } from '../../telemetry/control-protocol.js';
import { numberFlag, type CliContext } from '../context.js';
import { CoreCodes } from '../../core/codes.js';
import { CliCodes } from '../codes.js';

export const summary = 'send one control command to a runtime and print the reply as JSON';
export const usage = `usage: reflex ctl <endpoint> <command> [key=value ...] [options]

Commands a runtime handles: start, stop, set path=P value=V, model dir=D, estop [reason=R],
release, status. Values that look like numbers or true/false are sent as such; prefix
with "s:" to force a string (value=s:42). Prints the reply as one JSON line; exit 1 when
the reply is an error, there is no reply, or the key is refused.

  --server-key K       runtime public key, z85 or a .pub file
  --client-key-file F  this workstation's keypair file from \`reflex keygen\` (needed with --server-key)
  --timeout S          seconds to wait for the reply (default 5; 60 for "model", which verifies the model first)`;

function parseValue(raw: string): PlainValue {
  if (raw.startsWith('s:')) return raw.slice(2);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}

export function parseKeyValues(pairs: readonly string[]): Record<string, PlainValue> {
  const args: Record<string, PlainValue> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ConfigError(CoreCodes.usage, `argument "${p}" must be key=value`);
    args[p.slice(0, eq)] = parseValue(p.slice(eq + 1));
  }
  return args;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'server-key': { type: 'string' }, 'client-key-file': { type: 'string' }, timeout: { type: 'string' } },
  });
  const [endpoint, command, ...rest] = positionals;
  if (endpoint === undefined || command === undefined)
    throw new ConfigError(CoreCodes.usage, 'give an endpoint and a command, e.g. reflex ctl tcp://127.0.0.1:5557 status');
  const args = parseKeyValues(rest);
  // Switching a model loads and verifies it on the board first: seconds, not milliseconds.
  const timeoutMs = numberFlag('timeout', values.timeout, command === 'model' ? 60 : 5, [0.01, 3600]) * 1000;
  const serverKeys = values['server-key'] === undefined ? [] : [values['server-key']];
  const keys = clientKeysFromFlags([endpoint], serverKeys, values['client-key-file']);
  const client = new ControlClient({ endpoint, serverKey: keys.serverKeys[0], keyPair: keys.keyPair, timeoutMs });
  try {
    const reply = await client.send(command, args);
    ctx.stdout.write(JSON.stringify(reply) + '\n');
    return reply.ok ? 0 : 1;
  } catch (err) {
    const code = (err as { code?: string }).code ?? CliCodes.control;
    ctx.stdout.write(JSON.stringify({ id: null, ok: false, error: { code, message: (err as Error).message } }) + '\n');
    return 1;
  } finally {
    await client.close();
  }
}
