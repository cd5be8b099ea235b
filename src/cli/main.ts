#!/usr/bin/env node
/**
 * `reflex`: thin dispatcher. Each command lives in `commands/<name>.ts` and exports
 * `summary`, `usage` and `main` (see `context.ts`); `commands` below lists them, so a new
 * command is one file plus one line there (test/cli-commands.test.ts checks none is missing).
 */
import { fileURLToPath } from 'node:url';
import { CoreCodes } from '../core/codes.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import { formatLogRecord } from '../core/log.js';
import type { CliContext, CommandModule } from './context.js';
import { joinKeyValues } from './argv.js';

/**
 * Every command, loaded only when it runs (or for `--help`): `reflex version` need not load
 * TensorFlow.js because `run` does. Kept in alphabetical order, the order `--help` prints.
 */
export const commands: Readonly<Record<string, () => Promise<CommandModule>>> = {
  boards: () => import('./commands/boards.js'),
  calibrate: () => import('./commands/calibrate.js'),
  ctl: () => import('./commands/ctl.js'),
  deploy: () => import('./commands/deploy.js'),
  doctor: () => import('./commands/doctor.js'),
  export: () => import('./commands/export.js'),
  hil: () => import('./commands/hil.js'),
  install: () => import('./commands/install.js'),
  keygen: () => import('./commands/keygen.js'),
  record: () => import('./commands/record.js'),
  replay: () => import('./commands/replay.js'),
  run: () => import('./commands/run.js'),
  scope: () => import('./commands/scope.js'),
  subscribe: () => import('./commands/subscribe.js'),
  train: () => import('./commands/train.js'),
  version: () => import('./commands/version.js'),
};

function commandNames(): string[] {
  return Object.keys(commands).sort();
}

/** `--log-format json` or `--log-format=json` among a command's arguments. */
function wantsJsonLogs(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--log-format=json' || (a === '--log-format' && argv[i + 1] === 'json'));
}

async function load(name: string): Promise<CommandModule | undefined> {
  return Object.hasOwn(commands, name) ? commands[name]!() : undefined;
}

async function help(out: NodeJS.WritableStream): Promise<void> {
  const lines = ['usage: reflex <command> [options]', '', 'commands:'];
  for (const name of commandNames()) {
    const mod = await load(name);
    if (mod) lines.push(`  ${name.padEnd(12)} ${mod.summary}`);
  }
  lines.push('', 'Run `reflex <command> --help` for its flags.', 'Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.');
  out.write(lines.join('\n') + '\n');
}

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = joinKeyValues(argv);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await help(ctx.stdout);
    return name === undefined ? 2 : 0;
  }
  const mod = await load(name);
  if (!mod) {
    ctx.stderr.write(`reflex: unknown command "${name}". Run \`reflex --help\` for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout.write(mod.usage.trimEnd() + '\n');
    return 0;
  }
  try {
    return await mod.main(rest, ctx);
  } catch (err) {
    const usage = err instanceof ConfigError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    // Asked for JSON logs: a log shipper must be able to read why the command stopped, too.
    if (wantsJsonLogs(rest)) {
      const code = err instanceof ReflexError ? err.code : usage ? CoreCodes.usage : undefined;
      const message = usage ? (err as Error).message : ((err as Error).stack ?? String(err));
      ctx.stderr.write(formatLogRecord('json', { time: Date.now(), level: 'error', component: name, message, ...(code !== undefined && { code }) }) + '\n');
      return usage ? 2 : 1;
    }
    if (usage) {
      ctx.stderr.write(`reflex ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    const code = err instanceof ReflexError ? ` [${err.code}]` : '';
    ctx.stderr.write(`reflex ${name}: ${(err as Error).stack ?? String(err)}${code}\n`);
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (isMain) {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`reflex: second ${sig}, exiting now\n`);
      process.exit(130);
    }
    controller.abort(new ReflexError('E_SIGNAL', `received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
  process.exitCode = code;
}
