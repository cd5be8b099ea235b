/**
 * CURVE keypair files. `NAME.key` holds both keys (secret: 0600), `NAME.pub` only the public
 * key, to hand to the other side's allow-list or --server-key. Both are 0600 because the
 * lab's home directories are shared; nothing here is world-readable.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { ConfigError } from '../core/errors.js';
import { isCurveKey } from './z85.js';
import { CoreCodes } from '../core/codes.js';
import { TelemetryCodes } from './codes.js';

export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

export function generateKeyPair(): KeyPair {
  const { publicKey, secretKey } = curveKeyPair();
  return { publicKey, secretKey };
}

export function formatKeyFile(pair: KeyPair): string {
  return `# Reflex CURVE keypair (z85). Keep this file secret.\npublic-key = ${pair.publicKey}\nsecret-key = ${pair.secretKey}\n`;
}

export function formatPublicKeyFile(publicKey: string): string {
  return `# Reflex CURVE public key (z85).\npublic-key = ${publicKey}\n`;
}

/** Write NAME.key and NAME.pub in dir with mode 0600; refuses to overwrite unless `force`. */
export function writeKeyPair(dir: string, name: string, pair: KeyPair, force = false): { keyFile: string; pubFile: string } {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ConfigError(CoreCodes.usage, `key name "${name}" must be letters, digits, _ . -`);
  const keyFile = join(dir, `${name}.key`);
  const pubFile = join(dir, `${name}.pub`);
  for (const f of [keyFile, pubFile]) {
    if (!force && existsSync(f)) throw new ConfigError(TelemetryCodes.exists, `${f} already exists; pass --force to replace it or --name to pick another name`);
  }
  const flag = force ? 'w' : 'wx';
  writeFileSync(keyFile, formatKeyFile(pair), { mode: 0o600, flag });
  writeFileSync(pubFile, formatPublicKeyFile(pair.publicKey), { mode: 0o600, flag });
  // The mode given to writeFileSync is masked by umask and ignored for existing files.
  chmodSync(keyFile, 0o600);
  chmodSync(pubFile, 0o600);
  return { keyFile, pubFile };
}

function parseKeyLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** Load a keypair file written by `reflex keygen`; refuses one readable by group or others. */
export function loadKeyPair(file: string): KeyPair {
  let text: string;
  try {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0) {
      throw new ConfigError(TelemetryCodes.keyPerms, `${file} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(TelemetryCodes.keyFile, `cannot read key file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const fields = parseKeyLines(text);
  const publicKey = fields.get('public-key');
  const secretKey = fields.get('secret-key');
  if (!isCurveKey(publicKey) || !isCurveKey(secretKey)) {
    throw new ConfigError(TelemetryCodes.keyFile, `${file} has no valid "public-key = ..." and "secret-key = ..." lines; create one with \`reflex keygen\``);
  }
  return { publicKey, secretKey };
}

/** A public key given as a z85 string or as a path to a .pub/.key file. */
export function loadPublicKey(keyOrFile: string): string {
  if (isCurveKey(keyOrFile)) return keyOrFile;
  let text: string;
  try {
    text = readFileSync(keyOrFile, 'utf8');
  } catch (err) {
    throw new ConfigError(TelemetryCodes.keyFile, `"${keyOrFile}" is neither a 40-character z85 key nor a readable key file: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const key = parseKeyLines(text).get('public-key');
  if (!isCurveKey(key)) throw new ConfigError(TelemetryCodes.keyFile, `${keyOrFile} has no valid "public-key = ..." line`);
  return key;
}
