/**
 * The deploy control commands (docs/deploy.md): their names, limits and argument checks,
 * shared by the runtime that serves them and the client that sends them. Chunks travel as
 * base64 text because the strict control decoder refuses CBOR byte strings.
 */
import type { PlainValue } from '../telemetry/control-protocol.js';
import { DEPLOY_FILE_NAME, SHA256_HEX, type DeployFile } from './model-hash.js';

export const DEPLOY_COMMANDS = {
  begin: 'deploy.begin',
  chunk: 'deploy.chunk',
  commit: 'deploy.commit',
  abort: 'deploy.abort',
  status: 'deploy.status',
} as const;

/** Raw bytes per chunk at most: 43,692 base64 characters, well inside a 64 KiB control request. */
export const DEPLOY_CHUNK_BYTES = 32 * 1024;
/** Files in one model directory at most. */
export const DEPLOY_MAX_FILES = 32;
/** Default for `deploy.maxBytes`: the total of all files. */
export const DEFAULT_DEPLOY_MAX_BYTES = 64 * 1024 * 1024;
/** Default for `deploy.idleTimeoutMs`: a deploy with no request for this long is dropped and its files removed. */
export const DEFAULT_DEPLOY_IDLE_MS = 30_000;
/** Default for `deploy.store`. */
export const DEFAULT_MODEL_STORE = '/var/lib/reflex/models';
/** Files every model directory must have (docs/model.md). */
export const REQUIRED_FILES = ['model.json', 'reflex-model.json'] as const;

/** The id a runtime gives a deploy at `deploy.begin`: 16 lowercase hex digits. */
const DEPLOY_ID = /^[0-9a-f]{16}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_BASE64 = 4 * Math.ceil(DEPLOY_CHUNK_BYTES / 3);

export interface DeployBeginArgs {
  files: DeployFile[];
  /** The model's content hash (model-hash.ts), checked against the files' hashes. */
  hash: string;
}

export interface DeployBeginResult {
  id: string;
  hash: string;
  /** True when the store already holds this model intact: send no chunks, commit at once. */
  stored: boolean;
  chunk_bytes: number;
  max_bytes: number;
  idle_timeout_ms: number;
}

export interface DeployChunkArgs {
  id: string;
  file: string;
  offset: number;
  /** The chunk's bytes, base64 (RFC 4648, with padding), 1..DEPLOY_CHUNK_BYTES bytes. */
  data: string;
}

export interface DeployChunkResult {
  /** Bytes of this file received so far. */
  received: number;
  /** Bytes of all files received so far. */
  total: number;
}

export interface DeployIdArgs {
  id: string;
}

/** A deploy's outcome: `done` once the model runs, `verifying` while the check and swap are under way. */
export type DeployCommitResult =
  | { id: string; state: 'verifying'; hash: string }
  | { id: string; state: 'done'; hash: string; dir: string; reused: boolean; swapped_at_cycle: number | null; swap_margin_ms: number | null; safe: boolean };

function onlyKeys(args: Record<string, PlainValue>, allowed: readonly string[]): string | undefined {
  const keys = Object.keys(args);
  const extra = keys.filter((k) => !allowed.includes(k));
  if (extra.length > 0) return `unknown arguments: ${extra.slice(0, 5).join(', ')} (allowed: ${allowed.join(', ')})`;
  const missing = allowed.filter((k) => !keys.includes(k));
  return missing.length > 0 ? `missing arguments: ${missing.join(', ')}` : undefined;
}

function idError(v: PlainValue | undefined): string | undefined {
  return typeof v === 'string' && DEPLOY_ID.test(v) ? undefined : 'id must be the 16-hex-digit id deploy.begin returned';
}

function checkFile(f: PlainValue | undefined, i: number): string | undefined {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return `files[${i}] must be a map {name, size, sha256}`;
  const e = onlyKeys(f, ['name', 'size', 'sha256']);
  if (e) return `files[${i}]: ${e}`;
  if (typeof f.name !== 'string' || !DEPLOY_FILE_NAME.test(f.name))
    return `files[${i}].name must be a plain file name (letters, digits, "_", "." and "-", not first; at most 128 characters)`;
  if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0) return `files[${i}].size must be a non-negative integer`;
  if (typeof f.sha256 !== 'string' || !SHA256_HEX.test(f.sha256)) return `files[${i}].sha256 must be 64 lowercase hex digits`;
  return undefined;
}

function checkChunk(a: Record<string, PlainValue>, maxBase64: number): string | undefined {
  const e = onlyKeys(a, ['id', 'file', 'offset', 'data']) ?? idError(a.id);
  if (e) return e;
  if (typeof a.file !== 'string' || !DEPLOY_FILE_NAME.test(a.file)) return 'file must be one of the names given to deploy.begin';
  if (typeof a.offset !== 'number' || !Number.isSafeInteger(a.offset) || a.offset < 0) return 'offset must be a non-negative integer';
  if (typeof a.data !== 'string' || a.data.length === 0 || a.data.length > maxBase64 || !BASE64.test(a.data))
    return `data must be base64 (with padding) of 1..${DEPLOY_CHUNK_BYTES} bytes`;
  return undefined;
}

export const deployArgCheckers = {
  begin: (a: Record<string, PlainValue>): string | undefined => {
    const e = onlyKeys(a, ['files', 'hash']);
    if (e) return e;
    if (!Array.isArray(a.files) || a.files.length === 0 || a.files.length > DEPLOY_MAX_FILES)
      return `files must be a list of 1..${DEPLOY_MAX_FILES} maps {name, size, sha256}`;
    for (let i = 0; i < a.files.length; i++) {
      const fe = checkFile(a.files[i], i);
      if (fe) return fe;
    }
    const names = new Set((a.files as { name: string }[]).map((f) => f.name));
    if (names.size !== a.files.length) return 'files names a file twice';
    if (typeof a.hash !== 'string' || !SHA256_HEX.test(a.hash)) return 'hash must be the model content hash, 64 lowercase hex digits';
    return undefined;
  },
  chunk: (a: Record<string, PlainValue>): string | undefined => checkChunk(a, MAX_BASE64),
  /**
   * The same check without the per-chunk size limit, which only keeps a request inside the
   * control server's frame limit: for callers handing chunks to the runtime's DeployService directly.
   */
  chunkAnySize: (a: Record<string, PlainValue>): string | undefined => checkChunk(a, Infinity),
  id: (a: Record<string, PlainValue>): string | undefined => onlyKeys(a, ['id']) ?? idError(a.id),
};
