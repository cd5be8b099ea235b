/**
 * collectPairs: build a paired data set from two sources in lock-step (one X message and one
 * Y message per row), e.g. EMG features and tracker positions for training. Rows come from
 * OK steps only; with `maxSkewMs`, a pair whose timestamps differ by more is dropped and
 * counted. Every X must have the first X's length, likewise for Y (E_ORAKLE_SHAPE).
 * X and Y are allocated once, n rows each, with the first message's dtype.
 */
import { ConfigError, ReflexError } from '../core/errors.js';
import { OrakleCodes, type FloatArray } from './message.js';
import { lockstep, type LockstepStats } from './sync.js';
import type { ArraySubscriber } from './subscriber.js';

export interface CollectOptions {
  signal?: AbortSignal;
  /** Drop pairs whose timestamps differ by more than this, ms. */
  maxSkewMs?: number;
  /** Called after each row is stored with the number of rows so far (progress, early stop). */
  onRow?: (rows: number) => void;
}

export interface PairedSet {
  /** n rows of xWidth values, row-major. */
  X: FloatArray;
  Y: FloatArray;
  xShape: [number, number];
  yShape: [number, number];
  /** Rows filled: n, or fewer if the signal stopped collection early. */
  rows: number;
  /** Steps skipped because a message was not OK. */
  invalid: number;
  /** Pairs dropped for skew. */
  skewed: number;
}

export async function collectPairs(xSub: ArraySubscriber, ySub: ArraySubscriber, n: number, opts: CollectOptions = {}): Promise<PairedSet> {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(OrakleCodes.rows, `collectPairs: n must be an integer >= 1, got ${n}`);
  const stats: LockstepStats = { steps: 0, skipped: 0 };
  let X: FloatArray | null = null;
  let Y: FloatArray | null = null;
  let xw = 0;
  let yw = 0;
  let rows = 0;
  let skewed = 0;
  const steps = lockstep([xSub, ySub], opts.signal ? { signal: opts.signal } : {}, stats);
  try {
    for await (const [x, y] of steps) {
      if (X === null || Y === null) {
        xw = x!.data.length;
        yw = y!.data.length;
        X = x!.data instanceof Float32Array ? new Float32Array(n * xw) : new Float64Array(n * xw);
        Y = y!.data instanceof Float32Array ? new Float32Array(n * yw) : new Float64Array(n * yw);
      }
      if (x!.data.length !== xw || y!.data.length !== yw) {
        throw new ReflexError(
          OrakleCodes.shape,
          `collectPairs: row ${rows} has X ${x!.data.length} / Y ${y!.data.length} values, the first row had ${xw} / ${yw}`,
        );
      }
      if (opts.maxSkewMs !== undefined && Math.abs(x!.timestampMs - y!.timestampMs) > opts.maxSkewMs) {
        skewed++;
        continue;
      }
      X.set(x!.data, rows * xw);
      Y.set(y!.data, rows * yw);
      rows++;
      opts.onRow?.(rows);
      if (rows === n) break;
    }
  } finally {
    await steps.return();
  }
  return {
    X: X === null ? new Float32Array(0) : X.subarray(0, rows * xw),
    Y: Y === null ? new Float32Array(0) : Y.subarray(0, rows * yw),
    xShape: [rows, xw],
    yShape: [rows, yw],
    rows,
    invalid: stats.skipped,
    skewed,
  };
}
