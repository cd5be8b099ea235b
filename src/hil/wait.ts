/**
 * Waiting on events with a bound: every wait of a HIL step ends by the event, a timeout (the
 * step then fails saying what did not happen), or the run's abort signal.
 */
export class HilTimeout extends Error {}

/**
 * Resolves with what `attach`'s callback passes to `done`, or rejects with HilTimeout after
 * `ms`, or with the abort reason. `attach` returns its detach function.
 */
export function within<T>(ms: number, signal: AbortSignal, attach: (done: (v: T) => void) => () => void, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let detach: () => void = () => undefined;
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      detach();
    };
    const onAbort = (): void => {
      finish();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new HilTimeout(`${what} did not happen within ${Math.round(ms)} ms`));
    }, ms);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    detach = attach((v) => {
      if (settled) return;
      settled = true;
      finish();
      resolve(v);
    });
    if (settled) detach();
  });
}

/** A pause that the run's abort signal cuts short (dwell between loopback steps, settling). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    return undefined;
  });
}
