/** `reflex/orakle`: typed arrays over ZeroMQ with a status flag, and the serving patterns (docs/streams.md). */
export { decodeMessage, OrakleCodes, Status, type ArrayDtype, type ArrayMessage, type FloatArray, type StatusCode } from '../orakle/message.js';
export { ArrayPublisher, type ArrayPublisherOptions, type PublishOptions } from '../orakle/publisher.js';
export { ArraySubscriber, type ArraySubscriberOptions, type ReceiveOptions } from '../orakle/subscriber.js';
export { drainUntilInSync, lockstep, type LockstepOptions, type LockstepStats, type SyncOptions } from '../orakle/sync.js';
export { collectPairs, type CollectOptions, type PairedSet } from '../orakle/collect.js';
export { predictAndPublish, type PredictFn, type PredictLoopStats } from '../orakle/predict.js';
