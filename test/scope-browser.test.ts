/**
 * `reflex scope` in a real browser: headless Chromium (Debian's, driven by playwright-core)
 * opens the page against a live simulated board. Each plot must receive data, and the
 * numbers the page shows (health counters, the latest prediction, loop p99, clock state) must
 * equal the telemetry messages with the sequence numbers it shows, as this test's own
 * subscription received them. Leaves a screenshot and a JSON of the results in
 * test-results/scope/, with the page's frame rate and lag.
 */
import test from 'ava';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { Scope } from '../src/scope/scope.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import type { TelemetryMessage } from '../src/telemetry/topics.js';
import { CHROMIUM, launchChromium, pageUntil, scopeStats, VIEWPORT } from './scope-page.js';
import { startScopeRuntime } from './scope-runtime.js';

const OUT = fileURLToPath(new URL('../test-results/scope/', import.meta.url));

/** The numbers on screen, each with the sequence number of the message it came from. */
interface Shown {
  health: { seq: number; state: string; counters: Record<string, string> };
  prediction: { seq: number; rows: Array<{ name: string; pred: string; tracker: string }> };
  loop: { seq: number; p99: string; p50: string; max: string; missed: string };
  clock: Array<{ source: string; seq: number; cells: string[] }>;
}

// Page-side code is passed as strings (see scope-page.ts).
const ALL_PLOTS_FED = `(() => {
  const s = window.__scopeStats;
  const pts = s.plots.emg_points || {};
  return Object.keys(pts).length === 8 && Object.values(pts).every((n) => n > 50) &&
    s.plots.prediction > 2 && s.plots.loop > 2 && s.plots.loop_hist > 2 && s.plots.clock > 1 && s.plots.health > 1;
})()`;

/** Animation frames and redraws per second, counted by the page over two seconds of its own clock. */
const FRAME_RATE = `new Promise((resolve) => {
  const s = window.__scopeStats;
  const r0 = s.raf, d0 = s.draws, t0 = performance.now();
  setTimeout(() => {
    const dt = (performance.now() - t0) / 1000;
    resolve({ fps: (s.raf - r0) / dt, drawRate: (s.draws - d0) / dt });
  }, 2000);
})`;

const READ_SHOWN = `(() => {
  const text = (sel) => document.querySelector(sel)?.textContent ?? '';
  const seq = (sel) => Number(document.querySelector(sel)?.dataset.seq);
  const rows = (sel) => Array.from(document.querySelectorAll(sel));
  return {
    health: {
      seq: seq('#health-seq'),
      state: text('#health-state'),
      counters: Object.fromEntries(rows('#health-counters tbody tr').map((r) => [r.dataset.counter, r.children[1].textContent])),
    },
    prediction: {
      seq: seq('#pred-seq'),
      rows: rows('#pred-values tbody tr').map((r) => ({ name: r.dataset.name, pred: r.children[1].textContent, tracker: r.children[2].textContent })),
    },
    loop: { seq: seq('#loop-seq'), p99: text('#loop-p99'), p50: text('#loop-p50'), max: text('#loop-max'), missed: text('#loop-missed') },
    clock: rows('#clock-table tbody tr').map((r) => ({
      source: r.dataset.source,
      seq: Number(r.dataset.seq),
      cells: Array.from(r.children).map((c) => c.textContent),
    })),
  };
})()`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[s.length >> 1]!;
}

test('the scope page in headless Chromium draws every plot and shows the numbers the telemetry carries', async (t) => {
  t.timeout(90_000);
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: the scope's browser test needs Debian's Chromium (apt-get install chromium)`);
    return;
  }
  const rt = await startScopeRuntime('scope-browser');
  const endpoint = rt.telemetryEndpoints[0]!;
  // This test's own view of the telemetry, by topic and sequence number.
  const ref = new TelemetryClient({ endpoints: [endpoint], topics: ['prediction', 'loop', 'clock', 'health'] });
  const seen = new Map<string, TelemetryMessage>();
  const refDone = (async () => {
    for await (const m of ref) {
      const key = m.topic === 'clock' ? `clock.${m.body.source}.${m.seq}` : `${m.topic}.${m.seq}`;
      seen.set(key, m);
    }
  })();
  const scope = await Scope.start({ endpoints: [endpoint], port: 0 });
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: VIEWPORT });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(scope.url);

    // Every plot has received data.
    await pageUntil(page, ALL_PLOTS_FED, 'every plot to receive data', 30_000);

    // The page's frame rate: animation frames counted by the page over two seconds of its own clock.
    const fps = await page.evaluate<{ fps: number; drawRate: number }>(FRAME_RATE);
    t.true(fps.fps > 0 && fps.drawRate > 0, JSON.stringify(fps));

    // Channel selection takes a channel's lane out of the EMG plot and puts it back.
    await page.uncheck('#channels input[data-channel="ch2"]');
    t.is(await page.getAttribute('#emg-plots', 'data-lanes'), '7');
    await page.check('#channels input[data-channel="ch2"]');
    t.is(await page.getAttribute('#emg-plots', 'data-lanes'), '8');

    // Pause freezes the display while frames keep arriving.
    await page.click('#pause');
    const frozen = await scopeStats(page);
    t.true(frozen.paused);
    await pageUntil(page, `window.__scopeStats.frames >= ${frozen.frames + 5}`, 'frames while paused', 10_000);
    t.is((await scopeStats(page)).draws, frozen.draws, 'no redraw while paused');

    // The numbers on screen, each with the sequence number of the message it came from.
    const shown = await page.evaluate<Shown>(READ_SHOWN);
    const message = async (key: string): Promise<TelemetryMessage> => {
      // The page may show a message a moment before this test's subscription has read it.
      const deadline = Date.now() + 10_000;
      while (!seen.has(key) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const m = seen.get(key);
      if (!m) throw new Error(`this test never received ${key}`);
      return m;
    };
    const h = await message(`health.${shown.health.seq}`);
    if (h.topic !== 'health') throw new Error('not a health message');
    t.is(shown.health.state, h.body.state);
    t.deepEqual(shown.health.counters, Object.fromEntries(Object.entries(h.body.counters).map(([k, v]) => [k, String(v)])));
    const p = await message(`prediction.${shown.prediction.seq}`);
    if (p.topic !== 'prediction') throw new Error('not a prediction message');
    t.deepEqual(
      shown.prediction.rows.map((r) => r.name),
      [...p.body.names],
    );
    shown.prediction.rows.forEach((r, i) => {
      t.is(r.pred, p.body.values[i]!.toFixed(3), `${r.name} predicted`);
      t.regex(r.tracker, /^-?\d+\.\d{3}$/, `${r.name} tracker value shown`);
    });
    const l = await message(`loop.${shown.loop.seq}`);
    if (l.topic !== 'loop') throw new Error('not a loop message');
    t.is(shown.loop.p99, l.body.lateness_p99_ms.toFixed(3));
    t.is(shown.loop.p50, l.body.lateness_p50_ms.toFixed(3));
    t.is(shown.loop.max, l.body.lateness_max_ms.toFixed(3));
    t.is(shown.loop.missed, String(l.body.missed));
    t.true(shown.clock.some((c) => c.source === 'emg'));
    for (const c of shown.clock) {
      const m = await message(`clock.${c.source}.${c.seq}`);
      if (m.topic !== 'clock') throw new Error('not a clock message');
      t.deepEqual(c.cells.slice(0, 3), [m.body.source, m.body.state, m.body.time_base]);
      t.is(c.cells[6], String(m.body.points));
    }

    await page.click('#pause'); // resume, so the screenshot shows the live state
    await pageUntil(page, `window.__scopeStats.draws > ${frozen.draws + 3}`, 'redraws after resuming', 10_000);
    const final = await scopeStats(page);
    t.deepEqual(final.errors, []);
    t.deepEqual(pageErrors, []);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: `${OUT}scope.png`, fullPage: true });
    const results = {
      test: t.title,
      url: scope.url,
      fps: fps.fps,
      draw_rate: fps.drawRate,
      lag_ms_median: median(final.lagMs),
      lag_samples: final.lagMs.length,
      frames_received: final.frames,
      dropped_frames: final.droppedFrames ?? 0,
      plots: final.plots,
      shown,
      scope: scope.stats(),
      page_errors: pageErrors,
    };
    writeFileSync(`${OUT}results.json`, JSON.stringify(results, null, 2) + '\n');
    t.log(`fps ${fps.fps.toFixed(1)}, draws/s ${fps.drawRate.toFixed(1)}, lag median ${results.lag_ms_median.toFixed(1)} ms; ${OUT}scope.png`);
  } finally {
    await browser?.close();
    await scope.close();
    await ref.close();
    await refDone;
    await rt.stop();
  }
});
