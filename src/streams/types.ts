/**
 * Shared shapes of the stream building blocks.
 *
 * A *source* is anything that can start a fresh pass over its items on demand
 * (`iterate`), which is what lets muxes restart, bound and cycle it. Plain
 * iterables are one pass; sources are many.
 */

export type TypedArray = Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** A record of named arrays (and scalar numbers, e.g. labels): the usual training item. */
export type NumericRecord = { readonly [key: string]: TypedArray | number };

/** JSON-able values: what a streamer description may carry as arguments. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Something that can start a fresh asynchronous pass over its items. */
export interface Source<T> extends AsyncIterable<T> {
  /** A new pass; at most `maxIter` items (all of them when undefined). */
  iterate(maxIter?: number): AsyncIterableIterator<T>;
}

/** A source that can also run synchronously, which avoids one promise per item. */
export interface SyncSource<T> extends Source<T> {
  iterateSync(maxIter?: number): IterableIterator<T>;
}

export function isSyncSource<T>(s: Source<T>): s is SyncSource<T> {
  return typeof (s as Partial<SyncSource<T>>).iterateSync === 'function';
}
