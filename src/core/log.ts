/**
 * Logging with a rate limit per key, so a flood of bad frames costs a line a second,
 * not a line a frame. Suppressed lines are counted and reported with the next one.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, msg: string) => void;

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class Logger {
  #sink: LogSink;
  #min: number;
  #last = new Map<string, { at: number; suppressed: number }>();
  readonly #intervalMs: number;
  readonly #now: () => number;

  constructor(opts: { sink?: LogSink; level?: LogLevel; intervalMs?: number; now?: () => number } = {}) {
    this.#sink = opts.sink ?? defaultSink;
    this.#min = order[opts.level ?? (process.env.REFLEX_LOG as LogLevel | undefined) ?? 'info'] ?? order.info;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#now = opts.now ?? (() => performance.now());
  }

  log(level: LogLevel, msg: string): void {
    if (order[level] >= this.#min) this.#sink(level, msg);
  }
  debug(msg: string): void { this.log('debug', msg); }
  info(msg: string): void { this.log('info', msg); }
  warn(msg: string): void { this.log('warn', msg); }
  error(msg: string): void { this.log('error', msg); }

  /** Log at most once per interval for `key`; returns true if the line was written. */
  limited(level: LogLevel, key: string, msg: string): boolean {
    const now = this.#now();
    const entry = this.#last.get(key);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed++;
      return false;
    }
    const suffix = entry && entry.suppressed > 0 ? ` (${entry.suppressed} similar suppressed)` : '';
    this.#last.set(key, { at: now, suppressed: 0 });
    this.log(level, msg + suffix);
    return true;
  }
}

function defaultSink(level: LogLevel, msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`);
}

/** Silent logger for tests and benches that still exercises the rate limiter. */
export function nullLogger(): Logger {
  return new Logger({ sink: () => {}, level: 'error' });
}
