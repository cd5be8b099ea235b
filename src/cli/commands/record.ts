import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { CoreCodes } from '../../core/codes.js';
import { Recorder } from '../../record/recorder.js';
import { TelemetryClient } from '../../telemetry/client.js';
import { isTopic, TOPICS, type Topic } from '../../telemetry/topics.js';
import { telemetryEndpointsFromFlags, telemetryKeyOptions, telemetryKeyUsage } from '../keys.js';
import { parseDuration, withDuration, type CliContext } from '../context.js';

export const summary = 'record telemetry from one or more runtimes to an XDF file (pyxdf, MNE, EEGLAB, MATLAB read it)';
export const usage = `usage: reflex record <endpoint...> FILE [options]

Subscribes to the runtimes at the endpoints and writes every message to FILE as XDF, one
stream per source (docs/recording.md). Stamps stay on each board's clock; ClockOffset chunks
map them to this machine's. Ends on Ctrl-C or after --duration; the file is readable even if
this process is killed (at most the last second is lost).
On the board itself, \`reflex run --record FILE\` records everything before any decimation.

  --topics T,T         only these topics (comma-separated, repeatable): ${TOPICS.join(', ')}
  --runtime R          only this runtime id (repeatable)
${telemetryKeyUsage}
  --duration S         stop after S seconds
  --force              replace FILE if it exists (default: refuse, exit 2)`;

export function parseTopics(lists: readonly string[]): Topic[] {
  const topics: Topic[] = [];
  for (const list of lists)
    for (const t of list.split(',')) {
      if (t === '') continue;
      if (!isTopic(t)) throw new ConfigError(CoreCodes.usage, `unknown topic "${t}"; topics are ${TOPICS.join(', ')}`);
      topics.push(t);
    }
  return topics;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      topics: { type: 'string', multiple: true },
      runtime: { type: 'string', multiple: true },
      ...telemetryKeyOptions,
      duration: { type: 'string' },
      force: { type: 'boolean' },
    },
  });
  if (positionals.length < 2) throw new ConfigError(CoreCodes.usage, 'give the endpoints and then the file, e.g. reflex record tcp://rig-a:5556 run1.xdf');
  const file = positionals[positionals.length - 1]!;
  if (/^[a-z]+:\/\//.test(file)) throw new ConfigError(CoreCodes.usage, `the last argument must be the output file, got the endpoint "${file}"`);
  const endpoints = positionals.slice(0, -1);
  const topics = parseTopics(values.topics ?? []);
  const signal = withDuration(ctx.signal, parseDuration(values.duration));
  const keys = telemetryEndpointsFromFlags(endpoints, values);
  const recorder = new Recorder({ path: file, overwrite: values.force === true, clock: 'remote', topics });
  const client = new TelemetryClient({
    endpoints: keys.endpoints,
    topics,
    runtimes: values.runtime,
    keyPair: keys.keyPair,
    onAuthFailure: (ep, detail) => ctx.stderr.write(`reflex record: ${ep}: ${detail}\n`),
  });
  const stop = (): void => void client.close();
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const msg of client) recorder.add(msg);
  } finally {
    signal.removeEventListener('abort', stop);
    await client.close();
    recorder.close();
  }
  const st = recorder.stats();
  ctx.stdout.write(`recorded ${st.messages} messages in ${st.streams.length} streams (${st.bytes} bytes) to ${file}; lost ${st.lost}\n`);
  for (const s of st.streams) ctx.stdout.write(`  ${s.name}: ${s.samples} samples${s.gaps > 0 ? `, ${s.gaps} missing between blocks` : ''}\n`);
  return 0;
}
