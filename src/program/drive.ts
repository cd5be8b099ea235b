import type { Clock } from './clock.js';
import { ProgramCodes, ProgramError } from './errors.js';
import type { Registers } from './registers.js';
import type { StepResult } from './types.js';

/**
 * What `drive` needs of a runner: `ProgramRunner` has it. Spelt out here rather than imported
 * so runner.ts (whose `run()` calls `drive`) and this file do not import each other.
 */
export interface Drivable {
  readonly registers: Registers;
  readonly clock: Clock;
  step(): StepResult;
  /** Settles when in-flight work (async CALL, POPEN, SPAWN) changes state. */
  settled(): Promise<unknown>;
  cancel(): void;
}

/**
 * The event loop `runner.run()` uses: step until done; when the program waits, sleep on its
 * clock until the deadline or until in-flight work settles, whichever comes first.
 */
export async function drive(runner: Drivable, signal?: AbortSignal): Promise<Registers> {
  let sinceYield = 0;
  for (;;) {
    if (signal?.aborted) {
      runner.cancel();
      throw new ProgramError(ProgramCodes.aborted, '', 'the run was aborted', { cause: signal.reason });
    }
    const r = runner.step();
    if (r.status === 'done') return runner.registers;
    if (r.status === 'running') {
      // Let timers and I/O in between long runs of synchronous steps.
      if (++sinceYield >= 1000) {
        sinceYield = 0;
        await new Promise((res) => setImmediate(res));
      }
      continue;
    }
    if (r.until === null && !r.io) throw new ProgramError(ProgramCodes.state, '', 'the program waits on nothing that can wake it');
    const cancel = new AbortController();
    const onAbort = () => cancel.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const waits: Promise<unknown>[] = [];
    if (r.until !== null) {
      waits.push(
        runner.clock.sleepUntil(r.until, cancel.signal).catch((err: unknown) => {
          if (!cancel.signal.aborted) throw err; // otherwise ours: the other wait won or the run is aborting
        }),
      );
    }
    if (r.io) waits.push(runner.settled());
    try {
      await Promise.race(waits);
    } finally {
      cancel.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
