/**
 * predictAndPublish: the orakle serving loop. For each message from `sub`: if it is OK, call
 * `predict(data, msg)` and publish the result with the input's timestamp (so consumers see
 * the sensor time the prediction belongs to); if it is not OK, publish an empty INVALID
 * message so downstream knows a step was missed instead of seeing silence. A throwing
 * predict publishes INVALID, then the error ends the loop (it is not swallowed).
 * Resolves when `signal` aborts or the subscriber's socket closes.
 */
import { ReflexError } from '../core/errors.js';
import { OrakleCodes, Status, type ArrayMessage, type FloatArray } from './message.js';
import type { ArrayPublisher } from './publisher.js';
import type { ArraySubscriber } from './subscriber.js';

export type PredictFn = (input: FloatArray, msg: ArrayMessage) => FloatArray | Promise<FloatArray>;

export interface PredictLoopStats {
  predicted: number;
  /** Inputs not OK, forwarded as INVALID. */
  invalidInputs: number;
}

export async function predictAndPublish(
  sub: ArraySubscriber,
  predict: PredictFn,
  pub: ArrayPublisher,
  opts: { signal?: AbortSignal } = {},
): Promise<PredictLoopStats> {
  const stats: PredictLoopStats = { predicted: 0, invalidInputs: 0 };
  const empty = pub.dtype === 'float32' ? new Float32Array(0) : new Float64Array(0);
  const signal = opts.signal;
  while (!signal?.aborted && !sub.socket.closed) {
    let msg: ArrayMessage | null;
    try {
      msg = await sub.receive(signal ? { signal } : {});
    } catch (err) {
      if ((err as ReflexError).code === OrakleCodes.aborted || sub.socket.closed) break;
      throw err;
    }
    if (msg === null) continue;
    if (msg.status !== Status.OK) {
      stats.invalidInputs++;
      await pub.publish(empty, { status: Status.INVALID, timestampMs: msg.timestampMs });
      continue;
    }
    let y: FloatArray;
    try {
      y = await predict(msg.data, msg);
    } catch (err) {
      await pub.publish(empty, { status: Status.INVALID, timestampMs: msg.timestampMs });
      throw new ReflexError(OrakleCodes.predict, `predictAndPublish: predict threw on input seq ${msg.seq}: ${(err as Error).message}`, { cause: err });
    }
    await pub.publish(y, { timestampMs: msg.timestampMs });
    stats.predicted++;
  }
  return stats;
}
