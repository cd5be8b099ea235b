/** The loop tests' rig: two simulated servos driven by outputs `a` and `b` (safe at the offsets the mapping adds), and a loop driving them. */
import type { ActuatorDef } from '../src/boards/types.js';
import type { PredictorSpec } from '../src/loop/messages.js';
import type { ControlLoopOptions } from '../src/loop/options.js';
import type { WatchdogOptions } from '../src/loop/watchdog.js';

/** wrist (safe 1500 us) and grip (safe 1000 us), 1000..2000 us, slew fast enough never to limit a test. */
export const servoDefs: ActuatorDef[] = [
  { name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e6, safe: 1500, unit: 'us' },
  { name: 'grip', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e6, safe: 1000, unit: 'us' },
];

/** Output a -> wrist at 1500 + a, output b -> grip at 1000 + b. */
export const servoMapping = [
  { actuator: 'wrist', output: 'a', scale: 1, offset: 1500 },
  { actuator: 'grip', output: 'b', scale: 1, offset: 1000 },
];

/** A loop at 1 kHz (skip policy) running `predictor` into the two servos, armed from the start. */
export function servoLoopOptions(predictor: PredictorSpec, watchdog: WatchdogOptions): ControlLoopOptions {
  return { schedule: { rateHz: 1000, policy: 'skip' }, watchdog, predictor, actuators: servoDefs, mapping: servoMapping, startArmed: true };
}
