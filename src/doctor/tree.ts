import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';

/** Ownership and permissions of a file on the host, after following symbolic links. */
export interface FileInfo {
  /** Permission bits (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  kind: 'file' | 'dir' | 'char' | 'other';
}

/**
 * The host's files seen from a root directory: every path a check names is a host path
 * ("/dev/ttyACM0") and is read under the root. Checks never touch `node:fs` themselves.
 */
export interface HostTree {
  /** Absolute root directory ("/" for the live system). */
  readonly root: string;
  /** The live system (root "/"): what this process holds (groups, limits) describes the host. */
  readonly live: boolean;
  /** Where host path `p` is on this machine. */
  at(p: string): string;
  /** File text, or undefined when absent or unreadable. */
  read(p: string): string | undefined;
  /** Names in directory `p`, sorted; empty when absent. */
  list(p: string): string[];
  exists(p: string): boolean;
  /** The host path `p` leads to after symbolic links (resolved inside the root), or undefined when it leads nowhere. */
  resolve(p: string): string | undefined;
  stat(p: string): FileInfo | undefined;
}

/** Symbolic links followed before giving up, as the kernel's own limit of 40. */
const MAX_LINKS = 40;

export class RootedTree implements HostTree {
  readonly root: string;
  readonly live: boolean;

  constructor(root = '/') {
    this.root = resolve(root);
    this.live = this.root === '/';
  }

  at(p: string): string {
    return join(this.root, p);
  }

  read(p: string): string | undefined {
    try {
      return readFileSync(this.at(p), 'utf8');
    } catch {
      // Absent or unreadable reads the same to every check: "not found", which each one reports.
      return undefined;
    }
  }

  list(p: string): string[] {
    try {
      return readdirSync(this.at(p)).sort();
    } catch {
      return [];
    }
  }

  exists(p: string): boolean {
    return existsSync(this.at(p));
  }

  /**
   * Follows links one at a time so an absolute target ("/dev/ttyACM0" in an image's by-id
   * link) stays inside the root instead of pointing at this machine's /dev.
   */
  resolve(p: string): string | undefined {
    let cur = posix.resolve('/', p);
    for (let i = 0; i < MAX_LINKS; i++) {
      let isLink: boolean;
      try {
        isLink = lstatSync(this.at(cur)).isSymbolicLink();
      } catch {
        return undefined;
      }
      if (!isLink) return cur;
      const target = readlinkSync(this.at(cur));
      cur = posix.resolve(posix.dirname(cur), target);
    }
    return undefined;
  }

  stat(p: string): FileInfo | undefined {
    const real = this.resolve(p);
    if (real === undefined) return undefined;
    try {
      const st = statSync(this.at(real));
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isCharacterDevice() ? 'char' : 'other';
      return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, kind };
    } catch {
      return undefined;
    }
  }
}
