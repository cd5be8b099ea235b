import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { applyInstall, CONFIG_DIR, describePlan, planInstall, runCommand, shellLine } from '../../deploy/install.js';
import { CPU_LIST } from '../../deploy/unit.js';
import { packageRoot } from '../../runtime/config.js';
import { numberFlag, type CliContext } from '../context.js';

export const summary = 'install Reflex as a systemd service (user, /etc/reflex, unit, enable)';
export const usage = `usage: reflex install [--board ID|FILE] [options]

Installs Reflex as the systemd service reflex.service (docs/install.md): a system user with only
the groups the board needs, ${CONFIG_DIR}/run.json and ${CONFIG_DIR}/board.json, the unit in
/etc/systemd/system, then systemctl daemon-reload and enable --now. Run as root (sudo).

  --board ID|FILE      board id from boards/ or a board JSON file (default: sim)
  --config FILE        run configuration to install (default: one written for the board)
  --user NAME          the service's system user (default: reflex)
  --prefix DIR         where Reflex lives; copied there when this tree is elsewhere (default: this tree)
  --root DIR           write everything under DIR and print the system commands instead of running them
  --watchdog SECONDS   systemd watchdog period, 2..600 (default 10)
  --cpus LIST          CPUAffinity= of the service, e.g. 0-3 (default: unset, all cores)
  --dry-run            print what would be done; change nothing
  --help               this text

Exit codes: 0 installed (or printed); 1 a system command failed; 2 bad usage or configuration.`;

export function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      board: { type: 'string' },
      config: { type: 'string' },
      user: { type: 'string' },
      prefix: { type: 'string' },
      root: { type: 'string' },
      watchdog: { type: 'string' },
      cpus: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.cpus !== undefined && !CPU_LIST.test(values.cpus))
    throw new ConfigError('E_USAGE', `--cpus must be a CPU list like 0-3 or 1,3, got "${values.cpus}"`);
  const root = values.root ?? '/';
  const opts = {
    board: values.board ?? 'sim',
    ...(values.config !== undefined && { config: values.config }),
    user: values.user ?? 'reflex',
    prefix: values.prefix ?? packageRoot,
    root,
    packageRoot,
    watchdogSec: numberFlag('watchdog', values.watchdog, 10, [2, 600]),
    ...(values.cpus !== undefined && { cpuAffinity: values.cpus }),
  };
  if (!Number.isInteger(opts.watchdogSec)) throw new ConfigError('E_USAGE', `--watchdog must be whole seconds, got "${values.watchdog}"`);
  const plan = planInstall(opts);
  const out = (line: string): boolean => ctx.stdout.write(line + '\n');
  const groups = plan.groups.map((g) => `${g.group} (${g.why})`).join(', ') || 'none';
  out(`board ${plan.board.id}; user ${opts.user}; groups: ${groups}`);
  if (values['dry-run']) {
    for (const line of describePlan(plan, opts)) out(`  ${line}`);
    for (const n of plan.notes) out(`note: ${n}`);
    return Promise.resolve(0);
  }
  const real = values.root === undefined;
  if (real && process.getuid?.() !== 0) throw new ConfigError('E_USAGE', 'reflex install changes users and /etc: run it as root (sudo), or add --dry-run');
  const recorded: string[][] = [];
  applyInstall(plan, opts, real ? runCommand : null, recorded);
  for (const f of plan.files) out(`wrote ${root === '/' ? '' : root}${f.path}`);
  if (!real) for (const c of recorded) out(`not run (--root): ${shellLine(c)}`);
  for (const n of plan.notes) out(`note: ${n}`);
  if (real) out('installed: systemctl status reflex; journalctl -u reflex -f');
  return Promise.resolve(0);
}
