/**
 * Continuity of a BridgeLink's sample stream across frames, connections and device
 * reboots: which device it is (boot_id), when the last block arrived, whether an outage
 * is pending; it reports the breaks as 'gap' and 'reset' events on the link.
 */
import type { EventEmitter } from 'node:events';
import type { Counters } from '../../core/counters.js';
import type { SampleGap } from '../../bridge/decoder.js';
import type { BridgeLinkEvents, LinkCounterKey, LinkGap } from './link-types.js';
import { linkGap } from './link-util.js';

export class StreamContinuity {
  readonly #events: EventEmitter<BridgeLinkEvents>;
  readonly #counters: Counters<LinkCounterKey>;
  readonly #now: () => number;
  #bootId: number | null = null;
  #everStreamed = false;
  #lastBlockMs = Number.NaN;
  #outagePending = false;
  #outageFromMs = Number.NaN;
  #resetDuringOutage = false;

  constructor(events: EventEmitter<BridgeLinkEvents>, counters: Counters<LinkCounterKey>, now: () => number) {
    this.#events = events;
    this.#counters = counters;
    this.#now = now;
  }

  /** boot_id of the last HELLO, null before the first. */
  get bootId(): number | null {
    return this.#bootId;
  }

  /** A connection started streaming: from now on a lost one is an outage. */
  streamed(): void {
    this.#everStreamed = true;
  }

  /** The handshake's HELLO: a new boot_id is a device reset, which the outage gap will carry. */
  identify(bootId: number): void {
    if (this.#bootId !== null && bootId !== this.#bootId) {
      this.#counters.inc('device_resets');
      this.#resetDuringOutage = true;
      this.#events.emit('reset', { cause: 'boot_id', previousBootId: this.#bootId, bootId });
    }
    this.#bootId = bootId;
  }

  /** A block arrived at host time `at`: closes a pending outage with its gap. */
  block(at: number): void {
    if (this.#outagePending) {
      this.#outagePending = false;
      this.#counters.inc('outages');
      this.#emitGap(linkGap('outage', this.#outageFromMs, at, this.#resetDuringOutage));
      this.#resetDuringOutage = false;
    }
    this.#lastBlockMs = at;
  }

  /** The decoder saw frames missing within a connection; `at` is the arrival of the block after them. */
  frameGap(g: SampleGap, at: number): void {
    this.#emitGap({ ...linkGap('frames', this.#lastBlockMs, at, false), ...g });
  }

  /** The device restarted its stream on its own (seq back to 0 without our START). */
  restart(at: number): void {
    const boot = this.#bootId ?? 0;
    this.#counters.inc('device_resets');
    this.#events.emit('reset', { cause: 'seq_restart', previousBootId: boot, bootId: boot });
    this.#emitGap(linkGap('restart', this.#lastBlockMs, at, true));
  }

  /** The connection ended: an outage starts at the last block (or now), once. */
  lost(): void {
    if (this.#everStreamed && !this.#outagePending) {
      this.#outagePending = true;
      this.#outageFromMs = Number.isFinite(this.#lastBlockMs) ? this.#lastBlockMs : this.#now();
    }
  }

  /** A deliberate stop is not an outage to report after a later start(). */
  forgetOutage(): void {
    this.#outagePending = false;
  }

  #emitGap(g: LinkGap): void {
    this.#counters.inc('gaps');
    this.#events.emit('gap', g);
  }
}
