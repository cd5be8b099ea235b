/**
 * A progress line on stderr for long offline commands (replay, train): a redrawn bar with the
 * rate and an ETA on a terminal, plain lines at most every few seconds otherwise (logs, CI), and
 * nothing when turned off. Time comes from a clock passed in, so tests drive it.
 */
export interface ProgressOptions {
  /** Redraw in place (a terminal). Default: the stream's isTTY. */
  tty?: boolean;
  /** No output at all (--no-progress). */
  quiet?: boolean;
  /** Plain-line interval, ms. Default 5000. */
  everyMs?: number;
  now?: () => number;
}

const WIDTH = 28;

/** "1 m 05 s", "12 s", "0.4 s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} m ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
}

export class Progress {
  readonly #out: NodeJS.WritableStream;
  readonly #label: string;
  readonly #tty: boolean;
  readonly #quiet: boolean;
  readonly #everyMs: number;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(out: NodeJS.WritableStream, label: string, o: ProgressOptions = {}) {
    this.#out = out;
    this.#label = label;
    this.#tty = o.tty ?? (out as { isTTY?: boolean }).isTTY === true;
    this.#quiet = o.quiet ?? false;
    this.#everyMs = o.everyMs ?? 5000;
    this.#now = o.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** `done` of `total` units; `note` is appended (e.g. "epoch 3/10 loss 0.21"). */
  update(done: number, total: number, note = ''): void {
    if (this.#quiet) return;
    const now = this.#now();
    const finished = done >= total;
    if (!finished && now - this.#lastDraw < (this.#tty ? 100 : this.#everyMs)) return;
    this.#lastDraw = now;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const elapsed = (now - this.#start) / 1000;
    const eta = frac > 0 ? (elapsed / frac) * (1 - frac) : Number.NaN;
    const pct = `${(frac * 100).toFixed(0).padStart(3)} %`;
    const times = finished ? `${formatSeconds(elapsed)}` : `${formatSeconds(elapsed)}, ETA ${formatSeconds(eta)}`;
    const tail = note ? ` ${note}` : '';
    if (this.#tty) {
      const fill = Math.round(frac * WIDTH);
      this.#out.write(`\r\x1b[2K${this.#label} [${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${pct} ${times}${tail}`);
      this.#drawn = true;
    } else {
      this.#out.write(`${this.#label}: ${pct} ${times}${tail}\n`);
    }
  }

  /** Ends the redrawn line so later output starts on its own line. */
  end(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }
}
