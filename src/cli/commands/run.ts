import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { Logger } from '../../core/log.js';
import { defaultConfig, loadConfig } from '../../runtime/config.js';
import { Runtime } from '../../runtime/runtime.js';
import { numberFlag, parseDuration, withDuration, type CliContext } from '../context.js';

export const summary = 'run the runtime on a board: ingest, align, predict, actuate, publish telemetry';
export const usage = `usage: reflex run [--board ID|FILE] [options]

Runs the full path on a board: source -> clock map -> units -> aligner -> loop worker
(predictor -> safety -> actuators), publishing telemetry and serving control.

  --board ID|FILE      board id from boards/ or a board JSON file (default: sim)
  --config FILE        run configuration JSON (docs/runtime.md); flags below override it
  --model DIR          model directory (model.json + weights + reflex-model.json); default models/default
  --no-model           run without a predictor: ingest, features and telemetry only
  --rate HZ            control loop rate, 1..2000 (default 100)
  --pub ENDPOINT       telemetry PUB endpoint, repeatable (default tcp://127.0.0.1:5556)
  --control ENDPOINT   control ROUTER endpoint (default tcp://127.0.0.1:5557)
  --no-control         do not serve remote control
  --keys DIR           CURVE keys: DIR/server.key and DIR/clients/*.pub (docs/telemetry.md)
  --insecure           allow plaintext on non-loopback endpoints (isolated lab networks only)
  --runtime-id ID      name of this runtime in telemetry (default reflex-<hostname>)
  --arm                drive actuators from the start (default only on the simulated board)
  --no-arm             start with actuators in their safe state until a "release" command
  --duration SECONDS   stop by itself after this long
  --quiet              no status line on stderr
  --help               this text

Stops cleanly on SIGINT/SIGTERM, with actuators put in their safe state first.
Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad usage or configuration.`;

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      board: { type: 'string' }, config: { type: 'string' }, model: { type: 'string' }, 'no-model': { type: 'boolean' },
      rate: { type: 'string' }, pub: { type: 'string', multiple: true }, control: { type: 'string' }, 'no-control': { type: 'boolean' },
      keys: { type: 'string' }, insecure: { type: 'boolean' }, 'runtime-id': { type: 'string' }, arm: { type: 'boolean' }, 'no-arm': { type: 'boolean' },
      duration: { type: 'string' }, quiet: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const cfg = values.config ? loadConfig(values.config) : defaultConfig();
  if (values.board) cfg.board = values.board.endsWith('.json') ? resolve(values.board) : values.board;
  if (values.model && values['no-model']) throw new ConfigError('E_USAGE', '--model and --no-model contradict each other');
  if (values.model) cfg.model = resolve(values.model);
  if (values['no-model']) cfg.model = null;
  if (values.rate) cfg.loop.rateHz = numberFlag('rate', values.rate, 100, [1, 2000]);
  if (values.pub) cfg.telemetry.endpoints = values.pub;
  if (values.control && values['no-control']) throw new ConfigError('E_USAGE', '--control and --no-control contradict each other');
  if (values.control) cfg.telemetry.control = values.control;
  if (values['no-control']) cfg.telemetry.control = null;
  if (values.keys) cfg.telemetry.keysDir = resolve(values.keys);
  if (values.insecure) cfg.telemetry.insecure = true;
  if (values['runtime-id']) cfg.runtimeId = values['runtime-id'];
  if (values.arm && values['no-arm']) throw new ConfigError('E_USAGE', '--arm and --no-arm contradict each other');
  const duration = parseDuration(values.duration) ?? cfg.durationS ?? undefined;
  const signal = withDuration(ctx.signal, duration);

  const log = new Logger({ sink: (level, msg) => ctx.stderr.write(`${level.padEnd(5)} ${msg}\n`) });
  const rt = await Runtime.start(cfg, { log, ...(values.arm && { arm: true }), ...(values['no-arm'] && { arm: false }) });
  const status = values.quiet ? null : setInterval(() => ctx.stderr.write(statusLine(rt) + '\n'), 2000);
  status?.unref();
  await new Promise<void>((resolveWait) => {
    if (signal.aborted) return resolveWait();
    signal.addEventListener('abort', () => resolveWait(), { once: true });
    void rt.stopped.then(() => resolveWait());
  });
  if (status) clearInterval(status);
  await rt.stop();
  if (!values.quiet) ctx.stderr.write(`${statusLine(rt)}\nstopped\n`);
  return 0;
}

function statusLine(rt: Runtime): string {
  const s = rt.status() as {
    state: string; safe: boolean; clock: { state: string; drift_ppm: number; residual_ms: number };
    loop: { cycles: number; lateness_p99_us: number; overruns: number } | null; counters: Record<string, number>;
  };
  const out = rt.latest();
  const pred = out && rt.loop ? rt.loop.outputNames.map((n, i) => `${n}=${fmt(out.outputs[i]!)}`).join(' ') : 'no model';
  const loop = s.loop ? `loop ${s.loop.cycles} cycles p99 ${s.loop.lateness_p99_us.toFixed(0)}us overruns ${s.loop.overruns}` : 'no loop';
  return `[${s.state}${s.safe ? ', SAFE' : ''}] samples ${s.counters['source.samples'] ?? 0} gaps ${s.counters.gaps ?? 0} | clock ${s.clock.state} ${fmt(s.clock.drift_ppm)} ppm | ${loop} | ${pred}`;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : String(x);
}
