/**
 * Streamer: a generator function plus its arguments. Every iteration calls the function
 * afresh, so one Streamer can be restarted, bounded, cycled and muxed many times; and a
 * Streamer made with `Streamer.described` can be written down as data (module path,
 * export name, JSON arguments) and rebuilt in another process.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { StreamCodes, checkMaxIter } from './errors.js';
import { BoundedAsyncIterator, BoundedSyncIterator, CycleAsyncIterator, CycleSyncIterator, DONE, SyncAsAsyncIterator } from './iterators.js';
import type { JsonValue, SyncSource } from './types.js';

/** What a Streamer wraps: any function returning a (sync or async) iterable. */
export type GeneratorFn<A extends readonly unknown[], T> = (...args: A) => Iterable<T> | AsyncIterable<T>;

/** Where a generator function lives: an absolute path or file: URL, and the export name. */
export interface StreamerRef {
  readonly module: string;
  readonly export: string;
}

/** A Streamer written down as data; `JSON.stringify`-able and accepted by `Streamer.load`. */
export interface StreamerSpec extends StreamerRef {
  readonly args: readonly JsonValue[];
}

export class Streamer<T, A extends readonly unknown[] = readonly unknown[]> implements SyncSource<T> {
  readonly fn: GeneratorFn<A, T>;
  readonly args: A;
  readonly ref: StreamerRef | undefined;

  constructor(fn: GeneratorFn<A, T>, ...args: A) {
    if (typeof fn !== 'function') {
      throw new ConfigError(StreamCodes.notIterable, 'Streamer needs a function returning an iterable; wrap a ready-made iterable with Streamer.of(iterable)');
    }
    this.fn = fn;
    this.args = args;
    this.ref = undefined;
  }

  /**
   * A Streamer that can be described as data. `ref.module` is usually `import.meta.url` of
   * the module exporting `fn` under `ref.export`; args must be JSON-able.
   */
  static described<T, A extends readonly JsonValue[]>(ref: StreamerRef, fn: GeneratorFn<A, T>, ...args: A): Streamer<T, A> {
    checkRef(ref);
    if (!args.every(isJson)) {
      throw new ConfigError(
        StreamCodes.badSpec,
        'Streamer.described: arguments must survive JSON (no undefined, functions, NaN, typed arrays or class instances)',
      );
    }
    const s = new Streamer<T, A>(fn, ...args);
    (s as { ref: StreamerRef | undefined }).ref = { module: ref.module, export: ref.export };
    return s;
  }

  /**
   * Wrap a ready-made iterable. Restartable only if the iterable is (an array is; a
   * generator object is not: its second pass is empty).
   */
  static of<T>(iterable: Iterable<T> | AsyncIterable<T>): Streamer<T, []> {
    if (
      iterable == null ||
      (typeof (iterable as Iterable<T>)[Symbol.iterator] !== 'function' && typeof (iterable as AsyncIterable<T>)[Symbol.asyncIterator] !== 'function')
    ) {
      throw new ConfigError(StreamCodes.notIterable, 'Streamer.of needs an iterable or async iterable');
    }
    return new Streamer<T, []>(() => iterable);
  }

  /** Rebuild a described Streamer: imports the module and calls its export with the args. */
  static async load<T = unknown>(spec: StreamerSpec): Promise<Streamer<T, readonly JsonValue[]>> {
    checkRef(spec);
    // Checked through unknown: a spec read from JSON may lie, and isArray would narrow args to any[].
    const args: unknown = spec.args;
    if (!Array.isArray(args)) throw new ConfigError(StreamCodes.badSpec, 'streamer spec: "args" must be an array');
    const url = spec.module.startsWith('file:') ? spec.module : pathToFileURL(spec.module).href;
    const mod = (await import(url)) as Record<string, unknown>;
    const fn = mod[spec.export];
    if (typeof fn !== 'function') {
      throw new ConfigError(StreamCodes.badSpec, `streamer spec: ${spec.module} has no function export "${spec.export}" (found ${typeof fn})`);
    }
    return Streamer.described<T, readonly JsonValue[]>(spec, fn as GeneratorFn<readonly JsonValue[], T>, ...spec.args);
  }

  /** The data form of this Streamer; only for Streamers made with `described` or `load`. */
  toSpec(): StreamerSpec {
    if (!this.ref) {
      throw new ConfigError(
        StreamCodes.notDescribed,
        'this Streamer has no module reference; build it with Streamer.described({ module: import.meta.url, export: "name" }, fn, ...args)',
      );
    }
    return { module: this.ref.module, export: this.ref.export, args: this.args as unknown as readonly JsonValue[] };
  }

  /** A fresh pass, at most `maxIter` items. Works for sync and async generator functions. */
  iterate(maxIter?: number): AsyncIterableIterator<T> {
    const max = checkMaxIter(maxIter);
    if (max === 0) return new BoundedAsyncIterator<T>(emptyAsync(), 0);
    const inner = this.#openAsync();
    return max === Number.POSITIVE_INFINITY ? asIterable(inner) : new BoundedAsyncIterator(inner, max);
  }

  /** A fresh synchronous pass; throws E_STREAM_NOT_SYNC if the function returns an async iterable. */
  iterateSync(maxIter?: number): IterableIterator<T> {
    const max = checkMaxIter(maxIter);
    if (max === 0) return new BoundedSyncIterator<T>(emptySync(), 0);
    const inner = this.#openSync();
    return max === Number.POSITIVE_INFINITY ? asSyncIterable(inner) : new BoundedSyncIterator(inner, max);
  }

  /** Restart forever (or until `maxIter` items). A pass with no items throws E_STREAM_EMPTY_CYCLE. */
  cycle(maxIter?: number): AsyncIterableIterator<T> {
    return new CycleAsyncIterator(() => this.#openAsync(), checkMaxIter(maxIter));
  }

  cycleSync(maxIter?: number): IterableIterator<T> {
    return new CycleSyncIterator(() => this.#openSync(), checkMaxIter(maxIter));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this.iterate();
  }

  #call(): Iterable<T> | AsyncIterable<T> {
    const out = this.fn(...this.args);
    if (out == null || (typeof (out as Iterable<T>)[Symbol.iterator] !== 'function' && typeof (out as AsyncIterable<T>)[Symbol.asyncIterator] !== 'function')) {
      throw new ConfigError(StreamCodes.notIterable, `the Streamer's function returned ${out === null ? 'null' : typeof out}, not an iterable`);
    }
    return out;
  }

  #openAsync(): AsyncIterator<T> {
    const out = this.#call();
    if (typeof (out as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') return (out as AsyncIterable<T>)[Symbol.asyncIterator]();
    return new SyncAsAsyncIterator((out as Iterable<T>)[Symbol.iterator]());
  }

  #openSync(): Iterator<T> {
    const out = this.#call();
    if (typeof (out as Iterable<T>)[Symbol.iterator] !== 'function') {
      // The async generator was created but never started: closing it runs no user code.
      void (out as AsyncIterable<T>)[Symbol.asyncIterator]().return?.();
      throw new ConfigError(StreamCodes.notSync, 'iterateSync(): the generator function is async; use iterate() or a sync generator');
    }
    return (out as Iterable<T>)[Symbol.iterator]();
  }
}

/** Values that survive JSON unchanged: finite numbers, strings, booleans, null, plain arrays and objects. */
function isJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJson);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).every(isJson);
  return false;
}

function checkRef(ref: StreamerRef): void {
  if (!ref || typeof ref.module !== 'string' || typeof ref.export !== 'string' || ref.export === '') {
    throw new ConfigError(StreamCodes.badSpec, 'streamer reference needs { module: string, export: string }');
  }
  if (!ref.module.startsWith('file:') && !isAbsolute(ref.module)) {
    throw new ConfigError(StreamCodes.badSpec, `streamer module must be an absolute path or file: URL (another process resolves it), got "${ref.module}"`);
  }
}

function emptySync<T>(): Iterator<T> {
  return { next: () => DONE };
}
function emptyAsync<T>(): AsyncIterator<T> {
  return { next: () => Promise.resolve(DONE) };
}

/** Generators are already iterable iterators; plain iterators get a thin bounded(∞) wrapper. */
function asSyncIterable<T>(it: Iterator<T>): IterableIterator<T> {
  return typeof (it as Partial<IterableIterator<T>>)[Symbol.iterator] === 'function'
    ? (it as IterableIterator<T>)
    : new BoundedSyncIterator(it, Number.POSITIVE_INFINITY);
}
function asIterable<T>(it: AsyncIterator<T>): AsyncIterableIterator<T> {
  return typeof (it as Partial<AsyncIterableIterator<T>>)[Symbol.asyncIterator] === 'function'
    ? (it as AsyncIterableIterator<T>)
    : new BoundedAsyncIterator(it, Number.POSITIVE_INFINITY);
}
