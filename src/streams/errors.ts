/**
 * Error codes of the stream building blocks. Bad arguments are ConfigErrors (the CLI maps
 * them to exit code 2); failures while streaming are ReflexErrors.
 */
import { ConfigError, ReflexError } from '../core/errors.js';

export const StreamCodes = {
  /** maxIter is not a non-negative integer. */
  maxIter: 'E_STREAM_MAX_ITER',
  /** iterateSync() on an async generator or a source without iterateSync. */
  notSync: 'E_STREAM_NOT_SYNC',
  /** Something given as a stream (or returned by a Streamer's function) is not iterable. */
  notIterable: 'E_STREAM_NOT_ITERABLE',
  /** cycle(): a whole pass produced no items. */
  emptyCycle: 'E_STREAM_EMPTY_CYCLE',
  /** A Streamer without a module reference was sent to another process. */
  notDescribed: 'E_STREAM_NOT_DESCRIBED',
  /** A streamer spec or reference is malformed. */
  badSpec: 'E_STREAM_SPEC',
  /** A mux got no streamers. */
  emptyPool: 'E_MUX_EMPTY_POOL',
  /** Mux weights do not match the streamers or are not finite and >= 0 with a positive sum. */
  weights: 'E_MUX_WEIGHTS',
  /** StochasticMux k is not an integer >= 1. */
  k: 'E_MUX_K',
  /** StochasticMux lam is not a finite number > 0 or null. */
  lam: 'E_MUX_LAM',
  /** A mux mode is unknown. */
  mode: 'E_MUX_MODE',
  /** A batch size is not an integer >= 1. */
  batchSize: 'E_BATCH_SIZE',
  /** Batch items have different keys, or are empty records. */
  batchKeys: 'E_BATCH_KEYS',
  /** Batch items have arrays of different lengths. */
  batchShape: 'E_BATCH_SHAPE',
  /** A batch item or field has a different type than the first item's. */
  batchType: 'E_BATCH_TYPE',
  /** The partial option is unknown, or the stream ended mid-batch with partial "error". */
  batchPartial: 'E_BATCH_PARTIAL',
  /** tuples(): no keys, or an item is not a record with those keys. */
  tupleKeys: 'E_TUPLES_KEYS',
  /** A worker-stream message cannot be encoded or decoded. */
  frame: 'E_STREAM_FRAME',
  /** The producer side of a worker stream threw. */
  producer: 'E_STREAM_PRODUCER',
  /** The producer process of a worker stream exited before ending its stream. */
  workerExit: 'E_STREAM_WORKER_EXIT',
  /** A worker stream cannot bind its address. */
  workerStart: 'E_STREAM_WORKER_START',
  /** A worker stream's highWaterMark is not an integer >= 1. */
  hwm: 'E_STREAM_HWM',
  /** A worker stream's transport is neither "ipc" nor "tcp". */
  transport: 'E_STREAM_TRANSPORT',
} as const;

export function checkMaxIter(maxIter: number | undefined): number {
  if (maxIter === undefined) return Number.POSITIVE_INFINITY;
  if (!(maxIter >= 0) || (Number.isFinite(maxIter) && !Number.isInteger(maxIter))) {
    throw new ConfigError(StreamCodes.maxIter, `maxIter must be a non-negative integer or undefined, got ${maxIter}`);
  }
  return maxIter;
}

/** The producer side of a worker stream threw; `remoteCode` is its code when it had one. */
export class RemoteStreamError extends ReflexError {
  readonly remoteCode: string | undefined;
  readonly remoteName: string;
  readonly remoteStack: string | undefined;
  constructor(info: { code?: string | undefined; name: string; message: string; stack?: string | undefined }) {
    super(StreamCodes.producer, `stream producer failed: ${info.name}${info.code ? ` [${info.code}]` : ''}: ${info.message}`);
    this.remoteCode = info.code;
    this.remoteName = info.name;
    this.remoteStack = info.stack;
  }
}
