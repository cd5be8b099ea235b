/**
 * Bookkeeping for BridgeLink: commands waiting for their ACK/ERROR by req_id, and PINGs
 * waiting for their PONG by ping_id. Pure state plus injected timers, no I/O.
 */
import { LOOP_REQ_ID_BASE } from '../../bridge/req-ids.js';
import type { LinkTimers } from './link-types.js';

interface Waiting {
  type: number;
  label: string;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: unknown;
}

export class ReplyTable {
  readonly #t: LinkTimers;
  readonly #waiting = new Map<number, Waiting>();
  #reqId = 0;

  constructor(timers: LinkTimers) {
    this.#t = timers;
  }

  /**
   * The next free req_id: increments, wraps below LOOP_REQ_ID_BASE (the range above is the
   * control loop's, and 0xFFFF marks unsolicited ERRORs).
   */
  nextReqId(): number {
    do this.#reqId = (this.#reqId + 1) % LOOP_REQ_ID_BASE;
    while (this.#waiting.has(this.#reqId));
    return this.#reqId;
  }

  /**
   * Wait for the reply to command `type` sent with `reqId`. Resolves on ACK, rejects on
   * ERROR (through `fail`) or with `onTimeout()`'s error after `timeoutMs`.
   */
  expect(reqId: number, type: number, label: string, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = {
        type,
        label,
        resolve,
        reject,
        timer: this.#t.setTimeout(() => {
          if (this.#waiting.get(reqId) !== entry) return;
          this.#waiting.delete(reqId);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.#waiting.set(reqId, entry);
    });
  }

  /** The command waiting under `reqId`, for error messages and matching. */
  get(reqId: number): { type: number; label: string } | undefined {
    return this.#waiting.get(reqId);
  }

  /** ACK: true if it matched a waiting command of that type. */
  ack(reqId: number, commandType: number): boolean {
    const w = this.#waiting.get(reqId);
    if (!w || w.type !== commandType) return false;
    this.#finish(reqId, w, null);
    return true;
  }

  /** Reject the command waiting under `reqId`; false if none. */
  fail(reqId: number, err: Error): boolean {
    const w = this.#waiting.get(reqId);
    if (!w) return false;
    this.#finish(reqId, w, err);
    return true;
  }

  /** Reject everything waiting (the connection ended). */
  failAll(err: Error): void {
    for (const [id, w] of this.#waiting) this.#finish(id, w, err);
  }

  #finish(reqId: number, w: Waiting, err: Error | null): void {
    this.#waiting.delete(reqId);
    this.#t.clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve();
  }
}

const PING_SLOTS = 16;

/** PINGs in flight, by ping_id modulo 16: a late PONG still finds its own send time. */
export class PingBook {
  #id = 0;
  readonly #ids = new Float64Array(PING_SLOTS).fill(-1);
  readonly #sendMs = new Float64Array(PING_SLOTS);

  /** Record a PING sent at `sendMs`; returns its ping_id. */
  next(sendMs: number): number {
    const id = (this.#id = (this.#id + 1) >>> 0);
    this.#ids[id % PING_SLOTS] = id;
    this.#sendMs[id % PING_SLOTS] = sendMs;
    return id;
  }

  /** The send time of PING `id`, once (NaN if unknown or already answered). */
  take(id: number): number {
    const slot = id % PING_SLOTS;
    if (this.#ids[slot] !== id) return Number.NaN;
    this.#ids[slot] = -1;
    return this.#sendMs[slot]!;
  }
}
