import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CoreCodes } from '../../core/codes.js';
import { ConfigError } from '../../core/errors.js';
import { Scope } from '../../scope/scope.js';
import { DEFAULT_PORT } from '../../scope/server.js';
import { telemetryEndpointsFromFlags, telemetryKeyOptions, telemetryKeyUsage } from '../keys.js';
import { numberFlag, parseDuration, withDuration, type CliContext } from '../context.js';

export const summary = 'live scope in the browser: EMG, predictions, loop timing, clock and health from telemetry';
export const usage = `usage: reflex scope [endpoint ...] [options]

Serves a read-only web page on this workstation that subscribes to a runtime's telemetry and
draws it live (docs/scope.md). Every asset is served locally: the page works offline.

  endpoint             telemetry endpoint(s) (default tcp://127.0.0.1:5556)
  --port N             HTTP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR          address to listen on (default 127.0.0.1)
  --allow-remote       allow --host other than loopback: anyone who reaches the port sees the EMG
  --open               open the page in the default browser (xdg-open)
  --runtime R          show this runtime id (default: the first one heard from)
${telemetryKeyUsage}
  --duration S         stop after S seconds`;

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      open: { type: 'boolean' },
      runtime: { type: 'string' },
      ...telemetryKeyOptions,
      duration: { type: 'string' },
    },
  });
  const endpoints = positionals.length > 0 ? positionals : ['tcp://127.0.0.1:5556'];
  const port = numberFlag('port', values.port, DEFAULT_PORT, [0, 65535]);
  if (!Number.isInteger(port)) throw new ConfigError(CoreCodes.usage, `--port must be an integer, got "${values.port}"`);
  const signal = withDuration(ctx.signal, parseDuration(values.duration));
  const keys = telemetryEndpointsFromFlags(endpoints, values);
  const scope = await Scope.start({
    endpoints: keys.endpoints,
    keyPair: keys.keyPair,
    runtime: values.runtime,
    host: values.host,
    port,
    allowRemote: values['allow-remote'],
    onAuthFailure: (ep, detail) => ctx.stderr.write(`reflex scope: ${ep}: ${detail}\n`),
  });
  ctx.stdout.write(`reflex scope: ${scope.url} (telemetry from ${endpoints.join(', ')}; Ctrl-C to stop)\n`);
  if (values.open) openBrowser(scope.url, ctx);
  try {
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await scope.close();
  }
  const s = scope.stats();
  ctx.stdout.write(
    `reflex scope: stopped; pages served ${s.hub.clients}, frames sent ${s.hub.frames_sent}, dropped ${s.hub.frames_dropped}; ` +
      `telemetry received ${s.bridge.client.received}, lost ${s.bridge.client.lost}\n`,
  );
  return 0;
}

function openBrowser(url: string, ctx: CliContext): void {
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', (err) => ctx.stderr.write(`reflex scope: could not open a browser (${err.message}); open ${url} yourself\n`));
  child.unref();
}
