import test from 'ava';
import fc from 'fast-check';
import { OutputMap } from '../src/actuate/mapping.js';
import { SafetyLimiter } from '../src/actuate/safety.js';
import type { ActuatorDef } from '../src/boards/types.js';
import { ControlCore } from '../src/loop/core.js';

const defs: ActuatorDef[] = [
  { name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 4000, safe: 1500, unit: 'us' },
  { name: 'grip', kind: 'pwm', via: 'sim', min: 0, max: 0.8, slewPerS: 2, safe: 0, unit: 'duty' },
  { name: 'led', kind: 'digital', via: 'sim', min: 0, max: 1, slewPerS: Infinity, safe: 0, unit: 'bool' },
];

/** Anything a broken model could emit. */
const nasty = fc.oneof(
  fc.double({ noNaN: false }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -1e308, Number.MIN_VALUE, -0),
  fc.double({ min: -5000, max: 5000, noNaN: true }),
);

test('limiter: no target sequence yields an out-of-range or over-slew command; non-finite means safe', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.array(nasty, { minLength: 3, maxLength: 3 }), fc.double({ min: 0, max: 0.05, noNaN: true })), { minLength: 1, maxLength: 200 }),
      (steps) => {
        const lim = new SafetyLimiter(defs);
        const out = new Float64Array(3);
        const prev = Float64Array.from(lim.last);
        for (const [targets, dt] of steps) {
          const ok = lim.limit(targets, dt, out);
          const finite = targets.every(Number.isFinite);
          if (ok !== finite) return false;
          for (let i = 0; i < 3; i++) {
            const d = defs[i]!;
            const v = out[i]!;
            if (!(v >= d.min && v <= d.max)) return false;
            if (!ok) {
              if (v !== d.safe) return false;
            } else if (Math.abs(v - prev[i]!) > d.slewPerS * dt * (1 + 1e-12) + 1e-9) return false;
            prev[i] = v;
          }
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});

test("control core on adversarial predictor output: every cycle's commands are in range, slew-limited, or safe", (t) => {
  const period = 1; // ms
  fc.assert(
    fc.property(
      fc.array(fc.array(nasty, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 150 }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      (outs, scale) => {
        let i = 0;
        const predictor = {
          inputSize: 1,
          outputSize: 2,
          predict: (_x: Float32Array, y: Float32Array) => {
            y[0] = outs[i]![0]!;
            y[1] = outs[i]![1]!;
          },
        };
        const map = new OutputMap(
          [
            { actuator: 'wrist', output: 'a', scale, offset: 1500 },
            { actuator: 'grip', output: 'b' },
            { actuator: 'led', output: 'a' },
          ],
          defs,
          ['a', 'b'],
        );
        const core = new ControlCore({
          predictor,
          map,
          limiter: new SafetyLimiter(defs),
          watchdog: { staleMs: 50, overrunStreak: 3 },
          startArmed: true,
          onEvent: () => {},
        });
        const prev = defs.map((d) => d.safe);
        let wasSafe = false;
        for (i = 0; i < outs.length; i++) {
          const now = 1000 + i * period;
          core.cycle(i + 1, now, period / 1000, true, now);
          const bad = outs[i]!.some((v) => !Number.isFinite(v));
          if (bad && !core.safe) return false;
          for (let k = 0; k < 3; k++) {
            const d = defs[k]!;
            const v = core.commands[k]!;
            if (!(v >= d.min && v <= d.max)) return false;
            if (core.safe) {
              if (v !== d.safe) return false;
            } else if (!wasSafe && Math.abs(v - prev[k]!) > d.slewPerS * (period / 1000) * (1 + 1e-12) + 1e-9) return false;
            prev[k] = v;
          }
          wasSafe = core.safe;
        }
        // NaN/Inf are counted, never passed on.
        const nonFinite = outs.some((o) => o.some((v) => !Number.isFinite(v)));
        return !nonFinite || core.counts.nonFinite >= 1;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
