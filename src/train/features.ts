/**
 * The feature pipeline `reflex train` uses unless told otherwise, and the one the default model
 * was trained with: band-pass, mains notch, envelope, decimation to 100 Hz.
 */
export const DEFAULT_PIPELINE: readonly Record<string, unknown>[] = Object.freeze([
  { unit: 'bandpass', low: 20, high: 450, order: 4 },
  { unit: 'notch', mains: 50, harmonics: 3 },
  { unit: 'envelope', method: 'lowpass', cutoff: 6, order: 2 },
  { unit: 'decimate', factor: 20 },
]);
