/**
 * Starting code in another thread or process from an entry file that is `.ts` under tsx
 * (tests, benches, `npm run` from a checkout) and `.js` once compiled to dist/. The loop
 * worker, the model-verify worker, SPAWN fragments and the ZeroMQ streamer's producer all
 * start this way.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Whether `url` is a TypeScript entry (running from src/ under tsx, not from dist/). */
function isTs(url: URL): boolean {
  return url.pathname.endsWith('.ts');
}

/** The entry `name` beside `base` (an `import.meta.url`): `name`.ts under tsx, `name`.js once compiled. */
export function entryUrl(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * Start a worker thread on a .ts or .js entry. Compiled, the worker is plain JS. Under tsx,
 * a worker thread does not inherit the parent's module hooks and Node 20 ignores `--import`
 * in its execArgv, so a tiny bootstrap registers tsx first, then imports the entry.
 */
export function startWorker(url: URL, options: WorkerOptions): Worker {
  if (!isTs(url)) return new Worker(url, options);
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * Node flags for a child process (`fork`) running `url`: `base` (default: this process's own,
 * so a loader carries over), plus `--import tsx` when the entry is .ts and no tsx loader is
 * among them.
 */
export function childExecArgv(url: URL, base: readonly string[] = process.execArgv): string[] {
  const argv = base.slice();
  if (isTs(url) && !argv.some((a) => a.includes('tsx'))) argv.push('--import', 'tsx');
  return argv;
}
