/**
 * Logging: one line format for every thread, with a rate limit per key, so a flood of bad
 * frames costs a line a second, not a line a frame. Suppressed lines are counted and
 * reported with the next one.
 *
 * Two formats (docs/runtime.md, "Logs"):
 * - `text` (default): `2026-12-07T01:50:00.123Z info  [loop] message [E_CODE] {"data":1}`;
 * - `json`: one object per line, `{"time","level","component","message","code"?,"data"?}`,
 *   for the journal and log shippers.
 * A worker thread cannot share the main thread's sink, so it gets the main logger's
 * settings() through workerData and builds the same formatter from them
 * (Logger.fromSettings).
 */
import { ConfigError } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** Optional structure beside a message: a stable error code, and values a log shipper can index. */
export interface LogFields {
  code?: string;
  data?: Readonly<Record<string, unknown>>;
}

/** One log line before formatting. */
export interface LogRecord extends LogFields {
  /** Wall clock, ms since the Unix epoch. */
  time: number;
  level: LogLevel;
  component: string;
  message: string;
}

/** Receives every line at or above the logger's level; `record` has everything a formatter needs. */
export type LogSink = (level: LogLevel, msg: string, record: LogRecord) => void;

/** What a worker thread needs to log as its parent does (structured-cloneable). */
export interface LogSettings {
  format: LogFormat;
  level: LogLevel;
}

export interface LoggerOptions {
  /** Where lines go; default: formatted (`format`) to `write`. */
  sink?: LogSink;
  /** Line format when no sink is given (default text). */
  format?: LogFormat;
  /** Writes one formatted line, without its newline (default: process.stderr). */
  write?: (line: string) => void;
  /** Default $REFLEX_LOG, else info. */
  level?: LogLevel;
  /** Tag of every line, e.g. `loop` (default `reflex`). */
  component?: string;
  intervalMs?: number;
  now?: () => number;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function isLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && Object.hasOwn(order, v);
}

/** `--log-format` value; a ConfigError naming the choices otherwise. */
export function parseLogFormat(text: string): LogFormat {
  if ((LOG_FORMATS as readonly string[]).includes(text)) return text as LogFormat;
  throw new ConfigError('E_USAGE', `--log-format must be one of ${LOG_FORMATS.join(', ')}, got "${text}"`);
}

/** JSON.stringify that never throws on what log data may hold (bigint, errors, cycles). */
function toJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error)
      return { name: v.name, message: v.message, ...((v as { code?: unknown }).code !== undefined && { code: (v as { code?: unknown }).code }) };
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

/** One line, without its newline. */
export function formatLogRecord(format: LogFormat, r: LogRecord): string {
  const time = new Date(r.time).toISOString();
  if (format === 'json') {
    return toJson({
      time,
      level: r.level,
      component: r.component,
      message: r.message,
      ...(r.code !== undefined && { code: r.code }),
      ...(r.data !== undefined && { data: r.data }),
    });
  }
  const code = r.code !== undefined ? ` [${r.code}]` : '';
  const data = r.data !== undefined ? ` ${toJson(r.data)}` : '';
  return `${time} ${r.level.padEnd(5)} [${r.component}] ${r.message}${code}${data}`;
}

/** A sink that formats every record and hands the line to `write` (default: stderr). */
export function formattedSink(format: LogFormat, write: (line: string) => void = (line) => process.stderr.write(line + '\n')): LogSink {
  return (_level, _msg, record) => write(formatLogRecord(format, record));
}

interface Limits {
  readonly intervalMs: number;
  readonly now: () => number;
  readonly last: Map<string, { at: number; suppressed: number }>;
}

export class Logger {
  /** The format of the default sink (what settings() passes on, even when a custom sink is used). */
  readonly format: LogFormat;
  readonly component: string;
  readonly #sink: LogSink;
  readonly #level: LogLevel;
  /** Shared with child() loggers: one rate limit per key across components. */
  #limits: Limits;

  constructor(opts: LoggerOptions = {}) {
    this.format = opts.format ?? 'text';
    this.component = opts.component ?? 'reflex';
    this.#sink = opts.sink ?? formattedSink(this.format, opts.write);
    const env = process.env.REFLEX_LOG;
    this.#level = opts.level ?? (isLevel(env) ? env : 'info');
    this.#limits = { intervalMs: opts.intervalMs ?? 1000, now: opts.now ?? (() => performance.now()), last: new Map() };
  }

  /** A logger with these settings on this thread (a worker's, from its parent's settings()). */
  static fromSettings(s: LogSettings, component: string, write?: (line: string) => void): Logger {
    return new Logger({ format: s.format, level: s.level, component, ...(write && { write }) });
  }

  get level(): LogLevel {
    return this.#level;
  }

  settings(): LogSettings {
    return { format: this.format, level: this.#level };
  }

  /** The same sink, level and rate limits, lines tagged `component`. */
  child(component: string): Logger {
    const c = new Logger({ sink: this.#sink, format: this.format, level: this.#level, component });
    c.#limits = this.#limits;
    return c;
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (order[level] < order[this.#level]) return;
    this.#sink(level, msg, { time: Date.now(), level, component: this.component, message: msg, ...fields });
  }
  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  /** Log at most once per interval for `key`; returns true if the line was written. */
  limited(level: LogLevel, key: string, msg: string, fields?: LogFields): boolean {
    const { intervalMs, now: clock, last } = this.#limits;
    const now = clock();
    const entry = last.get(key);
    if (entry && now - entry.at < intervalMs) {
      entry.suppressed++;
      return false;
    }
    const suffix = entry && entry.suppressed > 0 ? ` (${entry.suppressed} similar suppressed)` : '';
    last.set(key, { at: now, suppressed: 0 });
    this.log(level, msg + suffix, fields);
    return true;
  }
}

/** Silent logger for tests and benches that still exercises the rate limiter. */
export function nullLogger(): Logger {
  return new Logger({ sink: () => {}, level: 'error' });
}
