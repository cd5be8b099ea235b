/**
 * Users and groups as the host defines them (<root>/etc/passwd, <root>/etc/group) and what a
 * user may do with a file given its owner, group and mode.
 */
import type { DoctorContext } from './types.js';
import type { FileInfo, HostTree } from './tree.js';

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface Accounts {
  groups: GroupEntry[];
  /** Primary gid of each user in passwd. */
  primary: Map<string, number>;
}

export function readAccounts(tree: HostTree): Accounts {
  const groups: GroupEntry[] = [];
  for (const line of (tree.read('/etc/group') ?? '').split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (!name || gid === undefined || !/^\d+$/.test(gid)) continue;
    groups.push({ name, gid: Number(gid), members: (members ?? '').split(',').filter((m) => m !== '') });
  }
  const primary = new Map<string, number>();
  for (const line of (tree.read('/etc/passwd') ?? '').split('\n')) {
    const [name, , , gid] = line.split(':');
    if (name && gid !== undefined && /^\d+$/.test(gid)) primary.set(name, Number(gid));
  }
  return { groups, primary };
}

/** Who is asking: a uid and the gids it holds, and where those gids came from (for messages). */
export interface Principal {
  user: string;
  uid: number;
  gids: ReadonlySet<number>;
  /** "this login session" (the process's own groups) or "/etc/group" (checking an image or another user). */
  source: string;
}

export function principal(ctx: DoctorContext, acc: Accounts): Principal {
  const { facts } = ctx;
  if (facts.groups !== undefined) return { user: facts.user, uid: facts.uid, gids: new Set(facts.groups), source: 'this login session' };
  const gids = new Set(acc.groups.filter((g) => g.members.includes(facts.user)).map((g) => g.gid));
  const own = acc.primary.get(facts.user);
  if (own !== undefined) gids.add(own);
  return { user: facts.user, uid: facts.uid, gids, source: '/etc/group' };
}

export function groupName(acc: Accounts, gid: number): string {
  return acc.groups.find((g) => g.gid === gid)?.name ?? String(gid);
}

export interface Access {
  ok: boolean;
  /** "owner", "group dialout", "others" or "root": which permission bits applied. */
  via: string;
}

/** Read and write access to `st` for `who`, as the kernel decides it (owner bits, else group, else others). */
export function readWrite(st: FileInfo, who: Principal, acc: Accounts): Access {
  if (who.uid === 0) return { ok: true, via: 'root' };
  if (st.uid === who.uid) return { ok: (st.mode & 0o600) === 0o600, via: 'owner' };
  if (who.gids.has(st.gid)) return { ok: (st.mode & 0o060) === 0o060, via: `group ${groupName(acc, st.gid)}` };
  return { ok: (st.mode & 0o006) === 0o006, via: 'others' };
}

/** Write access only (sysfs export files). */
export function writable(st: FileInfo, who: Principal, acc: Accounts): Access {
  if (who.uid === 0) return { ok: true, via: 'root' };
  if (st.uid === who.uid) return { ok: (st.mode & 0o200) !== 0, via: 'owner' };
  if (who.gids.has(st.gid)) return { ok: (st.mode & 0o020) !== 0, via: `group ${groupName(acc, st.gid)}` };
  return { ok: (st.mode & 0o002) !== 0, via: 'others' };
}

/** "root:dialout 0660", as `ls -l` would show the owner, group and mode. */
export function describeOwner(st: FileInfo, acc: Accounts): string {
  return `${st.uid === 0 ? 'root' : `uid ${st.uid}`}:${groupName(acc, st.gid)} ${st.mode.toString(8).padStart(4, '0')}`;
}

/**
 * The fix for a file `who` cannot read/write: join the file's group when it is one a user
 * joins (not root's), else a udev rule giving it to `group`.
 */
export function accessFix(path: string, st: FileInfo, who: Principal, acc: Accounts, group: string): string[] {
  const owning = groupName(acc, st.gid);
  if (st.gid !== 0 && !who.gids.has(st.gid)) return [`sudo usermod -aG ${owning} ${who.user}`, 'log out and back in (group changes apply to new logins)'];
  return [`ls -l ${path}  # it should be group ${group}, mode 0660: a udev rule sets that (docs/doctor.md, "Device permissions")`];
}
