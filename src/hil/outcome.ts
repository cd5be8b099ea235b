/** What a step returns before the runner stamps it with its id, name and duration. */
import type { HilStatus } from './types.js';

export interface StepOutcome {
  status: HilStatus;
  reason: string;
  measured: Record<string, number>;
  limits: Record<string, number>;
}

export function skip(reason: string, limits: Record<string, number> = {}): StepOutcome {
  return { status: 'skip', reason, measured: {}, limits };
}

/** Pass when every problem is absent; the reason lists the problems, or `summary` on a pass. */
export function judged(problems: Array<string | false>, summary: string, measured: Record<string, number>, limits: Record<string, number>): StepOutcome {
  const p = problems.filter((x): x is string => typeof x === 'string');
  return p.length ? { status: 'fail', reason: p.join('; '), measured, limits } : { status: 'pass', reason: summary, measured, limits };
}
