/**
 * The live scope under its design load: a simulated board streaming 16 channels at 2 kHz
 * (`reflex run` in its own process, as a runtime on another machine would be), the scope
 * server in this process, and its page in headless Chromium (Debian's, via playwright-core).
 *   npm run bench -- scope [--duration SECONDS] [--channels N] [--rate HZ]
 *
 * fps: the page's animation frames per second (requestAnimationFrame callbacks it counts;
 * each one redraws when new data came), median over one-second intervals. draw_rate: the
 * redraws with new data per second (bounded by the server's 30 display frames a second).
 * lag_ms: from the publish time (mono_ms) of the newest EMG block whose samples are all in
 * a frame, to the animation frame that drew it, on the server's clock (the page keeps its
 * offset from ping round trips; runtime and server share the machine's CLOCK_MONOTONIC via
 * the wall clock mapping). dropped_frames: display frames the server dropped because the
 * page had not taken the previous ones (docs/scope.md).
 * Baseline in the same run: the same browser drawing nothing (an empty page counting its
 * animation frames), so fps_ratio says what the scope costs the page on this machine.
 * Targets (issue 15): fps >= 30 and lag_ms < 100.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Scope } from '../src/scope/scope.js';
import { CHROMIUM, launchChromium, pageUntil, scopeStats, VIEWPORT } from '../test/scope-page.js';
import { benchArgs, log, machine, median, percentile, sortedCopy } from './_util.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Page-side code as strings (see test/scope-page.ts).
const COUNT_RAF = `(() => { window.__raf = 0; const f = () => { window.__raf++; requestAnimationFrame(f); }; requestAnimationFrame(f); })()`;
const emgDrawing = (n: number): string => `(() => {
  const pts = window.__scopeStats.plots.emg_points || {};
  return Object.keys(pts).length === ${n} && Object.values(pts).every((v) => v > 100);
})()`;

/** Animation frames per second of a page, sampled once a second for `seconds`. */
async function rafRates(seconds: number, read: () => Promise<number>): Promise<number[]> {
  const rates: number[] = [];
  let last = await read();
  let t = performance.now();
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = performance.now();
    const v = await read();
    rates.push(((v - last) * 1000) / (now - t));
    last = v;
    t = now;
  }
  return rates;
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration, values } = benchArgs(argv, { duration: 30 });
  const channels = Number(values.channels ?? 16);
  const rate = Number(values.rate ?? 2000);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const dir = mkdtempSync(join(tmpdir(), 'reflex-bench-scope-'));
  const board = JSON.parse(readFileSync(join(ROOT, 'boards/sim.json'), 'utf8')) as Record<string, unknown> & { source: Record<string, unknown> };
  delete board.$schema;
  delete board.hil; // the bench needs no hardware-in-the-loop settings
  board.id = `sim${channels}`;
  board.name = `simulated board, ${channels} channels at ${rate} Hz`;
  board.source = { ...board.source, channels, rate };
  writeFileSync(join(dir, 'board.json'), JSON.stringify(board));
  const endpoint = `ipc://${join(dir, 'telemetry.sock')}`;
  log(`scope bench: ${channels} ch at ${rate} Hz for ${duration} s`);
  const runtime = spawn(
    join(ROOT, 'bin/reflex-node'),
    ['--import=tsx', join(ROOT, 'src/cli/main.ts'), 'run', '--board', join(dir, 'board.json'), '--no-model', '--pub', endpoint, '--no-control', '--quiet'],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT },
  );
  let runtimeErr = '';
  runtime.stderr.on('data', (d: Buffer) => (runtimeErr += d.toString()));
  const exited = once(runtime, 'exit');
  const scope = await Scope.start({ endpoints: [endpoint], port: 0 });
  const browser = await launchChromium();
  try {
    // Baseline: the same browser, a page that draws nothing.
    const blank = await browser.newPage({ viewport: VIEWPORT });
    await blank.setContent('<p>baseline</p>');
    await blank.evaluate(COUNT_RAF);
    const baseSeconds = Math.max(3, Math.min(10, Math.round(duration / 3)));
    const base = await rafRates(baseSeconds, async () => await blank.evaluate<number>('window.__raf'));
    await blank.close();

    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(scope.url);
    await pageUntil(page, emgDrawing(channels), 'every EMG plot to draw', 60_000);
    log('scope bench: page drawing; measuring');
    const before = await scopeStats(page);
    const t0 = performance.now();
    const rates = await rafRates(duration, async () => (await scopeStats(page)).raf);
    const after = await scopeStats(page);
    const seconds = (performance.now() - t0) / 1000;
    // The page keeps its last 5000 lag samples: the ones taken during the run are the newest.
    const newLags = after.lagMs.slice(-Math.min(after.lagMs.length, after.draws - before.draws));
    const lags = sortedCopy(newLags);
    const fps = median(rates);
    const baseFps = median(base);
    // What the page looked like at the end, beside the browser test's (gitignored).
    mkdirSync(join(ROOT, 'test-results/scope'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results/scope/bench.png') });
    const st = scope.stats();
    return {
      fps,
      lag_ms: percentile(lags, 50),
      dropped_frames: (after.server?.frames_dropped ?? 0) - (before.server?.frames_dropped ?? 0),
      fps_min: Math.min(...rates),
      baseline_fps: baseFps,
      fps_ratio: fps / baseFps,
      draw_rate: (after.draws - before.draws) / seconds,
      lag_p99_ms: percentile(lags, 99),
      lag_max_ms: lags.length > 0 ? lags[lags.length - 1] : Number.NaN,
      lag_samples: lags.length,
      frames_received: after.frames - before.frames,
      frame_bytes_per_s: (after.bytes - before.bytes) / seconds,
      telemetry_lost: st.bridge.client.lost,
      telemetry_received: st.bridge.client.received,
      page_errors: after.errors.length,
      targets: { fps: fps >= 30, lag_ms: percentile(lags, 50) < 100 },
      channels,
      rate_hz: rate,
      duration_s: duration,
      loadavg: loadavg(),
      machine: machine(),
    };
  } finally {
    await browser.close();
    await scope.close();
    runtime.kill('SIGTERM');
    // It stops cleanly on SIGTERM; a runtime stuck past 15 s is killed rather than left running.
    const killer = setTimeout(() => runtime.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
    if (runtime.exitCode !== 0 && runtime.exitCode !== null) log(`runtime exited ${runtime.exitCode}: ${runtimeErr.slice(-2000)}`);
    rmSync(dir, { recursive: true, force: true });
  }
}
