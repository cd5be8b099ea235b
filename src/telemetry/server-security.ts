/**
 * The shared part of binding a server socket (publisher or control): check the bind is
 * allowed, give the socket its own ZeroMQ context with its own ZAP handler (the ZAP
 * endpoint is per context, so two servers in one process cannot share the default one),
 * and set the CURVE server options.
 */
import { Context, type Socket } from 'zeromq';
import type { Logger } from '../core/log.js';
import { checkBindSecurity, type CurveServerOptions } from './security.js';
import { ZapHandler, type ZapDecision } from './zap.js';

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

/** Bind every endpoint; returns the bound addresses (tcp port 0 / "*" resolved via lastEndpoint). */
export async function bindAll(socket: Socket, endpoints: readonly string[]): Promise<string[]> {
  const bound: string[] = [];
  for (const ep of endpoints) {
    await socket.bind(ep);
    bound.push(socket.lastEndpoint ?? ep);
  }
  return bound;
}
