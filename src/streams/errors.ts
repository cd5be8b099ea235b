/**
 * Error codes of the stream building blocks. Bad arguments are ConfigErrors (the CLI maps
 * them to exit code 2); failures while streaming are ReflexErrors.
 */
import { ConfigError, ReflexError } from '../core/errors.js';

export const StreamCodes = {
  maxIter: 'E_STREAM_MAX_ITER',
  notSync: 'E_STREAM_NOT_SYNC',
  notIterable: 'E_STREAM_NOT_ITERABLE',
  emptyCycle: 'E_STREAM_EMPTY_CYCLE',
  notDescribed: 'E_STREAM_NOT_DESCRIBED',
  badSpec: 'E_STREAM_SPEC',
  emptyPool: 'E_MUX_EMPTY_POOL',
  weights: 'E_MUX_WEIGHTS',
  k: 'E_MUX_K',
  lam: 'E_MUX_LAM',
  mode: 'E_MUX_MODE',
  batchSize: 'E_BATCH_SIZE',
  batchKeys: 'E_BATCH_KEYS',
  batchShape: 'E_BATCH_SHAPE',
  batchType: 'E_BATCH_TYPE',
  batchPartial: 'E_BATCH_PARTIAL',
  tupleKeys: 'E_TUPLES_KEYS',
  frame: 'E_STREAM_FRAME',
  producer: 'E_STREAM_PRODUCER',
  workerExit: 'E_STREAM_WORKER_EXIT',
  workerStart: 'E_STREAM_WORKER_START',
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
