/**
 * The scope page (web/scope) in headless Chromium, as the browser test and the scope benchmark
 * drive it: Debian's Chromium through playwright-core, the counters the page exposes, and waiting
 * for a page-side condition. Page-side code is passed as strings: tsx would wrap a function's
 * inner helpers in a __name() the page does not have, and this project's typecheck has no DOM types.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Tall enough for every panel of the page at once. */
export const VIEWPORT = { width: 1400, height: 1700 };

/** Debian's Chromium, headless; no sandbox, as the test machines run as root. */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** What the page exposes as window.__scopeStats (web/scope/app.js). */
export interface ScopeStats {
  /** Animation frames. */
  raf: number;
  /** Redraws with new data. */
  draws: number;
  /** Display frames received, and their bytes. */
  frames: number;
  bytes: number;
  /** The newest lag samples (at most 5000), ms on the server's clock. */
  lagMs: number[];
  droppedFrames?: number;
  paused: boolean;
  errors: string[];
  plots: {
    emg?: Record<string, number>;
    emg_points?: Record<string, number>;
    prediction?: number;
    loop?: number;
    loop_hist?: number;
    clock?: number;
    health?: number;
  };
  /** The server's last stats message. */
  server: { frames_dropped: number; frames_sent: number; telemetry?: { lost: number; received: number } } | null;
}

export const scopeStats = async (page: Page): Promise<ScopeStats> => await page.evaluate<ScopeStats>('window.__scopeStats');

/**
 * Wait until a page-side expression is true. Polled through page.evaluate rather than
 * page.waitForFunction, whose string form needs eval, which the page's CSP (rightly) refuses.
 */
export async function pageUntil(page: Page, expr: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expr))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
