import { parseArgs } from 'node:util';
import { checkBoardFile, listBoardSummaries, resolvedBoard } from '../../boards/check.js';
import { ConfigError } from '../../core/errors.js';
import { CoreCodes } from '../../core/codes.js';
import type { CliContext } from '../context.js';

export const summary = 'list the shipped boards, print one, or check a board file of your own';
export const usage = `usage: reflex boards [list] [--json]
       reflex boards show ID|FILE
       reflex boards check FILE...

  list          one line per shipped board: id, name, EMG source (the default)
  show ID|FILE  the board as the runtime reads it (JSON, relative paths resolved)
  check FILE    validate your own board file against boards/board.schema.json and the
                runtime's checks; exit 0 when valid, 2 with one line per problem on stderr,
                each naming the file and the key
  --json        list: print a JSON array instead of a table

The format and every shipped board's pin map: docs/boards.md.`;

export function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true });
  const [sub = 'list', ...rest] = positionals;
  switch (sub) {
    case 'list': {
      if (rest.length > 0) throw new ConfigError(CoreCodes.usage, `"boards list" takes no arguments, got ${rest.join(' ')}`);
      const boards = listBoardSummaries();
      if (values.json === true) {
        ctx.stdout.write(JSON.stringify(boards) + '\n');
        return Promise.resolve(0);
      }
      const w = Math.max(...boards.map((b) => b.id.length));
      for (const b of boards) ctx.stdout.write(`${b.id.padEnd(w)}  ${b.name}\n${' '.repeat(w)}  source: ${b.source}\n`);
      return Promise.resolve(0);
    }
    case 'show': {
      if (rest.length !== 1) throw new ConfigError(CoreCodes.usage, '"boards show" takes one board id or file (reflex boards lists the ids)');
      ctx.stdout.write(JSON.stringify(resolvedBoard(rest[0]!), null, 2) + '\n');
      return Promise.resolve(0);
    }
    case 'check': {
      if (rest.length === 0) throw new ConfigError(CoreCodes.usage, '"boards check" needs the board file(s) to check');
      let failed = false;
      for (const file of rest) {
        const problems = checkBoardFile(file);
        for (const p of problems) ctx.stderr.write(p + '\n');
        if (problems.length === 0) ctx.stdout.write(`${file}: ok\n`);
        failed ||= problems.length > 0;
      }
      return Promise.resolve(failed ? 2 : 0);
    }
    default:
      throw new ConfigError(CoreCodes.usage, `unknown subcommand "${sub}": use list, show or check`);
  }
}
