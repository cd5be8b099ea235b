/** The check table, in the order `reflex doctor` prints, and running it. */
import { backendCheck } from './check-backend.js';
import { governorCheck } from './check-governor.js';
import { gpioCheck } from './check-gpio.js';
import { groupsCheck } from './check-groups.js';
import { memlockCheck, rtprioCheck } from './check-limits.js';
import { memoryCheck, swapCheck } from './check-memory.js';
import { nodeCheck } from './check-node.js';
import { pwmCheck } from './check-pwm.js';
import { serialCheck } from './check-serial.js';
import { spiCheck } from './check-spi.js';
import type { CheckResult, DoctorCheck, DoctorContext } from './types.js';

export const checks: readonly DoctorCheck[] = [
  serialCheck,
  groupsCheck,
  gpioCheck,
  pwmCheck,
  spiCheck,
  governorCheck,
  rtprioCheck,
  memlockCheck,
  memoryCheck,
  swapCheck,
  nodeCheck,
  backendCheck,
];

export interface DoctorReport {
  results: CheckResult[];
  /** 0 when nothing failed (warnings allowed), 1 otherwise. */
  exitCode: 0 | 1;
}

export function runDoctor(ctx: DoctorContext, table: readonly DoctorCheck[] = checks): DoctorReport {
  const results = table.flatMap((c) => c.run(ctx));
  return { results, exitCode: results.some((r) => r.status === 'FAIL') ? 1 : 0 };
}

/**
 * One line per result: status, check id, what was found; each fix of a result that is not ok
 * on its own line below it, indented, starting with "fix:"; a summary line last.
 */
export function formatReport(report: DoctorReport, heading: string): string {
  const w = Math.max(...report.results.map((r) => r.id.length));
  const lines = [heading];
  for (const r of report.results) {
    lines.push(`${r.status.padEnd(4)}  ${r.id.padEnd(w)}  ${r.found}`);
    if (r.status !== 'ok') for (const f of r.fix) lines.push(`${' '.repeat(w + 8)}fix: ${f}`);
  }
  const count = (s: string): number => report.results.filter((r) => r.status === s).length;
  lines.push(`${count('ok')} ok, ${count('warn')} warn, ${count('FAIL')} FAIL`);
  return lines.join('\n') + '\n';
}
