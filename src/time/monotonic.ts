/**
 * The host's one clock: CLOCK_MONOTONIC in milliseconds (float64, sub-microsecond resolution).
 *
 * `performance.now()` is cheap and allocation-free but has a per-process origin;
 * `process.hrtime.bigint()` is CLOCK_MONOTONIC itself (same clock the host firmware and
 * any other process on this machine see) but allocates a BigInt. We take the offset
 * between them once, so every later reading is cheap and still comparable across processes.
 */
const originMs = calibrate();

/**
 * Bracket performance.now() between two hrtime readings and keep the tightest bracket:
 * the first calls are slow (lazy initialisation), which would otherwise skew the offset by ~1 ms.
 */
function calibrate(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 50; i++) {
    const a = process.hrtime.bigint();
    const p = performance.now();
    const b = process.hrtime.bigint();
    const width = Number(b - a);
    if (width < best) {
      best = width;
      offset = (Number(a) + width / 2) / 1e6 - p;
    }
  }
  return offset;
}

export function monotonicMs(): number {
  return performance.now() + originMs;
}
