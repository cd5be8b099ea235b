/**
 * Watches one tracker feed for a run: whether it delivers (fresh, stale, or not yet), whether its
 * transport is up, and what its clock model says, as the `clock`, `health` and `status` reports
 * want them; and turns changes into run events, at most one per kind of change a second.
 *
 * Nothing here runs per sample but one time stamp; `check()` (the reporter's tick) does the rest.
 */
import { monotonicMs } from '../../time/monotonic.js';
import type { ClockState } from '../../time/clock-model.js';
import type { TrackerFeed, TrackerLinkEvent, TrackerTimeBase } from './types.js';

export interface TrackerMonitorOptions {
  /** The feed's stream name in telemetry, e.g. "tracker". */
  stream: string;
  /** Silence longer than this makes the feed stale, ms. Default 1000. */
  staleAfterMs?: number;
  /** At most one event about freshness, and one about the transport, per this interval, ms. Default 1000. */
  eventIntervalMs?: number;
  /** Host clock, ms. Default `monotonicMs`. */
  now?: () => number;
}

export type TrackerEventKind = 'tracker.stale' | 'tracker.fresh' | 'tracker.connect' | 'tracker.disconnect' | 'tracker.reconnect';

export interface TrackerEvent {
  kind: TrackerEventKind;
  level: 'info' | 'warn';
  message: string;
  data: Record<string, string | number | boolean>;
}

/** `waiting`: nothing delivered yet; `fresh`: delivering; `stale`: silent for longer than `staleAfterMs`. */
export type TrackerFreshness = 'waiting' | 'fresh' | 'stale';
/** `none`: the feed has no transport of its own (the bridge's TRACKER frames). */
export type TrackerLinkState = 'up' | 'down' | 'none';

/** The feed's clock mapping, in the `clock` topic's terms (docs/telemetry.md). */
export interface TrackerClockReport {
  state: ClockState;
  /** How the newest sample's time was mapped; `none` before the first sample. */
  time_base: TrackerTimeBase | 'none';
  offset_ms: number;
  drift_ppm: number;
  residual_ms: number;
  points: number;
}

export interface TrackerReport {
  feed: TrackerFreshness;
  /** ms since the newest sample arrived; NaN before the first. */
  silence_ms: number;
  link: TrackerLinkState;
  clock: TrackerClockReport;
}

export class TrackerMonitor {
  readonly stream: string;
  readonly #feed: TrackerFeed;
  readonly #emit: (e: TrackerEvent) => void;
  readonly #now: () => number;
  readonly #staleAfterMs: number;
  readonly #intervalMs: number;
  readonly #off: Array<() => void> = [];
  #lastSampleMs = Number.NaN;
  #firstCheckMs = Number.NaN;
  #fresh: TrackerFreshness = 'waiting';
  #freshAnnounced: TrackerFreshness = 'waiting';
  #freshAnnouncedAt = Number.NEGATIVE_INFINITY;
  #freshChanges = 0;
  #peers = 0;
  #link: TrackerLinkState;
  #linkAnnounced: TrackerLinkState = 'none';
  #linkAnnouncedAt = Number.NEGATIVE_INFINITY;
  #linkChanges = 0;
  #everUp = false;
  #lastAddress = '';
  readonly #counts = { stale: 0, reconnects: 0 };

  constructor(feed: TrackerFeed, opts: TrackerMonitorOptions, emit: (e: TrackerEvent) => void) {
    this.stream = opts.stream;
    this.#feed = feed;
    this.#emit = emit;
    this.#now = opts.now ?? monotonicMs;
    this.#staleAfterMs = opts.staleAfterMs ?? 1000;
    this.#intervalMs = opts.eventIntervalMs ?? 1000;
    if (!(this.#staleAfterMs > 0)) throw new RangeError('"staleAfterMs" must be > 0');
    if (!(this.#intervalMs >= 0)) throw new RangeError('"eventIntervalMs" must be >= 0');
    this.#off.push(
      feed.onSample(() => {
        this.#lastSampleMs = this.#now();
      }),
    );
    this.#link = feed.onLink ? 'down' : 'none';
    if (feed.onLink) this.#off.push(feed.onLink((e) => this.#onLink(e)));
  }

  /** Stop watching (the feed itself belongs to its owner). */
  close(): void {
    for (const off of this.#off.splice(0)) off();
  }

  /**
   * Compare the feed's silence against the limit and announce what changed (and any change an
   * earlier call had to hold back). The silence is counted from the first call, so start calling
   * when the feed is expected to deliver.
   */
  check(): void {
    const now = this.#now();
    if (Number.isNaN(this.#firstCheckMs)) this.#firstCheckMs = now;
    const since = Number.isNaN(this.#lastSampleMs) ? this.#firstCheckMs : this.#lastSampleMs;
    const state: TrackerFreshness = now - since > this.#staleAfterMs ? 'stale' : Number.isNaN(this.#lastSampleMs) ? 'waiting' : 'fresh';
    if (state !== this.#fresh) {
      if (state === 'stale') this.#counts.stale++;
      this.#fresh = state;
      this.#freshChanges++;
    }
    this.#announceFreshness(now);
    this.#announceLink(now);
  }

  /** The feed's counters, plus `stale` (times it went silent) and `reconnects` (transport back after a loss). */
  counters(): Record<string, number> {
    return { ...this.#feed.counters(), ...this.#counts };
  }

  report(): TrackerReport {
    const now = this.#now();
    return {
      feed: this.#fresh,
      silence_ms: Number.isNaN(this.#lastSampleMs) ? Number.NaN : now - this.#lastSampleMs,
      link: this.#link,
      clock: this.clock(),
    };
  }

  /**
   * The clock mapping of the newest sample. `stale` whenever the feed is not delivering, whatever
   * the model says (a bridge tracker's model is the EMG's, which stays locked while EMG flows).
   */
  clock(): TrackerClockReport {
    const base = this.#feed.timeBase();
    const st = this.#feed.clockStatus();
    const quiet = this.#fresh !== 'fresh';
    if (st && (base === 'device' || base === 'synthetic')) {
      return {
        state: quiet ? 'stale' : st.state,
        time_base: base,
        offset_ms: st.offsetMs,
        drift_ppm: st.driftPpm,
        residual_ms: st.residualMs,
        points: st.observations,
      };
    }
    if (base === 'host') {
      // Stamped on this clock already: the mapping is the identity, exactly.
      return { state: quiet ? 'stale' : 'locked', time_base: base, offset_ms: 0, drift_ppm: 0, residual_ms: 0, points: 0 };
    }
    if (base === 'arrival') {
      // The identity too, but the delivery jitter it carries is not known.
      return { state: quiet ? 'stale' : 'locked', time_base: base, offset_ms: 0, drift_ppm: 0, residual_ms: Number.NaN, points: 0 };
    }
    return { state: 'stale', time_base: base ?? 'none', offset_ms: Number.NaN, drift_ppm: Number.NaN, residual_ms: Number.NaN, points: 0 };
  }

  #onLink(e: TrackerLinkEvent): void {
    this.#lastAddress = e.address;
    // A bound feed may have several senders: it is up while any is connected.
    this.#peers = e.kind === 'connected' ? this.#peers + 1 : Math.max(0, this.#peers - 1);
    const state: TrackerLinkState = this.#peers > 0 ? 'up' : 'down';
    if (state !== this.#link) {
      if (state === 'up' && this.#everUp) this.#counts.reconnects++;
      if (state === 'up') this.#everUp = true;
      this.#link = state;
      this.#linkChanges++;
    }
    this.#announceLink(this.#now());
  }

  #announceFreshness(now: number): void {
    const state = this.#fresh;
    if (state === this.#freshAnnounced || state === 'waiting' || now - this.#freshAnnouncedAt < this.#intervalMs) return;
    const data: Record<string, string | number | boolean> = { stream: this.stream, changes: this.#freshChanges };
    const name = `tracker feed "${this.stream}"`;
    const also = this.#freshChanges > 1 ? ` (${this.#freshChanges} changes since the last report)` : '';
    if (state === 'stale') {
      const never = Number.isNaN(this.#lastSampleMs);
      const silence = now - (never ? this.#firstCheckMs : this.#lastSampleMs);
      data.silence_ms = Math.round(silence);
      data.never = never;
      this.#emit({
        kind: 'tracker.stale',
        level: 'warn',
        data,
        message: never
          ? `${name} stale: no samples since the run started ${Math.round(silence)} ms ago; check the sender and the endpoint${also}`
          : `${name} stale: no samples for ${Math.round(silence)} ms${also}`,
      });
    } else {
      data.first = this.#freshAnnounced === 'waiting';
      this.#emit({ kind: 'tracker.fresh', level: 'info', data, message: `${name} delivering${data.first ? '' : ' again'}${also}` });
    }
    this.#freshAnnounced = state;
    this.#freshAnnouncedAt = now;
    this.#freshChanges = 0;
  }

  #announceLink(now: number): void {
    const state = this.#link;
    if (state === this.#linkAnnounced || state === 'none' || now - this.#linkAnnouncedAt < this.#intervalMs) return;
    // Not connected yet is not a loss: a sender that never comes shows as a stale feed.
    if (state === 'down' && this.#linkAnnounced === 'none') return;
    const name = `tracker feed "${this.stream}"`;
    const data: Record<string, string | number | boolean> = { stream: this.stream, address: this.#lastAddress, changes: this.#linkChanges };
    const also = this.#linkChanges > 1 ? ` (${this.#linkChanges} changes since the last report)` : '';
    if (state === 'down') {
      this.#emit({
        kind: 'tracker.disconnect',
        level: 'warn',
        data,
        message: `${name} lost its sender ${this.#lastAddress}; waiting for it to come back${also}`,
      });
    } else if (this.#linkAnnounced === 'none') {
      this.#emit({ kind: 'tracker.connect', level: 'info', data, message: `${name} connected: ${this.#lastAddress}${also}` });
    } else {
      data.reconnects = this.#counts.reconnects;
      this.#emit({ kind: 'tracker.reconnect', level: 'info', data, message: `${name} reconnected: ${this.#lastAddress}${also}` });
    }
    this.#linkAnnounced = state;
    this.#linkAnnouncedAt = now;
    this.#linkChanges = 0;
  }
}
