import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, ReflexError } from '../../core/errors.js';
import { parseLogFormat, type Logger } from '../../core/log.js';
import { ServiceNotify } from '../../deploy/service-notify.js';
import { defaultConfig, loadConfig, RUNTIME_ID, type RunConfig } from '../../runtime/config.js';
import { Runtime } from '../../runtime/runtime.js';
import { openRunRecorder } from '../../record/run-recorder.js';
import { E_SOURCE_NOT_CONNECTED } from '../../runtime/startup.js';
import { commandLogger, numberFlag, parseDuration, withDuration, type CliContext } from '../context.js';

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
  --arm                drive actuators once start-up is complete (default only on the simulated board)
  --no-arm             start with actuators in their safe state until a "release" command
  --duration SECONDS   stop by itself after this long (counted from the start, connecting included)
  --record FILE        record every stream of the run to FILE as XDF (docs/recording.md), before any decimation
  --force              with --record: replace FILE if it exists (default: refuse, exit 2)
  --quiet              no status line on stderr
  --log-format FORMAT  text (default: time, level, [component], message) or json (one object per line)
  --help               this text

Every check (configuration, board, model, output map, endpoints, the device's HELLO) is done
before the loop is armed; the loop starts safe and is armed last (docs/runtime.md, "Start-up").
Control answers "status" while the source connects. Stops cleanly on SIGINT/SIGTERM and at the
end of --duration, with actuators put in their safe state first, also while still connecting.
Log lines, the loop worker's included, go to stderr in one format (docs/runtime.md, "Logs"); with
--log-format json so does everything else the run writes there (status, stop, errors of the run).
Exit codes: 0 stopped cleanly; 1 runtime failure, including "source never connected" when the
run is stopped before its source ever streamed; 2 bad usage or configuration.`;

/** A string flag's value; an empty one is an error naming the flag, never silently "not given". */
function stringFlag(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw new ConfigError('E_USAGE', `--${name} needs a value, got ""`);
  return value;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const values = parseFlags(argv);
  const format = parseLogFormat(stringFlag('log-format', values['log-format']) ?? 'text');
  const json = format === 'json';
  const log = commandLogger(ctx, format);
  // The run's own lines: plain text for a person at a terminal, log records for a shipper.
  const runLog = log.child('run');
  const say = (text: string): void => {
    if (json) runLog.info(text);
    else ctx.stderr.write(text + '\n');
  };
  try {
    return await runWith(values, ctx, log, say);
  } catch (err) {
    if (!json) throw err;
    // Not left to the dispatcher, whose lines are text: the journal gets a record with the code
    // (and, for a failure that is not one of ours, the stack).
    if (err instanceof ReflexError) runLog.error(err.message, { code: err.code });
    else
      runLog.error(err instanceof Error ? err.message : String(err), {
        ...(err instanceof Error && err.stack !== undefined && { data: { stack: err.stack } }),
      });
    return err instanceof ConfigError ? 2 : 1;
  }
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      board: { type: 'string' },
      config: { type: 'string' },
      model: { type: 'string' },
      'no-model': { type: 'boolean' },
      rate: { type: 'string' },
      pub: { type: 'string', multiple: true },
      control: { type: 'string' },
      'no-control': { type: 'boolean' },
      keys: { type: 'string' },
      insecure: { type: 'boolean' },
      'runtime-id': { type: 'string' },
      arm: { type: 'boolean' },
      'no-arm': { type: 'boolean' },
      duration: { type: 'string' },
      record: { type: 'string' },
      force: { type: 'boolean' },
      quiet: { type: 'boolean' },
      'log-format': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

async function runWith(values: ReturnType<typeof parseFlags>, ctx: CliContext, log: Logger, say: (text: string) => void): Promise<number> {
  const configFile = stringFlag('config', values.config);
  const board = stringFlag('board', values.board);
  const model = stringFlag('model', values.model);
  const pub = values.pub?.map((p) => stringFlag('pub', p)!);
  const control = stringFlag('control', values.control);
  const keys = stringFlag('keys', values.keys);
  const runtimeId = stringFlag('runtime-id', values['runtime-id']);
  const cfg = configFile !== undefined ? loadConfig(configFile) : defaultConfig();
  if (board !== undefined) cfg.board = board.endsWith('.json') ? resolve(board) : board;
  if (model !== undefined && values['no-model']) throw new ConfigError('E_USAGE', '--model and --no-model contradict each other');
  if (model !== undefined) cfg.model = resolve(model);
  if (values['no-model']) cfg.model = null;
  if (values.rate !== undefined) cfg.loop.rateHz = numberFlag('rate', values.rate, 100, [1, 2000]);
  if (pub !== undefined) cfg.telemetry.endpoints = pub;
  if (control !== undefined && values['no-control']) throw new ConfigError('E_USAGE', '--control and --no-control contradict each other');
  if (control !== undefined) cfg.telemetry.control = control;
  if (values['no-control']) cfg.telemetry.control = null;
  if (keys !== undefined) cfg.telemetry.keysDir = resolve(keys);
  if (values.insecure) cfg.telemetry.insecure = true;
  if (runtimeId !== undefined) {
    if (!RUNTIME_ID.test(runtimeId))
      throw new ConfigError('E_USAGE', `--runtime-id may use letters, digits, ".", "_" and "-" only (it is part of telemetry topics), got "${runtimeId}"`);
    cfg.runtimeId = runtimeId;
  }
  if (values.arm && values['no-arm']) throw new ConfigError('E_USAGE', '--arm and --no-arm contradict each other');
  const duration = parseDuration(values.duration) ?? cfg.durationS ?? undefined;
  const signal = withDuration(ctx.signal, duration);

  // Under systemd (Type=notify): start-up status, READY, watchdog pings from the run's health, STOPPING (docs/install.md).
  const service = ServiceNotify.fromEnv(log.child('systemd'));
  service?.starting();
  try {
    return await runRuntime(cfg, values, ctx, log, say, signal, service);
  } finally {
    await service?.close();
  }
}

async function runRuntime(
  cfg: RunConfig,
  values: ReturnType<typeof parseFlags>,
  ctx: CliContext,
  log: Logger,
  say: (text: string) => void,
  signal: AbortSignal,
  service: ServiceNotify | null,
): Promise<number> {
  const recordTo = stringFlag('record', values.record);
  if (values.force && recordTo === undefined) throw new ConfigError('E_USAGE', '--force only applies to --record FILE');
  const recorder = recordTo !== undefined ? openRunRecorder(cfg, recordTo, { overwrite: values.force === true }) : undefined;
  let rt: Runtime;
  try {
    rt = await Runtime.start(cfg, {
      log,
      signal,
      ...(values.arm && { arm: true }),
      ...(values['no-arm'] && { arm: false }),
      ...(recorder && { tap: recorder }),
    });
  } catch (err) {
    recorder?.close();
    service?.stopping(`start-up failed: ${(err as Error).message}`);
    // Stopped while connecting: one line that says what the source last saw, not a stack trace.
    if (err instanceof ReflexError && err.code === E_SOURCE_NOT_CONNECTED && log.format === 'text') {
      ctx.stderr.write(`reflex run: ${err.message} [${err.code}]\n`);
      return 1;
    }
    throw err;
  }
  service?.ready(rt);
  const status = values.quiet ? null : setInterval(() => say(statusLine(rt)), 2000);
  status?.unref();
  await new Promise<void>((resolveWait) => {
    if (signal.aborted) return resolveWait();
    signal.addEventListener('abort', () => resolveWait(), { once: true });
    void rt.stopped.then(() => resolveWait());
  });
  if (status) clearInterval(status);
  service?.stopping();
  await rt.stop();
  if (recorder) {
    recorder.close();
    const st = recorder.stats();
    say(`recorded ${st.messages} messages in ${st.streams.length} streams (${st.bytes} bytes) to ${recorder.path}`);
  }
  if (!values.quiet) {
    say(statusLine(rt));
    say('stopped');
  }
  return 0;
}

function statusLine(rt: Runtime): string {
  const s = rt.status() as {
    state: string;
    safe: boolean;
    clock: { state: string; drift_ppm: number; residual_ms: number };
    loop: { cycles: number; lateness_p99_us: number; overruns: number } | null;
    counters: Record<string, number>;
  };
  const out = rt.latest();
  const pred = out && rt.loop ? rt.loop.outputNames.map((n, i) => `${n}=${fmt(out.outputs[i]!)}`).join(' ') : 'no model';
  const loop = s.loop ? `loop ${s.loop.cycles} cycles p99 ${s.loop.lateness_p99_us.toFixed(0)}us overruns ${s.loop.overruns}` : 'no loop';
  return (
    `[${s.state}${s.safe ? ', SAFE' : ''}] samples ${s.counters['source.samples'] ?? 0} gaps ${s.counters.gaps ?? 0} | ` +
    `clock ${s.clock.state} ${fmt(s.clock.drift_ppm)} ppm | ${loop} | ${pred}`
  );
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : String(x);
}
