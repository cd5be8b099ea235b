/**
 * A model directory's content hash, the name it is stored under on the board: sha256 over the
 * `sha256sum`-style manifest of its files in byte order of their names, one line
 * `<sha256 hex><two spaces><name>\n` per file. Anyone can recompute it without Reflex:
 *   cd MODEL_DIR && LC_ALL=C sha256sum $(LC_ALL=C ls) | sha256sum
 * Only flat directories of plainly named regular files are deployable: names are the one thing
 * a remote peer chooses that becomes a path on the board.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { ModelCodes } from '../predict/errors.js';

/** A deployable file name: no path separators, no leading dot, at most 128 characters. */
export const DEPLOY_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A sha256 in lowercase hex. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface DeployFile {
  name: string;
  size: number;
  /** sha256 of the file's bytes, lowercase hex. */
  sha256: string;
}

/** Byte order of the UTF-8 names (the names are ASCII, so code-unit order is byte order). */
export function canonicalOrder<T extends { name: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The model's content hash from its files' hashes (order given does not matter). */
export function modelHash(files: readonly Pick<DeployFile, 'name' | 'sha256'>[]): string {
  const h = createHash('sha256');
  for (const f of canonicalOrder(files)) h.update(`${f.sha256}  ${f.name}\n`);
  return h.digest('hex');
}

/** sha256 of one file, streamed (a weights file may be tens of MB). */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    const s = createReadStream(path);
    s.on('data', (b) => h.update(b));
    s.once('error', reject);
    s.once('end', () => resolve(h.digest('hex')));
  });
}

/**
 * The files of a model directory with sizes and hashes, in canonical order. Throws a
 * ConfigError naming the entry when the directory holds anything deploy cannot carry
 * (a subdirectory, a link, a name with other characters).
 */
export async function listModelFiles(dir: string): Promise<DeployFile[]> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new ConfigError(ModelCodes.missing, `model directory ${dir} cannot be read (${(err as Error).message}): pass the directory with model.json`, {
      cause: err,
    });
  }
  const files: DeployFile[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (!st.isFile())
      throw new ConfigError(ModelCodes.format, `${path} is not a regular file: a deployed model directory holds files only (no subdirectories or links)`);
    if (!DEPLOY_FILE_NAME.test(name))
      throw new ConfigError(ModelCodes.format, `${path}: file names may use letters, digits, "_", "." and "-" (not first), at most 128 characters`);
    files.push({ name, size: st.size, sha256: await hashFile(path) });
  }
  return canonicalOrder(files);
}
