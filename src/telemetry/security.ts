/**
 * When plaintext is acceptable: telemetry carries a person's EMG and the control socket
 * drives actuators attached to them, so anything reachable from another machine needs CURVE.
 */
import { isIPv4 } from 'node:net';
import { ConfigError } from '../core/errors.js';
import { isCurveKey } from './z85.js';
import { TelemetryCodes } from './codes.js';

/** What a server (publisher or control server) needs for CURVE. */
export interface CurveServerOptions {
  /** The server's secret key, z85. */
  secretKey: string;
  /** The server's public key, z85 (what clients pass as their server key). */
  publicKey: string;
  /** Client public keys (z85) allowed to connect; everyone else is refused by the ZAP handler. */
  allow: readonly string[];
}

/** What a client needs for CURVE. */
export interface CurveClientOptions {
  /** The server's public key, z85. */
  serverKey: string;
  /** This client's keypair, z85. */
  publicKey: string;
  secretKey: string;
}

/** True for ipc://, inproc://, and tcp:// bound to 127.0.0.0/8, ::1, localhost or the `lo` interface. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const m = /^([a-z]+):\/\/(.*)$/.exec(endpoint);
  if (!m) return false;
  const [, proto, rest] = m as unknown as [string, string, string];
  if (proto === 'ipc' || proto === 'inproc') return true;
  if (proto !== 'tcp') return false;
  // A connect-style "source;address" is not used for binds; treat it as not loopback.
  if (rest.includes(';')) return false;
  let host: string;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) return false;
    host = rest.slice(1, end);
  } else {
    const colon = rest.lastIndexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
  }
  if (host === 'localhost' || host === 'lo' || host === '::1') return true;
  return isIPv4(host) && host.startsWith('127.');
}

export function checkCurveServer(curve: CurveServerOptions): void {
  if (!isCurveKey(curve.secretKey) || !isCurveKey(curve.publicKey)) {
    throw new ConfigError(TelemetryCodes.badKey, 'curve.secretKey and curve.publicKey must be 40-character z85 keys (create them with `reflex keygen`)');
  }
  for (const k of curve.allow) {
    if (!isCurveKey(k)) throw new ConfigError(TelemetryCodes.badKey, `curve.allow entry "${k}" is not a 40-character z85 public key`);
  }
}

export function checkCurveClient(curve: CurveClientOptions): void {
  if (!isCurveKey(curve.serverKey)) throw new ConfigError(TelemetryCodes.badKey, 'the server key must be the 40-character z85 public key of the server');
  if (!isCurveKey(curve.publicKey) || !isCurveKey(curve.secretKey)) {
    throw new ConfigError(TelemetryCodes.badKey, 'the client keypair must be 40-character z85 keys (create one with `reflex keygen`)');
  }
}

/**
 * Refuse plaintext on anything but loopback unless the configuration says `insecure: true`.
 * Called before binding so nothing is ever exposed by mistake.
 */
export function checkBindSecurity(what: string, endpoints: readonly string[], curve: CurveServerOptions | undefined, insecure: boolean | undefined): void {
  if (curve) {
    checkCurveServer(curve);
    return;
  }
  if (insecure === true) return;
  for (const ep of endpoints) {
    if (!isLoopbackEndpoint(ep)) {
      throw new ConfigError(
        TelemetryCodes.insecureBind,
        `${what}: refusing to bind ${ep} without CURVE: ` +
          'configure curve keys (reflex keygen) or bind to 127.0.0.1 / ipc://, or set insecure: true if this network is trusted',
      );
    }
  }
}
