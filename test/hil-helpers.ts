/** Shared by the hil tests: a sim board variant in a temp dir, and `reflex hil` run in-process. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { boardsDir } from '../src/boards/load.js';
import { main } from '../src/cli/commands/hil.js';
import { validateReport } from '../src/hil/report.js';
import type { HilReport } from '../src/hil/types.js';

export interface HilRun {
  code: number;
  report: HilReport;
  problems: string[];
  junit: string;
  stdout: string;
}

/**
 * The sim board with `hil` limits merged over its own and extra host-firmware flags, run
 * through the command's main with --yes and the given flags; returns exit code and report.
 */
export async function runSimHil(hil: Record<string, unknown>, firmwareArgs: string[], flags: string[]): Promise<HilRun> {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-hil-test-'));
  try {
    const raw = JSON.parse(readFileSync(join(boardsDir, 'sim.json'), 'utf8')) as { hil: Record<string, unknown>; source: Record<string, unknown> };
    raw.hil = { ...raw.hil, ...hil };
    raw.source.firmwareArgs = firmwareArgs;
    const boardFile = join(dir, 'sim-hil.json');
    writeFileSync(boardFile, JSON.stringify(raw));
    const out = new PassThrough();
    let stdout = '';
    out.on('data', (d: Buffer) => (stdout += d.toString()));
    const reportFile = join(dir, 'report.json');
    const junitFile = join(dir, 'report.xml');
    const code = await main(['--board', boardFile, '--yes', '--quiet', '--report', reportFile, '--junit', junitFile, ...flags], {
      stdout: out,
      stderr: new PassThrough(),
      signal: new AbortController().signal,
    });
    const parsed = JSON.parse(readFileSync(reportFile, 'utf8')) as unknown;
    return { code, report: parsed as HilReport, problems: validateReport(parsed), junit: readFileSync(junitFile, 'utf8'), stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every step but `keep`, as --skip flags. */
export function onlyStep(keep: string): string[] {
  return ['rate', 'loopback', 'firmware_watchdog', 'unplug', 'host_watchdog', 'estop_control', 'estop_gpio']
    .filter((s) => s !== keep)
    .flatMap((s) => ['--skip', `${s}:only ${keep} is tested here`]);
}
