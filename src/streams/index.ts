/** Stream building blocks (pescador's ideas, typed): see docs/streams.md. */
export type { JsonValue, NumericRecord, Source, SyncSource, TypedArray } from './types.js';
export { RemoteStreamError, StreamCodes } from './errors.js';
export { Rng, logFactorial } from './rng.js';
export { Streamer, type GeneratorFn, type StreamerRef, type StreamerSpec } from './streamer.js';
export { Batcher, batch, batchSync, buffer, type Batchable, type Batched, type BatchOptions } from './batch.js';
export { tuples, tuplesSync, type TupleOf } from './tuples.js';
export { Mux } from './mux-core.js';
export { StochasticMux, type StochasticMode, type StochasticMuxOptions } from './mux-stochastic.js';
export { ShuffledMux, type ShuffledMuxOptions } from './mux-shuffled.js';
export { RoundRobinMux, type RoundRobinMode, type RoundRobinMuxOptions } from './mux-roundrobin.js';
export { ChainMux, type ChainMode, type ChainMuxOptions } from './mux-chain.js';
export { ZmqStreamer, ZmqStreamIterator, type ZmqStreamOptions, type ZmqStreamStats } from './zmq-stream.js';
export type { Shaped, WireItem, WireScalar, WireValue } from './zmq-codec.js';
