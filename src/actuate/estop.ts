import type { GpioInputLine, Level } from '../hal/gpio.js';

/** Anything that can be e-stopped: the ControlLoop, or a wrapper around an ActuatorSet. */
export interface EstopTarget {
  estop(source: string): void;
}

/**
 * A hardware e-stop button on a GPIO input. The line's logical level is used (the
 * backend applies activeLow), and `activeLevel` (default 1) means "pressed". The input
 * is checked once at install, so a button already pressed at start holds the loop safe.
 * Returns a function that closes the line.
 */
export function watchEstopInput(line: GpioInputLine, target: EstopTarget, opts: { activeLevel?: Level; source?: string } = {}): () => void {
  const active = opts.activeLevel ?? 1;
  const source = opts.source ?? `gpio:${line.ref.chip}/${line.ref.line}`;
  line.watch((v) => {
    if (v === active) target.estop(source);
  });
  if (line.read() === active) target.estop(`${source} (pressed at start)`);
  return () => line.close();
}
