/** Shared helpers for benchmarks: percentiles, machine description, flag parsing. */
import os from 'node:os';
import { allocatorSetting } from '../src/core/allocator.js';

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

export function median(values: ArrayLike<number>): number {
  return percentile(sortedCopy(values), 50);
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    allocator: allocatorSetting(),
  };
}

export function benchArgs(argv: string[], defaults: { duration: number }): { duration: number; values: Record<string, string | boolean | undefined> } {
  // Each bench reads its own flags: take `--name value` and `--name=value` as strings and a lone
  // `--name` as true (parseArgs with strict: false would read `--rate 200` as rate: true).
  const values: Record<string, string | boolean | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) values[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) values[a.slice(2)] = argv[++i];
    else values[a.slice(2)] = true;
  }
  const duration = values.duration === undefined ? defaults.duration : Number(values.duration);
  if (!Number.isFinite(duration) || duration <= 0) throw new Error(`--duration must be a positive number of seconds`);
  return { duration, values };
}

export function log(msg: string): void {
  process.stderr.write(msg + '\n');
}
