/**
 * `reflex install`: Reflex as a systemd service (docs/install.md). Planned first, as files to
 * write and commands to run, so that `--dry-run` prints exactly what a real install does and
 * `--root DIR` (tests, image builds) writes the files under DIR and records the commands instead
 * of running them. Nothing here runs a command unless `apply` is given a runner.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { loadBoard } from '../boards/load.js';
import type { BoardDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import { neededGroups } from '../doctor/needs.js';
import { validateConfig } from '../runtime/config.js';
import { renderUnit, UNIT_NAME } from './unit.js';

export interface InstallOptions {
  /** Board id (boards/) or board file. */
  board: string;
  /** Run configuration to install (its board is replaced by the installed board file); default: one written here. */
  config?: string;
  user: string;
  /** Where Reflex lives on the target; copied there from packageRoot when they differ. */
  prefix: string;
  /** Target filesystem root ("/" for a real install). */
  root: string;
  /** The Reflex tree this command runs from. */
  packageRoot: string;
  watchdogSec: number;
  cpuAffinity?: string;
}

export interface PlannedFile {
  /** Path on the target (without the root). */
  path: string;
  mode: number;
  content: string;
}

export interface InstallPlan {
  board: BoardDef;
  groups: Array<{ group: string; why: string }>;
  /** Package entries copied to the prefix (empty when Reflex already lives there). */
  copy: string[];
  dirs: Array<{ path: string; mode: number }>;
  files: PlannedFile[];
  /** argv of each system command, in order. */
  commands: string[][];
  notes: string[];
}

export const CONFIG_DIR = '/etc/reflex';
/** FIFO priority written into a generated run.json: under the kernel's IRQ threads (50) on PREEMPT_RT (docs/realtime.md). */
export const DEFAULT_FIFO = 45;
/** What a Reflex tree needs at run time (package.json "files" plus node_modules and the simulated board's firmware). */
const PACKAGE_ENTRIES = [
  'package.json',
  'bin',
  'dist',
  'boards',
  'models',
  'docs',
  'node_modules',
  'firmware-bridge/README.md',
  'firmware-bridge/build/reflex-bridge-host',
];

/** Names of groups (or users) in an /etc/group or /etc/passwd style file under root; empty when absent. */
function namesIn(root: string, file: string): Map<string, string[]> {
  const p = join(root, file);
  const out = new Map<string, string[]>();
  if (!existsSync(p)) return out;
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0]) out.set(f[0], f);
  }
  return out;
}

function runConfigJson(o: InstallOptions): string {
  if (o.config === undefined) {
    return JSON.stringify({ board: 'board.json', loop: { rateHz: 100, priority: { fifo: DEFAULT_FIFO } } }, null, 2) + '\n';
  }
  const file = resolve(o.config);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('E_CONFIG', `--config ${file}: ${(err as Error).message}`);
  }
  validateConfig(raw, file);
  const base = dirname(file);
  const abs = (p: unknown): unknown => (typeof p === 'string' && !isAbsolute(p) ? resolve(base, p) : p);
  // Paths in a run configuration are relative to its file: they must still point at the same places from /etc/reflex.
  const out: Record<string, unknown> = { ...raw, board: 'board.json' };
  if (raw.model !== undefined) out.model = abs(raw.model);
  const tel = raw.telemetry as Record<string, unknown> | undefined;
  if (tel?.keysDir !== undefined) out.telemetry = { ...tel, keysDir: abs(tel.keysDir) };
  return JSON.stringify(out, null, 2) + '\n';
}

export function planInstall(o: InstallOptions): InstallPlan {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(o.user)) throw new ConfigError('E_USAGE', `--user must be a system user name (a-z, 0-9, _ and -), got "${o.user}"`);
  if (!isAbsolute(o.prefix)) throw new ConfigError('E_USAGE', `--prefix must be an absolute path, got "${o.prefix}"`);
  if (o.prefix === '/home' || o.prefix.startsWith('/home/') || o.prefix.startsWith('/root')) {
    throw new ConfigError('E_USAGE', `--prefix ${o.prefix}: the service cannot read home directories (ProtectHome=yes); use /opt/reflex`);
  }
  const board = loadBoard(o.board);
  const boardFile = board.file!;
  const groups = neededGroups(board);
  const existingGroups = namesIn(o.root, 'etc/group');
  const existingUsers = namesIn(o.root, 'etc/passwd');
  const notes: string[] = [];
  const commands: string[][] = [];
  for (const g of groups) {
    if (!existingGroups.has(g.group)) {
      commands.push(['groupadd', '--system', g.group]);
      notes.push(`group ${g.group} did not exist: created, but nothing gives it the ${g.why} until a udev rule does (reflex doctor checks)`);
    }
  }
  const groupList = groups.map((g) => g.group).join(',');
  const home = `/var/lib/${o.user}`;
  if (existingUsers.has(o.user)) {
    // A dedicated user: its supplementary groups are set to exactly what the board needs.
    commands.push(['usermod', '--groups', groupList, o.user]);
  } else {
    commands.push([
      'useradd',
      '--system',
      '--user-group',
      '--home-dir',
      home,
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      ...(groupList ? ['--groups', groupList] : []),
      o.user,
    ]);
  }
  const copy = resolve(o.prefix) === resolve(o.packageRoot) ? [] : PACKAGE_ENTRIES.filter((e) => existsSync(join(o.packageRoot, e)));
  const files: PlannedFile[] = [
    { path: `${CONFIG_DIR}/run.json`, mode: 0o640, content: runConfigJson(o) },
    { path: `${CONFIG_DIR}/board.json`, mode: 0o640, content: readFileSync(boardFile, 'utf8') },
  ];
  const schema = join(dirname(boardFile), 'board.schema.json');
  const ownSchema = join(o.packageRoot, 'boards', 'board.schema.json');
  const schemaFile = existsSync(schema) ? schema : ownSchema;
  if (existsSync(schemaFile)) files.push({ path: `${CONFIG_DIR}/board.schema.json`, mode: 0o644, content: readFileSync(schemaFile, 'utf8') });
  const unitPath = `/etc/systemd/system/${UNIT_NAME}`;
  const unitExisted = existsSync(join(o.root, unitPath));
  files.push({
    path: unitPath,
    mode: 0o644,
    content: renderUnit({
      prefix: o.prefix,
      configDir: CONFIG_DIR,
      user: o.user,
      board: board.id,
      watchdogSec: o.watchdogSec,
      ...(o.cpuAffinity !== undefined && { cpuAffinity: o.cpuAffinity }),
    }),
  });
  // The configuration is readable by the service's group only: it may name key directories and endpoints.
  commands.push(['chown', '-R', `root:${o.user}`, CONFIG_DIR]);
  commands.push(['systemctl', 'daemon-reload']);
  commands.push(['systemctl', 'enable', '--now', UNIT_NAME]);
  // enable --now leaves a running service alone: a reinstall must restart it to take the new files.
  if (unitExisted) commands.push(['systemctl', 'try-restart', UNIT_NAME]);
  if (board.source.kind === 'bridge' && board.source.transport === 'serial' && board.source.path.includes('REPLACE')) {
    notes.push(`the board's source.path is a placeholder (${board.source.path}): edit ${CONFIG_DIR}/board.json, then systemctl restart reflex`);
  }
  return { board, groups, copy, dirs: [{ path: CONFIG_DIR, mode: 0o750 }], files, commands, notes };
}

/** The plan as shell lines (what --dry-run prints, and what --root records). */
export function shellLine(argv: readonly string[]): string {
  return argv.map(q).join(' ');
}

function q(s: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

export function describePlan(p: InstallPlan, o: Pick<InstallOptions, 'prefix' | 'packageRoot'>): string[] {
  const lines: string[] = [];
  if (p.copy.length > 0) lines.push(`mkdir -p ${q(o.prefix)}`, ...p.copy.map((e) => `cp -a ${q(join(o.packageRoot, e))} ${q(join(o.prefix, e))}`));
  for (const d of p.dirs) lines.push(`install -d -m ${d.mode.toString(8)} ${q(d.path)}`);
  for (const f of p.files) lines.push(`write ${q(f.path)} (mode ${f.mode.toString(8)}, ${Buffer.byteLength(f.content)} bytes)`);
  return [...lines, ...p.commands.map(shellLine)];
}

export type CommandRunner = (argv: string[]) => { ok: boolean; output: string };

/** Runs a system command (real installs only). */
export const runCommand: CommandRunner = (argv) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, output: (r.error?.message ?? `${r.stdout}${r.stderr}`).trim() };
};

/**
 * Carries the plan out under `root`: copies, directories and files written with their modes;
 * each command passed to `run` (a real install) or appended to `recorded` (a --root install).
 * Stops at the first failed command and throws its output.
 */
export function applyInstall(
  p: InstallPlan,
  o: Pick<InstallOptions, 'prefix' | 'packageRoot' | 'root'>,
  run: CommandRunner | null,
  recorded: string[][] = [],
): void {
  const at = (path: string): string => join(o.root, path);
  if (p.copy.length > 0) {
    mkdirSync(at(o.prefix), { recursive: true });
    for (const e of p.copy) cpSync(join(o.packageRoot, e), at(join(o.prefix, e)), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  }
  // With nothing to copy the prefix is this tree itself, on this machine (a --root install included).
  if (!existsSync(p.copy.length > 0 ? at(join(o.prefix, 'bin', 'reflex')) : join(o.packageRoot, 'bin', 'reflex'))) {
    throw new ConfigError('E_USAGE', `${join(o.prefix, 'bin', 'reflex')} does not exist: --prefix must be where Reflex is, or where to copy it`);
  }
  for (const d of p.dirs) {
    mkdirSync(at(d.path), { recursive: true, mode: d.mode });
    chmodSync(at(d.path), d.mode);
  }
  for (const f of p.files) {
    mkdirSync(dirname(at(f.path)), { recursive: true });
    writeFileSync(at(f.path), f.content, { mode: f.mode });
    // writeFileSync's mode applies to new files only, and through the umask.
    chmodSync(at(f.path), f.mode);
  }
  for (const argv of p.commands) {
    if (!run) {
      recorded.push(argv);
      continue;
    }
    const r = run(argv);
    if (!r.ok) throw new Error(`${argv.join(' ')} failed${r.output ? `: ${r.output}` : ''}`);
  }
}
