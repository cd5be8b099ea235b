/** The Node.js version: 20, 22, 24 and 26 are supported; 20 reached its end of life on 2026-04-30. */
import { fail, ok, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

export const SUPPORTED_NODE = [20, 22, 24, 26] as const;
const END_OF_LIFE = new Set([20]);
const FIX = ['install Node.js 24 (LTS) for this architecture: https://nodejs.org/en/download, then reinstall Reflex (npm ci)'];

function run(ctx: DoctorContext): CheckResult[] {
  const v = ctx.facts.nodeVersion;
  if (v === undefined) return [warn('node', 'not checked: the Node.js that runs on the inspected image is not this one')];
  const major = Number(v.split('.')[0]);
  if (major < 20) return [fail('node', `Node.js ${v}: Reflex needs 20 or later (${SUPPORTED_NODE.join(', ')} are supported)`, FIX)];
  if (END_OF_LIFE.has(major)) return [warn('node', `Node.js ${v}: supported, but Node 20 is past its end of life (2026-04-30)`, FIX)];
  if (!(SUPPORTED_NODE as readonly number[]).includes(major)) {
    return [warn('node', `Node.js ${v}: not a supported line (${SUPPORTED_NODE.join(', ')}); odd-numbered releases are short-lived`, FIX)];
  }
  return [ok('node', `Node.js ${v}`)];
}

export const nodeCheck: DoctorCheck = { id: 'node', title: `the Node.js version (${SUPPORTED_NODE.join(', ')} supported; 20 is end of life)`, run };
