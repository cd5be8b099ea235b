import type { ProgramContext } from './context.js';
import { ProgramError } from './errors.js';
import type { Registers } from './registers.js';
import { ProgramRunner } from './runner.js';
import type { ProgramNode } from './types.js';

/**
 * The event loop `runner.run()` uses: step until done; when the program waits, sleep on its
 * clock until the deadline or until in-flight work settles, whichever comes first.
 */
export async function drive(runner: ProgramRunner, signal?: AbortSignal): Promise<Registers> {
  let sinceYield = 0;
  for (;;) {
    if (signal?.aborted) {
      runner.cancel();
      throw new ProgramError('E_PROGRAM_ABORTED', '', 'the run was aborted', { cause: signal.reason });
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
    if (r.until === null && !r.io) throw new ProgramError('E_PROGRAM_STATE', '', 'the program waits on nothing that can wake it');
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

/** Run `program` to the end; resolves with the final registers. */
export function run(program: ProgramNode, ctx: ProgramContext & { signal?: AbortSignal } = {}): Promise<Registers> {
  return new ProgramRunner(program, ctx).run(ctx.signal);
}
