/** `reflex/streams`: Streamer, batching, the muxes and ZeroMQ worker streams (docs/streams.md). */
export type { JsonValue, NumericRecord, Source, SyncSource, TypedArray } from '../streams/types.js';
export { RemoteStreamError, StreamCodes } from '../streams/errors.js';
export { logFactorial, Rng } from '../streams/rng.js';
export { Streamer, type GeneratorFn, type StreamerRef, type StreamerSpec } from '../streams/streamer.js';
export { batch, Batcher, batchSync, buffer, type Batchable, type Batched, type BatchOptions } from '../streams/batch.js';
export { tuples, tuplesSync, type TupleOf } from '../streams/tuples.js';
export { Mux } from '../streams/mux-core.js';
export { StochasticMux, type StochasticMode, type StochasticMuxOptions } from '../streams/mux-stochastic.js';
export { ShuffledMux, type ShuffledMuxOptions } from '../streams/mux-shuffled.js';
export { RoundRobinMux, type RoundRobinMode, type RoundRobinMuxOptions } from '../streams/mux-roundrobin.js';
export { ChainMux, type ChainMode, type ChainMuxOptions } from '../streams/mux-chain.js';
export { ZmqStreamer, ZmqStreamIterator, type ZmqStreamOptions, type ZmqStreamStats } from '../streams/zmq-stream.js';
export type { Shaped, WireItem, WireScalar, WireValue } from '../streams/zmq-codec.js';
