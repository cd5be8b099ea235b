/**
 * The facts `reflex doctor` gathers about this process and installation (tests inject their
 * own): who runs, which Node and architecture, and what TensorFlow.js could load.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import type { HostTree } from './tree.js';
import type { ProcessFacts, TfjsFacts } from './types.js';

/** This process, checking `user` (default: whoever runs it). Another user or an image: groups from <root>/etc/group only. */
export function processFacts(tree: HostTree, user?: string): ProcessFacts {
  const me = userInfo().username;
  const self = tree.live && (user === undefined || user === me);
  if (self) {
    return { user: me, uid: process.getuid!(), groups: process.getgroups!(), arch: process.arch, nodeVersion: process.versions.node };
  }
  const name = user ?? me;
  const line = (tree.read('/etc/passwd') ?? '').split('\n').find((l) => l.split(':')[0] === name);
  const uid = line === undefined ? -1 : Number(line.split(':')[2]);
  return { user: name, uid, arch: tree.live ? process.arch : (imageArch(tree) ?? process.arch), ...(tree.live && { nodeVersion: process.versions.node }) };
}

/** ELF e_machine values (elf.h) to Node's arch names. */
const MACHINES: Record<number, string> = { 0x3e: 'x64', 0xb7: 'arm64', 0x28: 'arm' };

/** An image's architecture, from the ELF header of its /bin/sh (e_machine, 2 bytes little-endian at offset 18). */
export function imageArch(tree: HostTree): string | undefined {
  const real = tree.resolve('/bin/sh');
  if (real === undefined) return undefined;
  const buf = Buffer.alloc(20);
  let fd: number | undefined;
  try {
    fd = openSync(tree.at(real), 'r');
    if (readSync(fd, buf, 0, 20, 0) < 20 || buf.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return MACHINES[buf.readUInt16LE(18)];
  } catch {
    // Unreadable reads as unknown: the caller falls back to this machine's architecture and says so.
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The backends this installation can load. tfjs-node is loaded in a child process: loading
 * its addon is the only reliable test, it pulls in libtensorflow (hundreds of MB) that the
 * doctor should not keep, and a broken addon may crash the process that loads it. On arm64
 * it is not tried (tensorflow/tfjs issue 6676). The wasm backend is checked by its files.
 */
export function probeTfjs(arch: string = process.arch, timeoutMs = 60_000): TfjsFacts {
  const require = createRequire(import.meta.url);
  const wasm = wasmInstalled(require);
  let nodePath: string;
  try {
    nodePath = require.resolve('@tensorflow/tfjs-node');
  } catch {
    // Optional dependency left out (npm ci --omit=optional): the usual case, reported as such.
    return { node: 'absent', wasm };
  }
  if (arch === 'arm64') return { node: 'skipped', wasm };
  const res = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(nodePath)})`], { encoding: 'utf8', timeout: timeoutMs });
  if (res.status === 0) return { node: 'loads', wasm };
  const why = res.error?.message ?? (res.stderr.split('\n').find((l) => /Error/.test(l)) ?? `exit ${res.status ?? res.signal}`).trim();
  return { node: { error: why.slice(0, 200) }, wasm };
}

/** @tensorflow/tfjs-backend-wasm resolves and its .wasm file ships beside it. */
function wasmInstalled(require: NodeJS.Require): boolean {
  try {
    return existsSync(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), 'tfjs-backend-wasm.wasm'));
  } catch {
    // Not resolvable is the fact reported: the wasm backend is not installed.
    return false;
  }
}
