import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadBoard } from '../../boards/load.js';
import { CoreCodes } from '../../core/codes.js';
import { ConfigError } from '../../core/errors.js';
import { firmwareBinaryPath } from '../../devices/sim/firmware.js';
import { processFacts, probeTfjs } from '../../doctor/facts.js';
import { formatReport, runDoctor } from '../../doctor/table.js';
import { RootedTree } from '../../doctor/tree.js';
import type { CliContext } from '../context.js';

export const summary = 'check that this host (or an SD card image) is set up for a board, with the commands that fix what is not';
export const usage = `usage: reflex doctor [--board ID|FILE] [--root DIR] [--user NAME] [--json]

  --board ID|FILE  the board to check for: a shipped id (reflex boards) or your board file (default sim)
  --root DIR       read the host's files under DIR instead of / (a mounted SD card image); the
                   process checks (groups of this session, limits) then come from DIR's files only
  --user NAME      check groups and device access for NAME (e.g. the service user) instead of you
  --json           print the results as a JSON array of {id, status, found, fix}

One line per check: ok, warn or FAIL, what was found, and under anything not ok the commands
that fix it. Exit 0 when nothing failed (warnings allowed), 1 when a check failed.
Every check, what it reads and how to fix it: docs/doctor.md.`;

export function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { board: { type: 'string' }, root: { type: 'string' }, user: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new ConfigError(CoreCodes.usage, `doctor takes no arguments, got ${positionals.join(' ')} (did you mean --board ${positionals[0]}?)`);
  const board = loadBoard(values.board ?? 'sim');
  const tree = new RootedTree(values.root ?? '/');
  const facts = processFacts(tree, values.user);
  if (facts.uid < 0) throw new ConfigError(CoreCodes.usage, `--user ${facts.user}: no such user in ${tree.at('/etc/passwd')}`);
  const sim = firmwareBinaryPath();
  const report = runDoctor({ board, tree, facts, tfjs: probeTfjs(facts.arch), simFirmware: { path: sim, built: existsSync(sim) } });
  if (values.json === true) ctx.stdout.write(JSON.stringify(report.results) + '\n');
  else ctx.stdout.write(formatReport(report, `reflex doctor: board ${board.id}, root ${tree.root}, user ${facts.user}, ${facts.arch}`));
  return Promise.resolve(report.exitCode);
}
