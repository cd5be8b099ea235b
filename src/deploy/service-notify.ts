/**
 * What `reflex run` tells systemd when started as a Type=notify service (docs/install.md,
 * "The service and its watchdog"): STATUS while starting (and EXTEND_TIMEOUT_USEC, so a board
 * that is not plugged in keeps the unit starting instead of timing out, as long as this thread
 * is alive), READY=1 once the run is running, WATCHDOG=1 every half watchdog period only while
 * the run is healthy, STOPPING=1 before the run is torn down.
 *
 * Healthy means progress since the previous ping, not just a live process: the loop's cycle
 * count went up (when there is a loop) and the source delivered blocks (unless paused by a
 * control "stop", which an operator asked for and a restart would undo). A wedged loop worker,
 * a source that stopped streaming or a blocked main thread all stop the pings, and systemd
 * restarts the service after WatchdogSec (Restart=on-failure). A restarted run starts safe.
 */
import type { Logger } from '../core/log.js';
import { emptyStats, type LoopStatsSnapshot } from '../loop/stats.js';
import { SdNotifier, watchdogMs } from './sd-notify.js';

/** The parts of a Runtime the health check reads (Runtime satisfies it). */
export interface RunHealth {
  readonly state: string;
  readonly counters: { get(key: string): number };
  readonly loop: { readStats(into: LoopStatsSnapshot): boolean; readonly safe: boolean } | null;
}

export interface Verdict {
  healthy: boolean;
  /** Short state for STATUS=. */
  status: string;
}

/** Judges progress between two calls; the first call sets the baseline and is judged on state alone. */
export class HealthJudge {
  #stats = emptyStats();
  #cycles = -1;
  #blocks = -1;

  judge(h: RunHealth): Verdict {
    const blocks = h.counters.get('blocks');
    const cycles = h.loop ? this.#readCycles(h.loop) : null;
    const first = this.#blocks < 0;
    const sourceMoved = blocks > this.#blocks;
    const loopMoved = cycles === null || (cycles >= 0 && cycles > this.#cycles);
    this.#blocks = blocks;
    if (cycles !== null && cycles >= 0) this.#cycles = cycles;
    if (h.state !== 'running' && h.state !== 'paused') return { healthy: false, status: h.state };
    const loopText = cycles === null ? 'no model' : `loop ${cycles < 0 ? '?' : cycles} cycles${h.loop?.safe ? ', SAFE' : ', armed'}`;
    if (!first && !loopMoved) return { healthy: false, status: `${h.state}, loop stalled (${loopText})` };
    if (h.state === 'running' && !first && !sourceMoved) return { healthy: false, status: `running, source not streaming (${blocks} blocks), ${loopText}` };
    return { healthy: true, status: `${h.state}, ${loopText}, ${blocks} blocks` };
  }

  /** -1 when the worker held the stats both times (it writes them every cycle; two misses in a row mean trouble). */
  #readCycles(loop: NonNullable<RunHealth['loop']>): number {
    return loop.readStats(this.#stats) || loop.readStats(this.#stats) ? this.#stats.cycles : -1;
  }
}

/** Start-up timeout extension sent while starting (the unit's TimeoutStartSec covers checks and model load). */
const EXTEND_US = 30_000_000;
const STARTING_TICK_MS = 10_000;

export class ServiceNotify {
  readonly #notifier: SdNotifier;
  readonly #watchdogMs: number | null;
  #timer: NodeJS.Timeout | null = null;
  readonly #judge = new HealthJudge();
  /** WATCHDOG=1 pings sent, and ticks that withheld one (tests, status). */
  pings = 0;
  withheld = 0;

  constructor(notifier: SdNotifier, watchdog: number | null) {
    this.#notifier = notifier;
    this.#watchdogMs = watchdog;
  }

  /** From the environment systemd sets; null when not run by systemd as a notify service. */
  static fromEnv(log: Logger, env: NodeJS.ProcessEnv = process.env): ServiceNotify | null {
    const n = SdNotifier.fromEnv(log, env);
    return n && new ServiceNotify(n, watchdogMs(env));
  }

  get watchdogMs(): number | null {
    return this.#watchdogMs;
  }

  /** While Runtime.start is pending: keeps a start that waits for its board from timing out, while this thread runs. */
  starting(): void {
    const tick = (): void => this.#notifier.send({ STATUS: 'starting (waiting for the source if it is not plugged in)', EXTEND_TIMEOUT_USEC: EXTEND_US });
    tick();
    this.#setTimer(tick, STARTING_TICK_MS);
  }

  /** The run is running: READY=1, then the watchdog pings while it stays healthy. */
  ready(rt: RunHealth): void {
    const v = this.#judge.judge(rt);
    this.#notifier.send({ READY: 1, STATUS: v.status });
    this.#setTimer(() => this.#tick(rt), this.#watchdogMs !== null ? this.#watchdogMs / 2 : 5000);
  }

  #tick(rt: RunHealth): void {
    const v = this.#judge.judge(rt);
    if (v.healthy && this.#watchdogMs !== null) {
      this.pings++;
      this.#notifier.send({ WATCHDOG: 1, STATUS: v.status });
    } else {
      if (this.#watchdogMs !== null) this.withheld++;
      this.#notifier.send({ STATUS: v.status });
    }
  }

  #setTimer(fn: () => void, ms: number): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = setInterval(fn, ms);
    this.#timer.unref();
  }

  /** Before the run is torn down: no ping after this. */
  stopping(why = 'stopping'): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#notifier.send({ STOPPING: 1, STATUS: why });
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#notifier.close();
  }
}
