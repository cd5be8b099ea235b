import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { deployModel } from '../../deploy/deploy-client.js';
import { ControlClient } from '../../telemetry/control-client.js';
import { isLoopbackEndpoint } from '../../telemetry/security.js';
import { clientKeysFromFlags } from '../keys.js';
import { numberFlag, type CliContext } from '../context.js';
import { CoreCodes } from '../../core/codes.js';
import { CliCodes } from '../codes.js';

export const summary = 'send a model directory to a running runtime, which checks, stores and switches to it';
export const usage = `usage: reflex deploy MODEL_DIR ENDPOINT [options]

Sends MODEL_DIR (model.json, its weights, reflex-model.json) over the runtime's control
socket; the runtime checks it, stores it under its content hash and swaps it in between two
loop cycles. A refused model leaves the running one running. Prints the outcome as one JSON
line; exit 1 when the runtime refuses it, 2 when MODEL_DIR is not a model (docs/deploy.md).

  --server-key K       runtime public key, z85 or a .pub file (needed unless ENDPOINT is loopback or ipc)
  --client-key-file F  this workstation's keypair file from \`reflex keygen\` (needed with --server-key)
  --insecure           allow plaintext to a non-loopback ENDPOINT (a runtime configured insecure)
  --no-check           skip the local check of MODEL_DIR (the runtime checks it in any case)
  --timeout S          seconds to wait for each reply (default 10) and for the check and swap (x12)
  --quiet              no progress on stderr`;

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'server-key': { type: 'string' },
      'client-key-file': { type: 'string' },
      insecure: { type: 'boolean' },
      'no-check': { type: 'boolean' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const [dir, endpoint, ...extra] = positionals;
  if (dir === undefined || endpoint === undefined || extra.length > 0)
    throw new ConfigError(CoreCodes.usage, 'give a model directory and a control endpoint, e.g. reflex deploy models/mine tcp://10.0.0.5:5557');
  const serverKeys = values['server-key'] === undefined ? [] : [values['server-key']];
  if (serverKeys.length === 0 && !isLoopbackEndpoint(endpoint) && values.insecure !== true)
    throw new ConfigError(
      CoreCodes.usage,
      `${endpoint} is not loopback: a model is sent only over CURVE there; ` +
        'give --server-key and --client-key-file (or --insecure for a runtime configured insecure)',
    );
  const timeoutMs = numberFlag('timeout', values.timeout, 10, [0.1, 3600]) * 1000;
  const keys = clientKeysFromFlags([endpoint], serverKeys, values['client-key-file']);
  const client = new ControlClient({ endpoint, serverKey: keys.serverKeys[0], keyPair: keys.keyPair, timeoutMs });
  let lastPct = -1;
  const tty = (ctx.stderr as Partial<NodeJS.WriteStream>).isTTY === true;
  try {
    const r = await deployModel(client, dir, {
      localCheck: values['no-check'] !== true,
      verifyTimeoutMs: timeoutMs * 12,
      signal: ctx.signal,
      onProgress: (p) => {
        const pct = Math.floor((100 * p.sent) / Math.max(p.total, 1));
        // A terminal gets one line redrawn; a log file or pipe a line per quarter.
        const step = tty ? pct : Math.floor(pct / 25) * 25;
        if (values.quiet === true || step === lastPct) return;
        lastPct = step;
        ctx.stderr.write(tty ? `\rsending ${p.file}: ${pct}% of ${p.total} bytes` : `sending ${p.file}: ${pct}% of ${p.total} bytes\n`);
      },
    });
    if (lastPct >= 0 && tty) ctx.stderr.write('\n');
    ctx.stdout.write(JSON.stringify({ ok: true, ...r, files: r.files.map((f) => f.name) }) + '\n');
    return 0;
  } catch (err) {
    if (lastPct >= 0 && tty) ctx.stderr.write('\n');
    if (err instanceof ConfigError) throw err;
    const code = (err as { code?: string }).code ?? CliCodes.control;
    ctx.stdout.write(JSON.stringify({ ok: false, error: { code, message: (err as Error).message } }) + '\n');
    return 1;
  } finally {
    await client.close();
  }
}
