/**
 * The shared part of binding a server socket (publisher or control): check the bind is
 * allowed, give the socket its own ZeroMQ context with its own ZAP handler (the ZAP
 * endpoint is per context, so two servers in one process cannot share the default one),
 * and set the CURVE server options.
 */
import { lstat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { Context, type Socket } from 'zeromq';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { checkBindSecurity, type CurveServerOptions } from './security.js';
import { ZapHandler, type ZapDecision } from './zap.js';
import { TelemetryCodes } from './codes.js';

export interface ServerSecurityOptions {
  curve?: CurveServerOptions;
  insecure?: boolean;
  onAuth?: (d: ZapDecision) => void;
  logger?: Logger;
}

export interface SecuredContext {
  context: Context;
  zap: ZapHandler | undefined;
}

/** Validate and start ZAP; call before creating the server socket with the returned context. */
export async function prepareServer(what: string, endpoints: readonly string[], opts: ServerSecurityOptions): Promise<SecuredContext> {
  checkBindSecurity(what, endpoints, opts.curve, opts.insecure);
  const context = new Context();
  if (!opts.curve) return { context, zap: undefined };
  const zap = new ZapHandler({ context, allow: opts.curve.allow, onDecision: opts.onAuth, logger: opts.logger });
  await zap.start();
  return { context, zap };
}

export function applyCurveServer(socket: Socket, curve: CurveServerOptions | undefined, domain: string): void {
  if (!curve) return;
  socket.curveServer = true;
  socket.curveSecretKey = curve.secretKey;
  socket.curvePublicKey = curve.publicKey;
  socket.zapDomain = domain;
}

/**
 * Bind every endpoint; returns the bound addresses (tcp port 0 / "*" resolved via lastEndpoint).
 * Every ipc path is checked before anything is bound (checkIpcPath).
 */
export async function bindAll(socket: Socket, endpoints: readonly string[]): Promise<string[]> {
  for (const ep of endpoints) await checkIpcPath(ep);
  const bound: string[] = [];
  for (const ep of endpoints) {
    await socket.bind(ep);
    bound.push(socket.lastEndpoint ?? ep);
  }
  return bound;
}

/** How long a connect to an existing ipc socket may take before it counts as someone listening. */
const IPC_PROBE_MS = 1000;

/**
 * libzmq unlinks whatever is at an ipc endpoint's path before binding: a data file there would
 * be deleted, and a live socket silently taken from the process serving it. So an existing
 * path is bound over only when it is a socket nobody listens on (left by a process that died).
 * `ipc://*` (a fresh temporary path) and abstract names (`ipc://@name`) have no file.
 */
export async function checkIpcPath(endpoint: string): Promise<void> {
  if (!endpoint.startsWith('ipc://')) return;
  const path = endpoint.slice('ipc://'.length);
  if (path === '' || path === '*' || path.startsWith('@')) return;
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError(TelemetryCodes.ipcPath, `refusing to bind ${endpoint}: cannot check ${path} (${(err as Error).message})`, { cause: err });
  }
  if (!st.isSocket()) {
    const what = st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'a file';
    throw new ConfigError(
      TelemetryCodes.ipcNotSocket,
      `refusing to bind ${endpoint}: ${path} is ${what}, not a socket, and binding would delete it; choose another path`,
    );
  }
  if (await someoneListens(path)) {
    throw new ConfigError(TelemetryCodes.ipcInUse, `refusing to bind ${endpoint}: another process is serving ${path}; stop it or choose another path`);
  }
}

/** True when a connection to the unix socket at `path` is accepted (or not refused in time). */
function someoneListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ path });
    const done = (v: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(true), IPC_PROBE_MS);
    sock.once('connect', () => done(true));
    // ECONNREFUSED: a socket file nobody serves. Any other failure (EACCES...) leaves it unknown: refuse.
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}
