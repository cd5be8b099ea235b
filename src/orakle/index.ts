/**
 * orakle's four patterns over ZeroMQ, typed: publish/subscribe arrays with a status flag
 * (ArrayPublisher / ArraySubscriber), drainUntilInSync, lockstep / collectPairs, and
 * predictAndPublish. See docs/streams.md.
 */
export { Status, OrakleCodes, decodeMessage, type ArrayMessage, type ArrayDtype, type FloatArray, type StatusCode } from './message.js';
export { ArrayPublisher, type ArrayPublisherOptions, type PublishOptions } from './publisher.js';
export { ArraySubscriber, type ArraySubscriberOptions, type ReceiveOptions } from './subscriber.js';
export { drainUntilInSync, lockstep, type LockstepOptions, type LockstepStats, type SyncOptions } from './sync.js';
export { collectPairs, type CollectOptions, type PairedSet } from './collect.js';
export { predictAndPublish, type PredictFn, type PredictLoopStats } from './predict.js';
