/**
 * The timers of a streaming BridgeLink connection: the stall check (no bytes for
 * stallMs ends the connection) and the PING every pingIntervalMs (clock sync, and the
 * device's own watchdog). Both run on the injected LinkTimers and stop by themselves
 * once their connection generation is no longer the current one.
 */
import type { Counters } from '../../core/counters.js';
import { ReflexError } from '../../core/errors.js';
import { BridgeErrorCodes } from '../../bridge/errors.js';
import type { BridgeCommander } from './commander.js';
import type { LinkCounterKey, LinkTimers } from './link-types.js';
import type { PingBook } from './replies.js';

export interface WatchdogOptions {
  path: string;
  stallMs: number;
  pingIntervalMs: number;
}

/** What the watchdog needs from its link. */
export interface WatchdogHost {
  readonly timers: LinkTimers;
  readonly now: () => number;
  readonly counters: Counters<LinkCounterKey>;
  readonly cmd: BridgeCommander;
  readonly pings: PingBook;
  /** Whether connection `gen` is still the current one. */
  isCurrent(gen: number): boolean;
  /** End the current connection with `err`. */
  lost(err: ReflexError): void;
}

export class LinkWatchdog {
  /** Host time of the last byte received (or of the connection's start, or of its streaming). */
  lastByteMs = 0;
  readonly #o: WatchdogOptions;
  readonly #h: WatchdogHost;

  constructor(opts: WatchdogOptions, host: WatchdogHost) {
    this.#o = opts;
    this.#h = host;
  }

  /** Connection `gen` started streaming at `sinceMs`: silence counts from there. */
  arm(gen: number, sinceMs: number): void {
    // Silence is a stall only once streaming: before that, HELLO and command timeouts rule.
    this.lastByteMs = sinceMs;
    this.#armStall(gen);
    this.#armPing(gen);
  }

  #armStall(gen: number): void {
    const h = this.#h;
    const period = Math.max(1, Math.min(250, this.#o.stallMs / 4));
    const check = (): void => {
      if (!h.isCurrent(gen)) return;
      const silent = h.now() - this.lastByteMs;
      if (silent > this.#o.stallMs) {
        h.counters.inc('stalls');
        h.lost(
          new ReflexError(
            BridgeErrorCodes.stall,
            `no bytes from ${this.#o.path} for ${Math.round(silent)} ms (stall timeout ${this.#o.stallMs} ms): reconnecting`,
          ),
        );
        return;
      }
      h.timers.setTimeout(check, period);
    };
    h.timers.setTimeout(check, period);
  }

  #armPing(gen: number): void {
    if (this.#o.pingIntervalMs <= 0) return;
    const h = this.#h;
    const tick = (): void => {
      if (!h.isCurrent(gen)) return;
      const sendMs = h.now();
      const id = h.pings.next(sendMs);
      h.counters.inc('pings');
      // The host token carries the send time in µs, as the protocol suggests; matching uses ping_id.
      h.cmd
        .write(h.cmd.writer.ping(id, Math.max(0, Math.round(sendMs * 1000))).slice())
        .catch(() => undefined /* counted in BridgeCommander.write; the close handler reconnects */);
      h.timers.setTimeout(tick, this.#o.pingIntervalMs);
    };
    tick();
  }
}
