/**
 * Footprint: `bin/reflex run --board sim` as a child process, with the default model and with
 * --no-model, alternated in one run, each repeated.
 *   npm run bench -- footprint [--duration SECONDS] [--reps N] [--reflex PATH]   (default 16 s, 3 repetitions;
 *   --reflex: another build's bin/reflex, to compare against)
 *
 * `rss_mb`, `rss_no_model_mb`: the child's VmRSS (/proc/PID/status) sampled every 250 ms once
 * it has run 10 s, median over those samples, then median over the repetitions.
 * `start_to_first_prediction_ms`: from spawn to the first `prediction` telemetry message a
 * subscriber connected before the spawn receives (ZeroMQ reconnects every 100 ms until the
 * child binds, so this may read up to ~100 ms late); median over the repetitions.
 * bin/reflex runs dist/: build first (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TelemetryClient } from '../src/telemetry/client.js';
import { benchArgs, log, machine, median } from './_util.js';

const REFLEX = fileURLToPath(new URL('../bin/reflex', import.meta.url));
const STEADY_AFTER_MS = 10_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface RunResult {
  rssMb: number;
  firstPredictionMs: number | null;
}

async function runOnce(reflex: string, model: boolean, durationS: number): Promise<RunResult> {
  const port = await freePort();
  const endpoint = `tcp://127.0.0.1:${port}`;
  const client = model ? new TelemetryClient({ endpoints: [endpoint], topics: ['prediction'] }) : null;
  const args = ['run', '--board', 'sim', '--pub', endpoint, '--no-control', '--quiet', '--duration', String(durationS), ...(model ? [] : ['--no-model'])];
  const t0 = performance.now();
  const child = spawn(reflex, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let first: number | null = null;
  const reading = client
    ? (async () => {
        for await (const m of client) {
          if (m.topic === 'prediction') {
            first = performance.now() - t0;
            break;
          }
        }
      })()
    : Promise.resolve();
  const samples: number[] = [];
  const timer = setInterval(() => {
    if (performance.now() - t0 < STEADY_AFTER_MS) return;
    const r = rssMb(child.pid!);
    if (r !== null) samples.push(r);
  }, 250);
  const code = await exited;
  clearInterval(timer);
  await client?.close();
  await reading.catch(() => undefined);
  if (code !== 0) throw new Error(`reflex run ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  if (samples.length === 0) throw new Error('no RSS samples after 10 s: raise --duration');
  return { rssMb: median(samples), firstPredictionMs: first };
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 16 });
  const reps = values.reps === undefined ? 3 : Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
  if (duration * 1000 <= STEADY_AFTER_MS + 1000) throw new Error('--duration must exceed 11 s (RSS is sampled after 10 s)');
  const reflex = typeof values.reflex === 'string' ? values.reflex : REFLEX;
  const withModel: RunResult[] = [];
  const without: RunResult[] = [];
  for (let i = 0; i < reps; i++) {
    const a = await runOnce(reflex, true, duration);
    log(`footprint: model rep ${i + 1}: rss ${a.rssMb.toFixed(1)} MB, first prediction ${a.firstPredictionMs?.toFixed(0) ?? 'none'} ms`);
    withModel.push(a);
    const b = await runOnce(reflex, false, duration);
    log(`footprint: no-model rep ${i + 1}: rss ${b.rssMb.toFixed(1)} MB`);
    without.push(b);
  }
  const firsts = withModel.map((r) => r.firstPredictionMs).filter((v): v is number => v !== null);
  const rss = median(withModel.map((r) => r.rssMb));
  const rssNo = median(without.map((r) => r.rssMb));
  return {
    rss_mb: Number(rss.toFixed(1)),
    rss_no_model_mb: Number(rssNo.toFixed(1)),
    rss_ratio: Number((rss / rssNo).toFixed(3)),
    start_to_first_prediction_ms: firsts.length > 0 ? Math.round(median(firsts)) : null,
    runs_without_prediction: withModel.length - firsts.length,
    reflex,
    reps,
    duration_s: duration,
    machine: machine(),
  };
}
