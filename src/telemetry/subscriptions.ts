/**
 * The publisher's view of who subscribes: reads XPUB subscription messages, counts
 * subscribers per prefix, and resolves waiters (so callers can avoid ZeroMQ's slow-joiner
 * loss).
 *
 * Why polled on a timer and not a receive() left waiting: zeromq.js re-checks a waiting
 * receive after every send on the socket (ZMQ_EVENTS), which made each publish() about 6x
 * dearer (4 us more per message, measured here); polling costs a few microseconds every
 * POLL_MS. The socket must have receiveTimeout 0 so receive() returns at once.
 */
import type { XPublisher } from 'zeromq';
import { ReflexError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { TelemetryCodes } from './codes.js';

/** How often queued subscription messages are read, ms. */
const POLL_MS = 10;

interface Waiter {
  prefix: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class SubscriptionWatcher {
  readonly #subs = new Map<string, number>();
  #waiters: Waiter[] = [];
  #socket: XPublisher | undefined;
  #drain: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #errors = 0;
  readonly #log: Logger;
  /** Called with the prefix of every new subscription. */
  readonly #onSubscribe: (prefix: string) => void;

  constructor(log: Logger, onSubscribe: (prefix: string) => void) {
    this.#log = log;
    this.#onSubscribe = onSubscribe;
  }

  /** Errors reading subscriptions (other than "none queued"). */
  get errors(): number {
    return this.#errors;
  }

  start(socket: XPublisher): void {
    this.#socket = socket;
    this.#timer = setInterval(() => this.#poll(), POLL_MS);
    this.#refTimer();
    this.#poll();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const w of this.#waiters.splice(0)) w.reject(new ReflexError(TelemetryCodes.closed, 'publisher closed before the subscription arrived'));
    await this.#drain;
  }

  /** Active subscriptions: prefix -> number of subscribers (a subscriber to everything has prefix ""). */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#subs);
  }

  /** Resolves when a subscriber subscribes to exactly `prefix`, or at once if one has. */
  waitFor(prefix: string, signal?: AbortSignal): Promise<void> {
    if ((this.#subs.get(prefix) ?? 0) > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new ReflexError(TelemetryCodes.closed, 'publisher closed'));
      const w = { prefix, resolve, reject };
      this.#waiters.push(w);
      this.#refTimer();
      signal?.addEventListener(
        'abort',
        () => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          this.#refTimer();
          const r: unknown = signal.reason;
          reject(r instanceof Error ? r : new ReflexError(TelemetryCodes.aborted, `stopped waiting for a subscription to "${prefix}"`, { cause: r }));
        },
        { once: true },
      );
    });
  }

  #poll(): void {
    const socket = this.#socket;
    if (socket) this.#drain ??= this.#drainAll(socket).finally(() => (this.#drain = undefined));
  }

  /** Read every subscription message queued on the socket, then return (EAGAIN: none left). */
  async #drainAll(socket: XPublisher): Promise<void> {
    for (;;) {
      let msg: Buffer | undefined;
      try {
        [msg] = await socket.receive();
      } catch (err) {
        if (socket.closed || (err as { code?: string }).code === 'EAGAIN') return;
        this.#errors++;
        this.#log.limited('error', 'telemetry.subscriptions', `telemetry cannot read subscriptions: ${(err as Error).message}`);
        return;
      }
      if (msg) this.#handle(msg);
    }
  }

  #handle(msg: Buffer): void {
    if (msg.length === 0 || msg[0]! > 1) return;
    const prefix = msg.subarray(1).toString();
    const n = (this.#subs.get(prefix) ?? 0) + (msg[0] === 1 ? 1 : -1);
    if (n > 0) this.#subs.set(prefix, n);
    else this.#subs.delete(prefix);
    if (msg[0] !== 1) return;
    this.#onSubscribe(prefix);
    this.#waiters = this.#waiters.filter((w) => {
      if (w.prefix !== prefix) return true;
      w.resolve();
      return false;
    });
    this.#refTimer();
  }

  /** Keep the process alive only while someone waits for a subscription. */
  #refTimer(): void {
    if (this.#waiters.length > 0) this.#timer?.ref();
    else this.#timer?.unref();
  }
}
