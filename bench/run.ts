/**
 * `npm run bench -- NAME [flags]`: runs `bench/NAME.ts`. Each benchmark prints progress
 * to stderr and its figures as ONE JSON object on the last line of stdout.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
if (!name || !/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(join(here, `${name}.ts`))) {
  process.stderr.write(`usage: npm run bench -- NAME [--duration SECONDS]\nbenchmarks: ${names.join(', ')}\n`);
  process.exit(2);
}
const mod = (await import(join(here, `${name}.ts`))) as { main(argv: string[]): Promise<Record<string, unknown>> };
const result = await mod.main(rest);
process.stdout.write(JSON.stringify({ bench: name, ...result }) + '\n');
