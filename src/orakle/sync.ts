/**
 * orakle's synchronisation patterns over several subscribers.
 *
 * drainUntilInSync: wait until every source has sent at least once, then keep taking what is
 * queued until no socket has anything pending and the sources' latest timestamps lie within
 * `toleranceMs` of each other (orakle's sync_subscriptions, plus the tolerance check). Sources
 * behind the newest one are waited on, one message at a time.
 *
 * lockstep: one message from each source per step, in subscriber order (orakle's
 * sync_receive). A step with any message not OK is skipped and counted (skipInvalid, the
 * default) or yielded as is.
 */
import { ConfigError, ReflexError } from '../core/errors.js';
import { OrakleCodes, Status, type ArrayMessage } from './message.js';
import { aborted, type ArraySubscriber } from './subscriber.js';

export interface SyncOptions {
  /** Give up after this long (E_ORAKLE_TIMEOUT). Default 10000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Returns the latest message of each subscriber once they are in sync. */
export async function drainUntilInSync(subscribers: readonly ArraySubscriber[], toleranceMs: number, opts: SyncOptions = {}): Promise<ArrayMessage[]> {
  if (subscribers.length === 0) throw new ConfigError(OrakleCodes.empty, 'drainUntilInSync: give at least one subscriber');
  if (!(toleranceMs >= 0)) throw new ConfigError(OrakleCodes.tolerance, `drainUntilInSync: tolerance must be >= 0 ms, got ${toleranceMs}`);
  const deadline = performance.now() + (opts.timeoutMs ?? 10_000);
  const latest = new Array<ArrayMessage>(subscribers.length);
  const wait = async (i: number): Promise<void> => {
    const left = deadline - performance.now();
    if (opts.signal?.aborted) throw aborted(opts.signal);
    const m = left > 0 ? await subscribers[i]!.receive({ timeoutMs: left, ...(opts.signal ? { signal: opts.signal } : {}) }) : null;
    if (m === null) {
      throw new ReflexError(
        OrakleCodes.timeout,
        `drainUntilInSync: source "${subscribers[i]!.topic}" sent nothing in time; is its publisher running and connected?`,
      );
    }
    latest[i] = m;
  };
  for (let i = 0; i < subscribers.length; i++) await wait(i);
  for (;;) {
    let got = true;
    while (got) {
      got = false;
      for (let i = 0; i < subscribers.length; i++) {
        const m = await subscribers[i]!.receive({ timeoutMs: 0 });
        if (m !== null) {
          latest[i] = m;
          got = true;
        }
      }
    }
    let newest = Number.NEGATIVE_INFINITY;
    for (const m of latest) if (m.timestampMs > newest) newest = m.timestampMs;
    let behind = -1;
    for (let i = 0; i < latest.length; i++) if (newest - latest[i]!.timestampMs > toleranceMs) behind = i;
    if (behind < 0) return latest;
    await wait(behind);
  }
}

export interface LockstepOptions {
  /** Skip (and count in `stats.skipped`) steps where a message is not OK. Default true. */
  skipInvalid?: boolean;
  signal?: AbortSignal;
}

export interface LockstepStats {
  steps: number;
  skipped: number;
}

/** One message from each subscriber per step. Ends when the signal aborts (no error) or a socket closes. */
export async function* lockstep(
  subscribers: readonly ArraySubscriber[],
  opts: LockstepOptions = {},
  stats: LockstepStats = { steps: 0, skipped: 0 },
): AsyncGenerator<ArrayMessage[], void, undefined> {
  if (subscribers.length === 0) throw new ConfigError(OrakleCodes.empty, 'lockstep: give at least one subscriber');
  const skip = opts.skipInvalid ?? true;
  for (;;) {
    const step = new Array<ArrayMessage>(subscribers.length);
    let ok = true;
    for (let i = 0; i < subscribers.length; i++) {
      const sub = subscribers[i]!;
      let m: ArrayMessage | null;
      try {
        m = await sub.receive(opts.signal ? { signal: opts.signal } : {});
      } catch (err) {
        if ((err as ReflexError).code === OrakleCodes.aborted || sub.socket.closed) return;
        throw err;
      }
      if (m === null) return;
      step[i] = m;
      if (m.status !== Status.OK) ok = false;
    }
    if (!ok && skip) {
      stats.skipped++;
      continue;
    }
    stats.steps++;
    yield step;
  }
}
