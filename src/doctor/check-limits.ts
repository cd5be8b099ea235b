/**
 * Real-time priority allowed (RLIMIT_RTPRIO, or CAP_SYS_NICE, or root) and the memory lock
 * limit (RLIMIT_MEMLOCK), from <root>/proc/self/limits and /proc/self/status: the limits of
 * this login session, which a program started from it inherits. A service gets its own from
 * its unit (LimitRTPRIO, AmbientCapabilities, LimitMEMLOCK: docs/realtime.md).
 */
import { isSimulated } from './needs.js';
import type { HostTree } from './tree.js';
import { fail, ok, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

/** The SCHED_FIFO priority docs/realtime.md recommends for the loop thread (`loop.priority.fifo`). */
export const LOOP_FIFO_PRIORITY = 50;
/** CAP_SYS_NICE's bit in CapEff (linux/capability.h). */
const CAP_SYS_NICE = 23n;

export interface Limit {
  soft: number;
  hard: number;
}

/** Parse /proc/<pid>/limits into limit name -> soft/hard ("unlimited" is Infinity). */
export function parseLimits(text: string): Map<string, Limit> {
  const out = new Map<string, Limit>();
  const num = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m) out.set(m[1]!, { soft: num(m[2]!), hard: num(m[3]!) });
  }
  return out;
}

/** Whether /proc/<pid>/status's CapEff holds CAP_SYS_NICE; undefined when it cannot be read. */
export function hasSysNice(status: string | undefined): boolean | undefined {
  const m = status === undefined ? null : /^CapEff:\s*([0-9a-f]+)/m.exec(status);
  return m ? ((BigInt(`0x${m[1]}`) >> CAP_SYS_NICE) & 1n) === 1n : undefined;
}

function limits(tree: HostTree): Map<string, Limit> | undefined {
  const text = tree.read('/proc/self/limits');
  return text === undefined ? undefined : parseLimits(text);
}

const unreadable = (tree: HostTree): string =>
  `${tree.at('/proc/self/limits')} is not readable${tree.live ? '' : ' (an image has no /proc: the service unit sets the limits)'}`;

function rtprio(ctx: DoctorContext): CheckResult {
  const { tree, facts } = ctx;
  const sim = isSimulated(ctx.board);
  const chrt = ['/usr/bin/chrt', '/bin/chrt'].some((p) => tree.exists(p));
  const chrtFix = ['sudo apt-get install util-linux  # provides chrt, which sets the loop thread to SCHED_FIFO'];
  const l = limits(tree)?.get('Max realtime priority');
  const nice = hasSysNice(tree.read('/proc/self/status'));
  let allowed: string | undefined;
  if (facts.uid === 0) allowed = 'running as root';
  else if (nice === true) allowed = 'CAP_SYS_NICE held';
  else if (l && l.soft >= LOOP_FIFO_PRIORITY) allowed = `RLIMIT_RTPRIO ${l.soft === Infinity ? 'unlimited' : l.soft}`;
  if (allowed !== undefined) {
    if (!chrt) return (sim ? warn : fail)('rtprio', `${allowed}, but chrt is not installed`, chrtFix);
    return ok('rtprio', `SCHED_FIFO ${LOOP_FIFO_PRIORITY} allowed: ${allowed}`);
  }
  if (!l) return warn('rtprio', unreadable(tree));
  const hard = l.hard === Infinity ? 'unlimited' : l.hard;
  const found = `RLIMIT_RTPRIO ${l.soft} (hard ${hard}), no CAP_SYS_NICE: the loop cannot get SCHED_FIFO ${LOOP_FIFO_PRIORITY}`;
  const fix = [
    `echo '${facts.user} - rtprio 95' | sudo tee /etc/security/limits.d/90-reflex.conf  # then log out and back in`,
    'as a service: LimitRTPRIO=95 and AmbientCapabilities=CAP_SYS_NICE in its unit (reflex install writes them; docs/realtime.md)',
  ];
  // Without it the loop still runs, at normal priority: fine for the simulated board.
  return sim ? warn('rtprio', found, fix) : fail('rtprio', found, fix);
}

function memlock(ctx: DoctorContext): CheckResult {
  const l = limits(ctx.tree)?.get('Max locked memory');
  if (!l) return warn('memlock', unreadable(ctx.tree));
  if (l.soft === Infinity) return ok('memlock', 'RLIMIT_MEMLOCK unlimited');
  const found = `RLIMIT_MEMLOCK ${Math.round(l.soft / 1024)} KiB`;
  // Reflex does not lock memory today (Node cannot lock its heap): only `platform-floor --mlock` needs it.
  if (isSimulated(ctx.board)) return ok('memlock', `${found}: enough, Reflex locks no memory (docs/realtime.md)`);
  return warn('memlock', `${found}: Reflex locks no memory today, but the service runs with LimitMEMLOCK=infinity (docs/realtime.md)`, [
    `echo '${ctx.facts.user} - memlock unlimited' | sudo tee -a /etc/security/limits.d/90-reflex.conf  # then log out and back in`,
  ]);
}

export const rtprioCheck: DoctorCheck = {
  id: 'rtprio',
  title: `real-time priority (SCHED_FIFO ${LOOP_FIFO_PRIORITY}) allowed: RLIMIT_RTPRIO, CAP_SYS_NICE or root`,
  run: (ctx) => [rtprio(ctx)],
};
export const memlockCheck: DoctorCheck = { id: 'memlock', title: 'the memory lock limit (RLIMIT_MEMLOCK)', run: (ctx) => [memlock(ctx)] };
