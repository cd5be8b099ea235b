/**
 * Remote-control messages: request = CBOR map {id, cmd, args}; reply = CBOR map
 * {id, ok: true, result} or {id, ok: false, error: {code, message}}. Everything a remote
 * peer sends is checked here before any handler sees it.
 */
import type { ErrorCode } from '../core/codes.js';
import { TelemetryCodes } from './codes.js';

export const CONTROL_COMMANDS = ['start', 'stop', 'set', 'model', 'estop', 'release', 'status'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export type SetValue = number | boolean | string;

export interface ControlArgs {
  start: Record<string, never>;
  stop: Record<string, never>;
  /** Set one parameter: `path` like "features.0.low" (the runtime decides which paths exist), `value` a number, boolean or string. */
  set: { path: string; value: SetValue };
  /** Switch to the model in `dir`. */
  model: { dir: string };
  estop: { reason?: string };
  release: Record<string, never>;
  status: Record<string, never>;
}

export type RequestId = string | number;

export interface ControlError {
  /** One of Reflex's codes (docs/errors.md); a client trusts the server on this, as on the rest of the reply's shape. */
  code: ErrorCode;
  message: string;
}

export type ControlReply = { id: RequestId; ok: true; result: unknown } | { id: RequestId | null; ok: false; error: ControlError };

/** Plain data: what request args and replies may contain. */
export type PlainValue = null | boolean | number | string | PlainValue[] | { [key: string]: PlainValue };

export const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_DEPTH = 8;
const MAX_STRING = 4096;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** JSON-like data only: no tags, typed arrays, Maps, Dates, bigints or undefined. */
export function isPlainValue(v: unknown, depth = 0): v is PlainValue {
  if (depth > MAX_DEPTH) return false;
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isPlainValue(x, depth + 1));
  if (isPlainObject(v)) return Object.values(v).every((x) => isPlainValue(x, depth + 1));
  return false;
}

function isRequestId(v: unknown): v is RequestId {
  return (typeof v === 'string' && v.length > 0 && v.length <= 128) || (typeof v === 'number' && Number.isSafeInteger(v));
}

export type ParsedRequest =
  { ok: true; id: RequestId; cmd: string; args: Record<string, PlainValue> } | { ok: false; id: RequestId | null; error: ControlError };

/** Shape check of a decoded request map (command-specific args are checked by `checkArgs`). */
export function parseRequest(value: unknown): ParsedRequest {
  if (!isPlainObject(value)) return { ok: false, id: null, error: { code: TelemetryCodes.badRequest, message: 'request must be a CBOR map {id, cmd, args}' } };
  const id = isRequestId(value.id) ? value.id : null;
  if (id === null)
    return { ok: false, id: null, error: { code: TelemetryCodes.badRequest, message: 'request id must be a non-empty string (<= 128 chars) or an integer' } };
  const extra = Object.keys(value).filter((k) => k !== 'id' && k !== 'cmd' && k !== 'args');
  if (extra.length > 0)
    return { ok: false, id, error: { code: TelemetryCodes.badRequest, message: `unexpected request keys: ${extra.slice(0, 5).join(', ')}` } };
  const { cmd, args } = value;
  if (typeof cmd !== 'string' || !/^[a-z][a-z0-9_.-]{0,63}$/.test(cmd)) {
    return { ok: false, id, error: { code: TelemetryCodes.badRequest, message: 'cmd must be a lowercase command name, e.g. "status"' } };
  }
  if (args !== undefined && args !== null && !(isPlainObject(args) && isPlainValue(args))) {
    return { ok: false, id, error: { code: TelemetryCodes.badArgs, message: 'args must be a map of plain values (numbers, strings, booleans, lists, maps)' } };
  }
  return { ok: true, id, cmd, args: args ?? {} };
}

function noArgs(args: Record<string, PlainValue>): string | undefined {
  const keys = Object.keys(args);
  return keys.length === 0 ? undefined : `takes no arguments, got ${keys.slice(0, 5).join(', ')}`;
}

function onlyKeys(args: Record<string, PlainValue>, allowed: string[]): string | undefined {
  const extra = Object.keys(args).filter((k) => !allowed.includes(k));
  return extra.length === 0 ? undefined : `unknown arguments: ${extra.slice(0, 5).join(', ')} (allowed: ${allowed.join(', ')})`;
}

const PARAM_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+){0,7}$/;

/** Returns why the args are wrong for a built-in command, or undefined when they are right. */
export const argCheckers: { [C in ControlCommand]: (args: Record<string, PlainValue>) => string | undefined } = {
  start: noArgs,
  stop: noArgs,
  release: noArgs,
  status: noArgs,
  set: (a) => {
    const e = onlyKeys(a, ['path', 'value']);
    if (e) return e;
    if (typeof a.path !== 'string' || a.path.length > 128 || !PARAM_PATH.test(a.path))
      return 'path must be a dotted parameter name, e.g. "filters.emg.highpass_hz"';
    const v = a.value;
    if (!((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || (typeof v === 'string' && v.length <= MAX_STRING))) {
      return 'value must be a finite number, a boolean or a string';
    }
    return undefined;
  },
  model: (a) => {
    const e = onlyKeys(a, ['dir']);
    if (e) return e;
    if (typeof a.dir !== 'string' || a.dir.length === 0 || a.dir.length > MAX_STRING || a.dir.includes('\u0000')) return 'dir must be a model directory path';
    return undefined;
  },
  estop: (a) => {
    const e = onlyKeys(a, ['reason']);
    if (e) return e;
    if (a.reason !== undefined && (typeof a.reason !== 'string' || a.reason.length > 256)) return 'reason must be a string of at most 256 characters';
    return undefined;
  },
};

export function isControlCommand(cmd: string): cmd is ControlCommand {
  return (CONTROL_COMMANDS as readonly string[]).includes(cmd);
}
