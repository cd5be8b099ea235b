import type { Logger } from '../core/log.js';

/** What the process guard puts in the safe state: a ControlLoop, or an ActuatorSet wrapped. */
export interface SafeTarget {
  enterSafe(reason: 'signal' | 'uncaught' | 'stopped', detail: string): void;
}

export interface GuardOptions {
  log?: Logger;
  /**
   * After putting everything safe on SIGINT/SIGTERM, re-raise the signal if no other
   * listener handles it (default true), so the process still exits the normal way.
   * The CLI's own listeners (its AbortSignal) count as handlers.
   */
  reraise?: boolean;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Put every target in the safe state on SIGINT/SIGTERM, on an uncaught exception or
 * unhandled rejection (via 'uncaughtExceptionMonitor', which runs before Node's own
 * handling and does not change it) and at exit. Synchronous throughout: the
 * actuators are safe before the process can die. Returns an uninstaller.
 */
export function installSafetyHandlers(targets: () => readonly SafeTarget[], opts: GuardOptions = {}): () => void {
  const safeAll = (reason: 'signal' | 'uncaught' | 'stopped', detail: string): void => {
    for (const t of targets()) {
      try {
        t.enterSafe(reason, detail);
      } catch (err) {
        // Keep going: the next target must still be made safe. The failure is reported, not swallowed.
        opts.log?.error(`safety guard: ${detail}: could not make a target safe: ${(err as Error).message}`);
        process.stderr.write(`reflex: could not make actuators safe on ${detail}: ${(err as Error).message}\n`);
      }
    }
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    safeAll('signal', sig);
    opts.log?.warn(`${sig}: actuators put in the safe state`);
    if ((opts.reraise ?? true) && process.listenerCount(sig) === 1) {
      uninstall();
      process.kill(process.pid, sig);
    }
  };
  const onUncaught = (err: Error, origin: string): void => {
    safeAll('uncaught', `${origin}: ${err?.message ?? String(err)}`);
  };
  const onExit = (code: number): void => {
    safeAll(code === 0 ? 'stopped' : 'uncaught', `process exit (code ${code})`);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('uncaughtExceptionMonitor', onUncaught);
  process.on('exit', onExit);
  let installed = true;
  function uninstall(): void {
    if (!installed) return;
    installed = false;
    for (const s of SIGNALS) process.off(s, onSignal);
    process.off('uncaughtExceptionMonitor', onUncaught);
    process.off('exit', onExit);
  }
  return uninstall;
}
