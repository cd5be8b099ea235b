/** Leaving the safe state, with the worker's answer: both a control "release" and arming at start-up wait for it. */
import type { ControlLoop } from './loop.js';

export type ReleaseOutcome = 'released' | 'tripped' | 'no answer';

/**
 * Ask the loop to leave the safe state and wait for its answer: `released`, `tripped` (it went
 * safe again first, e.g. on stale input or an e-stop), or `no answer` within `ms`. The worker
 * applies a release at its next cycle and publishes its safe flag before the event, so
 * `loop.safe` agrees with the outcome when this resolves.
 */
export function releaseAndWait(loop: Pick<ControlLoop, 'onSafetyEvent' | 'release'>, ms: number): Promise<ReleaseOutcome> {
  return new Promise((resolve) => {
    let off = (): void => {};
    const done = (o: ReleaseOutcome): void => {
      clearTimeout(timer);
      off();
      resolve(o);
    };
    const timer = setTimeout(() => done('no answer'), ms);
    off = loop.onSafetyEvent((e) => {
      if (e.reason === 'released') done('released');
      else if (e.entered) done('tripped');
    });
    loop.release();
  });
}
