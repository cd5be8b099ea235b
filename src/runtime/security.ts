/**
 * The runtime's CURVE material from its keys directory:
 *   <keysDir>/server.key       the runtime's keypair (`reflex keygen --name server`)
 *   <keysDir>/clients/*.pub    public keys of the workstations allowed to subscribe and steer
 * No keys directory: plaintext, which the publisher and control server accept only on loopback
 * or ipc unless `telemetry.insecure` is set.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { loadKeyPair, loadPublicKey } from '../telemetry/keys.js';
import type { CurveServerOptions } from '../telemetry/security.js';
import type { RunConfig } from './config.js';
import { TelemetryCodes } from '../telemetry/codes.js';
import { RuntimeCodes } from './codes.js';

export function serverSecurity(cfg: RunConfig): CurveServerOptions | undefined {
  const dir = cfg.telemetry.keysDir;
  if (dir === null) return undefined;
  const keyFile = join(dir, 'server.key');
  if (!existsSync(keyFile)) {
    throw new ConfigError(TelemetryCodes.keyFile, `telemetry.keysDir: ${keyFile} is missing; create it with: reflex keygen --out ${dir} --name server`);
  }
  const pair = loadKeyPair(keyFile);
  const clientsDir = join(dir, 'clients');
  const allow = existsSync(clientsDir)
    ? readdirSync(clientsDir)
        .filter((f) => f.endsWith('.pub'))
        .sort()
        .map((f) => loadPublicKey(join(clientsDir, f)))
    : [];
  if (allow.length === 0) {
    throw new ConfigError(
      RuntimeCodes.noClients,
      `telemetry.keysDir: no client keys in ${clientsDir}; copy each workstation's .pub file there (nobody could connect otherwise)`,
    );
  }
  return { secretKey: pair.secretKey, publicKey: pair.publicKey, allow };
}
