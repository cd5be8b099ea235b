/** Building, checking and writing the HIL report (schema: docs/hil.md, "Report"). */
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { BoardDef, HilDef } from '../boards/types.js';
import { HIL_REPORT_SCHEMA, HIL_STEPS, type HilReport, type HilStepResult } from './types.js';

export function buildReport(board: BoardDef, limits: HilDef, simulated: boolean, startedAtMs: number, durationMs: number, steps: HilStepResult[]): HilReport {
  const count = (s: string): number => steps.filter((x) => x.status === s).length;
  const summary = { passed: count('pass'), failed: count('fail'), skipped: count('skip') };
  return {
    schema: HIL_REPORT_SCHEMA,
    board: { id: board.id, name: board.name, file: board.file ?? '', simulated },
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs,
    host: { hostname: hostname(), platform: process.platform, arch: process.arch, node: process.version },
    limits,
    steps,
    summary,
    ok: summary.failed === 0,
  };
}

/** Numbers in a report may be NaN (not measured): JSON has no NaN, so they are written as null. */
export function reportJson(r: HilReport): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

export function writeReport(file: string, r: HilReport): void {
  writeFileSync(file, reportJson(r));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): boolean => v === null || typeof v === 'number';

/**
 * Every way `raw` (a parsed report file) departs from the schema in docs/hil.md, one line
 * each naming the key; empty when it conforms. Also checks that summary and ok agree with
 * the steps, so a hand-edited report cannot claim a pass.
 */
export function validateReport(raw: unknown): string[] {
  const out: string[] = [];
  if (!isObj(raw)) return ['report: must be an object'];
  const need = (cond: boolean, key: string, what: string): void => {
    if (!cond) out.push(`${key}: ${what}`);
  };
  need(raw.schema === HIL_REPORT_SCHEMA, 'schema', `must be "${HIL_REPORT_SCHEMA}"`);
  const b = raw.board;
  need(
    isObj(b) && typeof b.id === 'string' && typeof b.name === 'string' && typeof b.file === 'string' && typeof b.simulated === 'boolean',
    'board',
    'must be {id, name, file: string, simulated: boolean}',
  );
  need(typeof raw.startedAt === 'string' && !Number.isNaN(Date.parse(raw.startedAt)), 'startedAt', 'must be an ISO 8601 time');
  need(typeof raw.durationMs === 'number' && raw.durationMs >= 0, 'durationMs', 'must be a number >= 0');
  const h = raw.host;
  need(isObj(h) && ['hostname', 'platform', 'arch', 'node'].every((k) => typeof h[k] === 'string'), 'host', 'must be {hostname, platform, arch, node: string}');
  need(isObj(raw.limits) && Object.values(raw.limits).every((v) => typeof v === 'number' || isObj(v)), 'limits', "must be the board's hil section");
  const steps = raw.steps;
  if (!Array.isArray(steps)) {
    out.push('steps: must be an array');
    return out;
  }
  const seen = new Set<unknown>();
  steps.forEach((s: unknown, i) => {
    const k = `steps[${i}]`;
    if (!isObj(s)) return out.push(`${k}: must be an object`);
    need(HIL_STEPS.includes(s.id as never), `${k}.id`, `must be one of ${HIL_STEPS.join(', ')}`);
    need(!seen.has(s.id), `${k}.id`, `"${String(s.id)}" appears twice`);
    seen.add(s.id);
    need(typeof s.name === 'string' && s.name !== '', `${k}.name`, 'must be a non-empty string');
    need(s.status === 'pass' || s.status === 'fail' || s.status === 'skip', `${k}.status`, 'must be pass, fail or skip');
    need(typeof s.reason === 'string' && (s.status === 'pass' || s.reason !== ''), `${k}.reason`, 'must be a string, non-empty for a fail or skip');
    need(typeof s.durationMs === 'number' && s.durationMs >= 0, `${k}.durationMs`, 'must be a number >= 0');
    for (const m of ['measured', 'limits'])
      need(isObj(s[m]) && Object.values(s[m]).every(isNum), `${k}.${m}`, 'must map names to numbers (null: not measured)');
    for (const key of Object.keys(s))
      need(['id', 'name', 'status', 'reason', 'durationMs', 'measured', 'limits'].includes(key), `${k}.${key}`, 'is not a known key');
    return undefined;
  });
  const sum = raw.summary;
  const count = (st: string): number => steps.filter((s: unknown) => isObj(s) && s.status === st).length;
  need(
    isObj(sum) && sum.passed === count('pass') && sum.failed === count('fail') && sum.skipped === count('skip'),
    'summary',
    'must count the steps by status',
  );
  need(raw.ok === (count('fail') === 0), 'ok', 'must be true exactly when no step failed');
  for (const key of Object.keys(raw)) {
    need(['schema', 'board', 'startedAt', 'durationMs', 'host', 'limits', 'steps', 'summary', 'ok'].includes(key), key, 'is not a known key');
  }
  return out;
}
