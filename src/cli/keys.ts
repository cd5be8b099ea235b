/** Turning the CLI's key flags into client CURVE settings (the telemetry commands and the control commands). */
import { ConfigError } from '../core/errors.js';
import type { TelemetryEndpoint } from '../telemetry/client.js';
import { loadKeyPair, loadPublicKey, type KeyPair } from '../telemetry/keys.js';
import { CoreCodes } from '../core/codes.js';

/**
 * `--server-key` given 0 times: plaintext; once: the same key for every endpoint;
 * once per endpoint: matched in order. A server key needs `--client-key-file`.
 */
export function clientKeysFromFlags(
  endpoints: readonly string[],
  serverKeys: readonly string[],
  clientKeyFile: string | undefined,
): { serverKeys: Array<string | undefined>; keyPair: KeyPair | undefined } {
  if (serverKeys.length === 0) {
    if (clientKeyFile !== undefined) throw new ConfigError(CoreCodes.usage, "--client-key-file needs --server-key (the publisher's public key)");
    return { serverKeys: endpoints.map(() => undefined), keyPair: undefined };
  }
  if (clientKeyFile === undefined)
    throw new ConfigError(CoreCodes.usage, "--server-key needs --client-key-file (this workstation's keypair from `reflex keygen`)");
  if (serverKeys.length !== 1 && serverKeys.length !== endpoints.length) {
    throw new ConfigError(CoreCodes.usage, `give --server-key once (all endpoints) or once per endpoint (${endpoints.length}), got ${serverKeys.length}`);
  }
  const keys = serverKeys.map(loadPublicKey);
  return { serverKeys: endpoints.map((_, i) => (keys.length === 1 ? keys[0] : keys[i])), keyPair: loadKeyPair(clientKeyFile) };
}

/** parseArgs options of the telemetry commands' key flags (subscribe, record, scope): one key for all endpoints or one per endpoint. */
export const telemetryKeyOptions = {
  'server-key': { type: 'string', multiple: true },
  'client-key-file': { type: 'string' },
} as const;

/** Usage lines of `telemetryKeyOptions`. */
export const telemetryKeyUsage = `  --server-key K       publisher public key, z85 or a .pub file (once for all endpoints, or once per endpoint)
  --client-key-file F  this workstation's keypair file from \`reflex keygen\` (needed with --server-key)`;

/** The endpoints, each with its `--server-key` if any, and the `--client-key-file` keypair, as a TelemetryClient or the scope takes them. */
export function telemetryEndpointsFromFlags(
  endpoints: readonly string[],
  values: { 'server-key'?: string[] | undefined; 'client-key-file'?: string | undefined },
): { endpoints: TelemetryEndpoint[]; keyPair: KeyPair | undefined } {
  const keys = clientKeysFromFlags(endpoints, values['server-key'] ?? [], values['client-key-file']);
  return {
    endpoints: endpoints.map((endpoint, i) => {
      const serverKey = keys.serverKeys[i];
      return serverKey === undefined ? { endpoint } : { endpoint, serverKey };
    }),
    keyPair: keys.keyPair,
  };
}
