import { parseArgs } from 'node:util';
import { CoreCodes } from '../../core/codes.js';
import { ConfigError } from '../../core/errors.js';
import { Logger } from '../../core/log.js';
import { writeJUnit } from '../../hil/junit.js';
import { nonInteractiveOperator, terminalOperator } from '../../hil/operator.js';
import { writeReport } from '../../hil/report.js';
import { runHil } from '../../hil/runner.js';
import { HIL_STEPS, type HilStepId } from '../../hil/types.js';
import { numberFlag, type CliContext } from '../context.js';

export const summary = 'hardware-in-the-loop check of a board against its limits: rate, loopback latency, unplug, watchdogs, e-stops';
export const usage = `usage: reflex hil [--board ID|FILE] [--report FILE] [--junit FILE] [options]

Runs every step against the board's "hil" limits (docs/hil.md) on the attached hardware or
the simulated board, prints one line per step, and exits 0 when none failed, 1 when one
did, 2 on bad usage. Steps: ${HIL_STEPS.join(', ')}.

  --board ID|FILE      board id in boards/ or a board file (default sim)
  --config FILE        run configuration for the runtime steps (model, loop rate, staleMs)
  --report FILE        write the JSON report (schema in docs/hil.md)
  --junit FILE         write JUnit XML (one testcase per step) for CI
  --duration SECONDS   length of the sample-rate step (default 10)
  --loopback-steps N   commands in the loopback latency step (default 200)
  --skip STEP[:WHY]    do not run STEP, reported as skipped with WHY (repeatable)
  --yes                non-interactive: steps that need a person at the bench are skipped
  --outputs-unloaded   hardware without a terminal (CI rigs): states that no load hangs on the
                       actuator outputs; without it (or a typed "yes") nothing is driven, exit 2
  --quiet              only warnings and errors on stderr`;

function parseSkips(raw: readonly string[]): Map<HilStepId, string> {
  const out = new Map<HilStepId, string>();
  for (const s of raw) {
    const colon = s.indexOf(':');
    const id = (colon < 0 ? s : s.slice(0, colon)) as HilStepId;
    if (!HIL_STEPS.includes(id)) throw new ConfigError(CoreCodes.usage, `--skip ${s}: no step "${id}" (steps: ${HIL_STEPS.join(', ')})`);
    out.set(id, colon < 0 ? 'asked with --skip' : s.slice(colon + 1).trim() || 'asked with --skip');
  }
  return out;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      board: { type: 'string', default: 'sim' },
      config: { type: 'string' },
      report: { type: 'string' },
      junit: { type: 'string' },
      duration: { type: 'string' },
      'loopback-steps': { type: 'string' },
      skip: { type: 'string', multiple: true, default: [] },
      yes: { type: 'boolean', default: false },
      'outputs-unloaded': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const say = (line: string): void => void ctx.stdout.write(`${line}\n`);
  const interactive = !values.yes && process.stdin.isTTY === true;
  const report = await runHil({
    board: values.board,
    ...(values.config !== undefined && { config: values.config }),
    rateDurationS: numberFlag('duration', values.duration, 10, [0.5, 3600]),
    loopbackSteps: Math.round(numberFlag('loopback-steps', values['loopback-steps'], 200, [10, 100_000])),
    skip: parseSkips(values.skip),
    operator: interactive ? { ...terminalOperator(process.stdin, ctx.stdout), say } : nonInteractiveOperator(say),
    log: new Logger({ component: 'hil', level: values.quiet ? 'warn' : 'info', write: (l) => ctx.stderr.write(`${l}\n`) }),
    signal: ctx.signal,
    outputsUnloaded: values['outputs-unloaded'],
  });
  if (values.report !== undefined) writeReport(values.report, report);
  if (values.junit !== undefined) writeJUnit(values.junit, report);
  const s = report.summary;
  say(`hil ${report.board.id}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${report.ok ? '' : ' (FAILED)'}`);
  return report.ok ? 0 : 1;
}
