import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Scheduling priority for the calling thread (Linux). On a loaded 2-core board a loop
 * thread at normal priority waits behind everything else for its slice; SCHED_FIFO (via
 * util-linux `chrt`) or a negative nice value lets it run when its deadline comes.
 * Both need root or CAP_SYS_NICE. Failures are reported, not thrown: the loop still runs.
 */
export interface ThreadPriority {
  /** SCHED_FIFO priority 1..99 (e.g. 50). */
  fifo?: number;
  /** Nice value -20..19 (SCHED_OTHER). */
  nice?: number;
}

export interface PriorityReport {
  tid: number;
  applied: string[];
  failed: string[];
}

export function currentTid(): number {
  // "/proc/thread-self" links to "<pid>/task/<tid>" for the calling thread.
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}

export function applyThreadPriority(p: ThreadPriority): PriorityReport {
  const r: PriorityReport = { tid: -1, applied: [], failed: [] };
  try {
    r.tid = currentTid();
  } catch (err) {
    r.failed.push(`cannot find this thread's id (/proc/thread-self): ${(err as Error).message}`);
    return r;
  }
  if (p.nice !== undefined) {
    try {
      setPriority(r.tid, p.nice);
      r.applied.push(`nice ${p.nice}`);
    } catch (err) {
      r.failed.push(`nice ${p.nice}: ${(err as Error).message} (needs root or CAP_SYS_NICE)`);
    }
  }
  if (p.fifo !== undefined) {
    if (!Number.isInteger(p.fifo) || p.fifo < 1 || p.fifo > 99) {
      r.failed.push(`fifo priority must be 1..99, got ${p.fifo}`);
    } else {
      const res = spawnSync('chrt', ['-f', '-p', String(p.fifo), String(r.tid)], { encoding: 'utf8' });
      if (res.status === 0) r.applied.push(`SCHED_FIFO ${p.fifo}`);
      else
        r.failed.push(
          `SCHED_FIFO ${p.fifo}: ${res.error ? res.error.message : (res.stderr || `chrt exited ${res.status}`).trim()} ` +
            '(needs util-linux chrt and root or CAP_SYS_NICE)',
        );
    }
  }
  return r;
}
