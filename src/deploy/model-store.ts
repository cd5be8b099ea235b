/**
 * The board's model store (docs/deploy.md): one directory per model, named by its content hash
 * (model-hash.ts), plus `.staging/` where a deploy's files arrive. A model enters the store by
 * one rename of its complete, synced staging directory, so after a crash or power loss the store
 * holds whole models only; leftovers in `.staging/` are removed when the store is next opened.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ReflexError } from '../core/errors.js';
import { RuntimeCodes } from '../runtime/codes.js';
import { listModelFiles, modelHash, SHA256_HEX } from './model-hash.js';

const STAGING = '.staging';

function storeError(what: string, err: unknown): ReflexError {
  return new ReflexError(
    RuntimeCodes.deployStore,
    `model store: ${what} (${(err as Error).message}); check the directory's permissions and free space, or set deploy.store`,
    { cause: err },
  );
}

/** Flushes a directory's entries (a rename) to disk. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export type StoredCheck = { intact: true } | { intact: false; reason: string };

export class ModelStore {
  readonly root: string;
  #opened = false;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Creates the store (and its staging directory) if needed and removes staging leftovers. Idempotent. */
  async open(): Promise<void> {
    if (this.#opened) return;
    const staging = join(this.root, STAGING);
    try {
      await mkdir(staging, { recursive: true });
      for (const name of await readdir(staging)) await rm(join(staging, name), { recursive: true, force: true });
    } catch (err) {
      throw storeError(`cannot prepare ${staging}`, err);
    }
    this.#opened = true;
  }

  /** Where the model with this content hash lives (whether or not it is there). */
  pathOf(hash: string): string {
    if (!SHA256_HEX.test(hash)) throw new RangeError(`not a content hash: ${hash}`);
    return join(this.root, hash);
  }

  /** A fresh, empty staging directory for one deploy. */
  async stage(id: string): Promise<string> {
    await this.open();
    const dir = join(this.root, STAGING, id);
    try {
      await mkdir(dir);
    } catch (err) {
      throw storeError(`cannot create ${dir}`, err);
    }
    return dir;
  }

  /** Whether the store holds this model with exactly the content its hash names. */
  async check(hash: string): Promise<StoredCheck> {
    const dir = this.pathOf(hash);
    if (!existsSync(dir)) return { intact: false, reason: 'not stored' };
    try {
      const got = modelHash(await listModelFiles(dir));
      return got === hash ? { intact: true } : { intact: false, reason: `its files hash to ${got}` };
    } catch (err) {
      return { intact: false, reason: (err as Error).message };
    }
  }

  /**
   * Moves a complete staging directory into the store as `<hash>` with one rename. An intact
   * copy already there is reused (the staging directory is removed); a damaged one is replaced.
   */
  async publish(staging: string, hash: string): Promise<{ dir: string; reused: boolean }> {
    const dir = this.pathOf(hash);
    const existing = await this.check(hash);
    try {
      if (existing.intact) {
        await rm(staging, { recursive: true, force: true });
        return { dir, reused: true };
      }
      if (existsSync(dir)) {
        // A damaged copy (edited by hand, half-deleted): out of the way in one rename, then gone.
        const aside = join(this.root, STAGING, `damaged-${randomBytes(6).toString('hex')}`);
        await rename(dir, aside);
        await rm(aside, { recursive: true, force: true });
      }
      await rename(staging, dir);
      await syncDir(this.root);
    } catch (err) {
      throw storeError(`cannot move the model into ${dir}`, err);
    }
    return { dir, reused: false };
  }

  /** Removes a directory this store created (a refused model, an abandoned deploy). */
  async remove(dir: string): Promise<void> {
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (err) {
      throw storeError(`cannot remove ${dir}`, err);
    }
  }
}
