/**
 * One model deploy as it arrives (docs/deploy.md): the declared files, each written in order
 * into the deploy's staging directory and hashed as it comes. A chunk is accepted or refused
 * synchronously (its bytes are reserved before the write is queued), so pipelined or repeated
 * chunks can never interleave; writes run one at a time behind the replies, and `finish()`
 * waits for them.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ReflexError } from '../core/errors.js';
import type { DeployFile } from '../deploy/model-hash.js';
import { RuntimeCodes } from './codes.js';

interface Incoming extends DeployFile {
  received: number;
  hasher: Hash;
  fh: FileHandle;
}

export class DeploySession {
  readonly id: string;
  readonly hash: string;
  readonly dir: string;
  readonly totalBytes: number;
  #received = 0;
  readonly #files = new Map<string, Incoming>();
  /** Writes run one after another; the first failure is kept and fails the deploy. */
  #writes: Promise<void> = Promise.resolve();
  #writeError: Error | null = null;
  #closed = false;

  private constructor(id: string, hash: string, dir: string, totalBytes: number) {
    this.id = id;
    this.hash = hash;
    this.dir = dir;
    this.totalBytes = totalBytes;
  }

  /** Opens one empty file per declared file in `dir` (the deploy's staging directory). */
  static async create(id: string, hash: string, dir: string, files: readonly DeployFile[]): Promise<DeploySession> {
    const s = new DeploySession(
      id,
      hash,
      dir,
      files.reduce((a, f) => a + f.size, 0),
    );
    try {
      for (const f of files) {
        const fh = await open(join(dir, f.name), 'wx', 0o644);
        s.#files.set(f.name, { ...f, received: 0, hasher: createHash('sha256'), fh });
      }
    } catch (err) {
      await s.close();
      throw new ReflexError(RuntimeCodes.deployStore, `cannot create the deploy's files in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    return s;
  }

  get received(): number {
    return this.#received;
  }

  /**
   * Accepts `bytes` at `offset` of `name`, or throws: E_DEPLOY_OFFSET when the offset is not
   * the next byte expected (nothing changes; resend from there), E_DEPLOY_SIZE past the file's
   * declared size and E_DEPLOY_HASH when the completed file's sha256 differs (both fatal to the
   * deploy: the caller discards it).
   */
  chunk(name: string, offset: number, bytes: Uint8Array): { received: number; total: number } {
    const f = this.#files.get(name);
    if (!f)
      throw new ReflexError(RuntimeCodes.deployUnknown, `file "${name}" was not declared at deploy.begin (declared: ${[...this.#files.keys()].join(', ')})`);
    if (offset !== f.received)
      throw new ReflexError(RuntimeCodes.deployOffset, `${name}: chunk at byte ${offset}, expected byte ${f.received}; resend from byte ${f.received}`);
    if (offset + bytes.length > f.size)
      throw new ReflexError(RuntimeCodes.deploySize, `${name}: chunk ends at byte ${offset + bytes.length}, past the ${f.size} bytes declared at deploy.begin`);
    f.received += bytes.length;
    this.#received += bytes.length;
    f.hasher.update(bytes);
    this.#queue(f.fh, bytes, offset);
    if (f.received === f.size) this.#complete(f);
    return { received: f.received, total: this.#received };
  }

  #complete(f: Incoming): void {
    const got = f.hasher.digest('hex');
    if (got !== f.sha256)
      throw new ReflexError(RuntimeCodes.deployHash, `${f.name}: the bytes received hash to ${got}, not ${f.sha256} as declared; the transfer is corrupt`);
    // Synced before the store renames the directory in: a power cut leaves no short file in a stored model.
    const fh = f.fh;
    this.#writes = this.#writes.then(() => (this.#writeError ? undefined : fh.sync()));
  }

  #queue(fh: FileHandle, bytes: Uint8Array, offset: number): void {
    this.#writes = this.#writes.then(async () => {
      if (this.#writeError) return;
      try {
        await fh.write(bytes, 0, bytes.length, offset);
      } catch (err) {
        this.#writeError = err as Error;
      }
    });
  }

  /**
   * Waits for every write, then checks every file arrived whole (E_DEPLOY_INCOMPLETE) and closes
   * them. Zero-length files are complete from the start; their hash is checked here.
   */
  async finish(): Promise<void> {
    await this.#writes;
    if (this.#writeError)
      throw new ReflexError(RuntimeCodes.deployStore, `writing the deploy's files in ${this.dir} failed: ${this.#writeError.message}`, {
        cause: this.#writeError,
      });
    const missing = [...this.#files.values()].filter((f) => f.received < f.size);
    if (missing.length > 0) {
      throw new ReflexError(
        RuntimeCodes.deployIncomplete,
        `not every file arrived: ${missing.map((f) => `${f.name} (${f.size - f.received} of ${f.size} bytes missing)`).join(', ')}; send the rest, then commit`,
      );
    }
    for (const f of this.#files.values()) if (f.size === 0) this.#complete(f);
    await this.#writes;
    await this.close();
  }

  /** Closes the files (idempotent); the caller removes the directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writes;
    for (const f of this.#files.values()) await f.fh.close();
  }
}
