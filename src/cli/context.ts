import { ConfigError } from '../core/errors.js';
import { Logger, type LogFormat } from '../core/log.js';
import { CoreCodes } from '../core/codes.js';

/** What every `reflex` command receives: its streams and a signal that fires on SIGINT/SIGTERM. */
export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM or when `--duration` runs out; long-running commands stop cleanly on it. */
  readonly signal: AbortSignal;
}

/** A command module in `src/cli/commands/<name>.ts`. */
export interface CommandModule {
  /** One line for `reflex --help`. */
  readonly summary: string;
  /** Full text for `reflex <command> --help`: every flag, one line each. */
  readonly usage: string;
  /** Returns the exit code: 0 success, 2 bad usage/config (throw ConfigError), 1 runtime failure. */
  main(argv: string[], ctx: CliContext): Promise<number>;
}

/** Parse `--duration SECONDS`; undefined when absent. Throws a ConfigError naming the flag. */
export function parseDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0) {
    throw new ConfigError(CoreCodes.usage, `--duration must be a positive number of seconds, got "${value}"`);
  }
  return s;
}

/**
 * A signal that aborts when `parent` aborts or after `seconds` (if given).
 *
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node holds the combined signal
 * only weakly from its inputs, so when nothing else references it, it is garbage-collected
 * and never fires (seen: `reflex run --duration 10` ran on for a minute). The timer here
 * holds the controller strongly until it fires or the parent aborts.
 */
export function withDuration(parent: AbortSignal, seconds: number | undefined): AbortSignal {
  if (seconds === undefined) return parent;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`--duration ${seconds} s elapsed`)), seconds * 1000);
  const onParent = (): void => {
    clearTimeout(timer);
    controller.abort(parent.reason);
  };
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  return controller.signal;
}

/** Parse a number flag, naming the flag in the error. */
export function numberFlag(name: string, value: string | undefined, fallback: number, range?: [number, number]): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (range && (n < range[0] || n > range[1]))) {
    const r = range ? ` in ${range[0]}..${range[1]}` : '';
    throw new ConfigError(CoreCodes.usage, `--${name} must be a number${r}, got "${value}"`);
  }
  return n;
}

/**
 * The logger a command writes its log lines with: one `format` line each on ctx.stderr
 * (docs/runtime.md, "Logs"). Worker threads started under it log the same way
 * (Logger.settings() travels in their workerData).
 */
export function commandLogger(ctx: CliContext, format: LogFormat, component = 'runtime'): Logger {
  return new Logger({ format, component, write: (line) => ctx.stderr.write(line + '\n') });
}
