import test from 'ava';
import fc from 'fast-check';
import { createBlock, type SampleBlock } from '../src/core/block.js';
import { buildPipeline, buildUnit, runChunks, splitBlock, type UnitSpec } from '../src/units/index.js';

/** Deterministic EMG-like test signal: sines, a DC offset, bursts and xorshift noise. */
function signal(channels: number, samples: number, rate: number, seed: number): SampleBlock {
  const b = createBlock({ stream: 'emg', channels, samples, rate });
  let s = seed | 1;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < samples; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const noise = (s >>> 0) / 2 ** 32 - 0.5;
      const t = i / rate;
      const burst = Math.floor(i / 97) % 3 === 0 ? 40 : 2;
      b.data[c * samples + i] = 10 + c + 30 * Math.sin(2 * Math.PI * 50 * t) + burst * noise + 5 * Math.sin(2 * Math.PI * (7 + c) * t);
    }
  }
  b.firstSample = 1000;
  b.hostTimeMs = 5000;
  b.deviceTimeUs = 123_000;
  return b;
}

function sameBits(a: Float32Array, b: Float32Array): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return undefined;
}

/** Whole signal through one fresh unit vs random chunks through another: bit-identical rows. */
function invariance(name: string, specArb: fc.Arbitrary<UnitSpec[]>, runs = 40): void {
  test(`${name}: output is bit-identical whether fed whole or in random chunks`, (t) => {
    fc.assert(
      fc.property(
        specArb,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 700 }),
        fc.constantFrom(500, 1000, 2000),
        fc.integer(),
        fc.array(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 40 }),
        (specs, channels, samples, rate, seed, sizes) => {
          const input = signal(channels, samples, rate, seed);
          const whole = runChunks(buildPipeline(specs), [input]);
          const chunked = runChunks(buildPipeline(specs), splitBlock(input, sizes));
          if (whole.windows !== chunked.windows) return false;
          for (let c = 0; c < channels; c++) {
            const diff = sameBits(whole.rows[c]!, chunked.rows[c]!);
            if (diff) throw new Error(`channel ${c}: ${diff}`);
          }
          return true;
        },
      ),
      { numRuns: runs },
    );
    t.pass();
  });
}

const order = (min: number) => fc.integer({ min, max: 8 });
invariance(
  'bandpass',
  fc.tuple(fc.integer({ min: 5, max: 60 }), fc.integer({ min: 80, max: 240 }), order(2)).map(([low, high, o]) => [{ unit: 'bandpass', low, high, order: o }]),
);
invariance(
  'highpass',
  fc.tuple(fc.integer({ min: 1, max: 200 }), order(1)).map(([cutoff, o]) => [{ unit: 'highpass', cutoff, order: o }]),
);
invariance(
  'lowpass',
  fc.tuple(fc.integer({ min: 1, max: 200 }), order(1)).map(([cutoff, o]) => [{ unit: 'lowpass', cutoff, order: o }]),
);
invariance(
  'notch',
  fc
    .tuple(fc.constantFrom(50, 60), fc.integer({ min: 1, max: 6 }), fc.double({ min: 1, max: 60, noNaN: true }))
    .map(([mains, harmonics, q]) => [{ unit: 'notch', mains, harmonics, q }]),
);
invariance('rectify', fc.constant([{ unit: 'rectify' }]));
invariance(
  'rms',
  fc.integer({ min: 1, max: 120 }).map((length) => [{ unit: 'rms', length }]),
);
invariance(
  'envelope (lowpass)',
  fc.tuple(fc.integer({ min: 1, max: 40 }), order(1)).map(([cutoff, o]) => [{ unit: 'envelope', method: 'lowpass', cutoff, order: o }]),
);
invariance(
  'envelope (rms)',
  fc.integer({ min: 1, max: 120 }).map((length) => [{ unit: 'envelope', method: 'rms', length }]),
);
invariance(
  'window',
  fc.tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 100 })).map(([length, hop]) => [{ unit: 'window', length, hop }]),
);
invariance(
  'decimate',
  fc.tuple(fc.integer({ min: 2, max: 10 }), order(1)).map(([factor, o]) => [{ unit: 'decimate', factor, order: o }]),
);
invariance(
  'normalize (fixed)',
  fc
    .tuple(fc.double({ min: -20, max: 20, noNaN: true }), fc.double({ min: 0.1, max: 50, noNaN: true }))
    .map(([mean, std]) => [{ unit: 'normalize', mode: 'fixed', mean, std }]),
);
invariance(
  'normalize (running)',
  fc.double({ min: 0.001, max: 2, noNaN: true }).map((tau) => [{ unit: 'normalize', mode: 'running', tau }]),
);
invariance(
  'composed pipeline',
  fc.constant([
    { unit: 'bandpass', low: 20, high: 200, order: 4 },
    { unit: 'notch', mains: 50, harmonics: 3 },
    { unit: 'envelope', method: 'rms', length: 25 },
    { unit: 'decimate', factor: 2 },
    { unit: 'normalize', mode: 'running', tau: 0.5 },
    { unit: 'window', length: 16, hop: 5 },
  ]),
  25,
);

test('chunk times line up with the whole-signal output (decimate and window)', (t) => {
  const input = signal(2, 503, 1000, 7);
  for (const spec of [
    { unit: 'decimate', factor: 3 },
    { unit: 'window', length: 20, hop: 7 },
  ]) {
    const whole = buildUnit(spec).process(input);
    const chunked = runChunks(buildUnit(spec), splitBlock(input, [1, 2, 50, 13, 0, 7, 100]));
    t.is(chunked.firstSamples[0], whole.firstSample, spec.unit);
    t.is(chunked.rate, whole.rate, spec.unit);
  }
});
