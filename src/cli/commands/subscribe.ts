import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { monotonicMs } from '../../time/monotonic.js';
import { telemetryEndpointsFromFlags, telemetryKeyOptions, telemetryKeyUsage } from '../keys.js';
import { TelemetryClient } from '../../telemetry/client.js';
import { RateMonitor } from '../monitor.js';
import { Recorder } from '../../record/recorder.js';
import { isTopic, TOPICS, type Topic } from '../../telemetry/topics.js';
import { numberFlag, parseDuration, withDuration, type CliContext } from '../context.js';
import { CoreCodes } from '../../core/codes.js';

export const summary = 'watch telemetry from one or more runtimes: live per-topic rates and latest values';
export const usage = `usage: reflex subscribe <endpoint...> [options]

Prints one line per topic and source about once a second: rate, total, messages lost
(sequence gaps) and the latest value. Ends on Ctrl-C or after --duration.

  --topic T            only this topic (repeatable): ${TOPICS.join(', ')}
  --runtime R          only this runtime id (repeatable)
  --record FILE        also write every message to FILE as XDF, as \`reflex record\` does (docs/recording.md)
  --force              with --record: replace FILE if it exists (default: refuse, exit 2)
${telemetryKeyUsage}
  --interval S         seconds between refreshes (default 1)
  --duration S         stop after S seconds`;

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      topic: { type: 'string', multiple: true },
      runtime: { type: 'string', multiple: true },
      record: { type: 'string' },
      force: { type: 'boolean' },
      ...telemetryKeyOptions,
      interval: { type: 'string' },
      duration: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new ConfigError(CoreCodes.usage, 'give at least one endpoint, e.g. reflex subscribe tcp://127.0.0.1:5556');
  const topics: Topic[] = [];
  for (const t of values.topic ?? []) {
    if (!isTopic(t)) throw new ConfigError(CoreCodes.usage, `unknown topic "${t}"; topics are ${TOPICS.join(', ')}`);
    topics.push(t);
  }
  const intervalMs = numberFlag('interval', values.interval, 1, [0.05, 3600]) * 1000;
  const signal = withDuration(ctx.signal, parseDuration(values.duration));
  const keys = telemetryEndpointsFromFlags(positionals, values);
  const client = new TelemetryClient({
    endpoints: keys.endpoints,
    topics,
    runtimes: values.runtime,
    keyPair: keys.keyPair,
    onAuthFailure: (ep, detail) => ctx.stderr.write(`reflex subscribe: ${ep}: ${detail}\n`),
  });
  if (values.force && values.record === undefined) throw new ConfigError(CoreCodes.usage, '--force only applies to --record FILE');
  const recorder = values.record !== undefined ? new Recorder({ path: values.record, overwrite: values.force === true, clock: 'remote', topics }) : undefined;
  const monitor = new RateMonitor(monotonicMs());
  const print = (): void => {
    const lines = monitor.lines(monotonicMs());
    const s = client.stats();
    ctx.stdout.write(`--- received=${s.received} lost=${s.lost} malformed=${s.malformed}${lines.length === 0 ? ' (no messages yet)' : ''}\n`);
    for (const l of lines) ctx.stdout.write(l + '\n');
  };
  const timer = setInterval(print, intervalMs);
  const stop = (): void => void client.close();
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const msg of client) {
      monitor.add(msg);
      recorder?.add(msg);
    }
  } finally {
    clearInterval(timer);
    signal.removeEventListener('abort', stop);
    await client.close();
    recorder?.close();
  }
  print();
  if (recorder) ctx.stdout.write(`recorded ${recorder.stats().messages} messages to ${values.record}\n`);
  return 0;
}
