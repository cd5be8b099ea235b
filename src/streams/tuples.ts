/**
 * View records as tuples in a fixed key order, the shape training loops destructure:
 * `for await (const [x, y] of tuples(stream, 'x', 'y'))`. A fresh tuple per item, so
 * collecting them (Array.from) is safe.
 */
import { ConfigError, ReflexError } from '../core/errors.js';
import { StreamCodes } from './errors.js';

export type TupleOf<R, K extends readonly (keyof R)[]> = { -readonly [I in keyof K]: R[K[I]] };

function checkKeys(keys: readonly PropertyKey[]): void {
  if (keys.length === 0) throw new ConfigError(StreamCodes.tupleKeys, 'tuples(): give at least one key');
}

function pick<R extends object, K extends readonly (keyof R)[]>(item: R, keys: K): TupleOf<R, K> {
  if (typeof item !== 'object' || item === null)
    throw new ReflexError(StreamCodes.tupleKeys, `tuples(): stream item is ${item === null ? 'null' : typeof item}, not a record`);
  const out = new Array<unknown>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!(k in item)) throw new ReflexError(StreamCodes.tupleKeys, `tuples(): stream item has no key "${String(k)}" (it has ${Object.keys(item).join(', ')})`);
    out[i] = item[k];
  }
  return out as TupleOf<R, K>;
}

/** Arguments are checked now, not at the first pull. */
export function tuples<R extends object, K extends readonly (keyof R)[]>(
  stream: AsyncIterable<R> | Iterable<R>,
  ...keys: K
): AsyncGenerator<TupleOf<R, K>, void, undefined> {
  checkKeys(keys);
  return tuplesAsync(stream, keys);
}

export function tuplesSync<R extends object, K extends readonly (keyof R)[]>(stream: Iterable<R>, ...keys: K): Generator<TupleOf<R, K>, void, undefined> {
  checkKeys(keys);
  return tuplesGen(stream, keys);
}

async function* tuplesAsync<R extends object, K extends readonly (keyof R)[]>(
  stream: AsyncIterable<R> | Iterable<R>,
  keys: K,
): AsyncGenerator<TupleOf<R, K>, void, undefined> {
  for await (const item of stream) yield pick(item, keys);
}

function* tuplesGen<R extends object, K extends readonly (keyof R)[]>(stream: Iterable<R>, keys: K): Generator<TupleOf<R, K>, void, undefined> {
  for (const item of stream) yield pick(item, keys);
}
