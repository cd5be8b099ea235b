/** Argument fix-ups every command gets before its own parseArgs (kept free of heavy imports: every command loads it). */
import { isCurveKey } from '../telemetry/z85.js';

/**
 * `--server-key KEY` with a z85 key that starts with "-" (z85 uses "-"): node's parseArgs takes
 * such a value for a flag and refuses it, so the pair is joined as `--server-key=KEY`, which
 * every command reads the same way. Anything else passes unchanged.
 */
export function joinKeyValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--server-key' && v !== undefined && v.startsWith('-') && isCurveKey(v)) {
      out.push(`${a}=${v}`);
      i++;
    } else out.push(a);
  }
  return out;
}
