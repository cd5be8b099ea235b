/** Turning the CLI's key flags into client CURVE settings (shared by `subscribe` and `ctl`). */
import { ConfigError } from '../core/errors.js';
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
