/**
 * How far the recorded EMG reaches on the runtime's clock, so a session can wait, before its
 * recording closes, until the EMG covers its last marker: blocks arrive after the samples in
 * them were taken, and the last phase's end must not fall after the file's last sample.
 */
import { ReflexError } from '../core/errors.js';
import { TelemetryCodes } from '../telemetry/codes.js';

export class EmgCoverage {
  /** Host time of the latest recorded EMG sample, ms on the runtime's monotonic clock. */
  #untilMs = -Infinity;
  readonly #waiters: { atMs: number; resolve: () => void }[] = [];

  get untilMs(): number {
    return this.#untilMs;
  }

  /** A recorded EMG block: its first sample's host time, period and length (NaN time: `fallbackMs`, its publish time). */
  block(hostTimeMs: number, hostPeriodMs: number, samples: number, fallbackMs: number): void {
    const end = Number.isFinite(hostTimeMs) && Number.isFinite(hostPeriodMs) ? hostTimeMs + (samples - 1) * hostPeriodMs : fallbackMs;
    if (end <= this.#untilMs) return;
    this.#untilMs = end;
    for (let i = this.#waiters.length - 1; i >= 0; i--) if (this.#waiters[i]!.atMs <= end) this.#waiters.splice(i, 1)[0]!.resolve();
  }

  /** Resolves once the EMG reaches `atMs`; rejects after `timeoutMs` naming `where`. */
  reach(atMs: number, where: string, timeoutMs = 5000): Promise<void> {
    if (atMs <= this.#untilMs) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = { atMs, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new ReflexError(TelemetryCodes.timeout, `the EMG from ${where} did not reach the last marker (${atMs} ms) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }
}
