/**
 * Hand-written iterator adapters. They pass the source's result objects straight through,
 * so bounding or adapting a stream adds no allocation per item (a generator wrapper would
 * allocate a result object per item).
 */
import { ReflexError } from '../core/errors.js';
import { StreamCodes } from './errors.js';

export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const DONE_PROMISE: Promise<IteratorReturnResult<undefined>> = Promise.resolve(DONE);

/** At most `max` items from `inner`; closes `inner` when the bound cuts it short. Never pulls item max+1. */
export class BoundedSyncIterator<T> implements IterableIterator<T> {
  #inner: Iterator<T> | null;
  #left: number;
  constructor(inner: Iterator<T>, max: number) {
    this.#inner = inner;
    this.#left = max;
  }
  next(): IteratorResult<T> {
    const inner = this.#inner;
    if (inner === null) return DONE;
    if (this.#left <= 0) {
      this.#inner = null;
      inner.return?.();
      return DONE;
    }
    this.#left--;
    const r = inner.next();
    if (r.done === true) this.#inner = null;
    return r;
  }
  return(): IteratorResult<T> {
    const inner = this.#inner;
    this.#inner = null;
    inner?.return?.();
    return DONE;
  }
  [Symbol.iterator](): this {
    return this;
  }
}

export class BoundedAsyncIterator<T> implements AsyncIterableIterator<T> {
  #inner: AsyncIterator<T> | null;
  #left: number;
  constructor(inner: AsyncIterator<T>, max: number) {
    this.#inner = inner;
    this.#left = max;
  }
  next(): Promise<IteratorResult<T>> {
    const inner = this.#inner;
    if (inner === null) return DONE_PROMISE;
    if (this.#left <= 0) return this.return();
    this.#left--;
    return inner.next();
  }
  async return(): Promise<IteratorResult<T>> {
    const inner = this.#inner;
    this.#inner = null;
    await inner?.return?.();
    return DONE;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A sync iterator seen through the async protocol: one promise per item, which the protocol requires. */
export class SyncAsAsyncIterator<T> implements AsyncIterableIterator<T> {
  readonly #inner: Iterator<T>;
  constructor(inner: Iterator<T>) {
    this.#inner = inner;
  }
  next(): Promise<IteratorResult<T>> {
    try {
      return Promise.resolve(this.#inner.next());
    } catch (err) {
      // The inner iterator's throw, whatever it is, passed on untouched as for-await over a sync iterator does.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- see the line above
      return Promise.reject(err);
    }
  }
  return(): Promise<IteratorResult<T>> {
    this.#inner.return?.();
    return DONE_PROMISE;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Restart `open()` whenever a pass ends, up to `max` items in total. An empty pass is an error: it would spin. */
export class CycleSyncIterator<T> implements IterableIterator<T> {
  readonly #open: () => Iterator<T>;
  #inner: Iterator<T> | null = null;
  #left: number;
  #passItems = 0;
  #closed = false;
  constructor(open: () => Iterator<T>, max: number) {
    this.#open = open;
    this.#left = max;
  }
  next(): IteratorResult<T> {
    if (this.#closed) return DONE;
    if (this.#left <= 0) return this.return();
    for (;;) {
      if (this.#inner === null) {
        this.#inner = this.#open();
        this.#passItems = 0;
      }
      const r = this.#inner.next();
      if (r.done !== true) {
        this.#left--;
        this.#passItems++;
        return r;
      }
      this.#inner = null;
      if (this.#passItems === 0) {
        this.#closed = true;
        throw emptyCycle();
      }
    }
  }
  return(): IteratorResult<T> {
    this.#closed = true;
    const inner = this.#inner;
    this.#inner = null;
    inner?.return?.();
    return DONE;
  }
  [Symbol.iterator](): this {
    return this;
  }
}

export class CycleAsyncIterator<T> implements AsyncIterableIterator<T> {
  readonly #open: () => AsyncIterator<T>;
  #inner: AsyncIterator<T> | null = null;
  #left: number;
  #passItems = 0;
  #closed = false;
  constructor(open: () => AsyncIterator<T>, max: number) {
    this.#open = open;
    this.#left = max;
  }
  async next(): Promise<IteratorResult<T>> {
    if (this.#closed) return DONE;
    if (this.#left <= 0) return this.return();
    for (;;) {
      if (this.#inner === null) {
        this.#inner = this.#open();
        this.#passItems = 0;
      }
      const r = await this.#inner.next();
      if (r.done !== true) {
        this.#left--;
        this.#passItems++;
        return r;
      }
      this.#inner = null;
      if (this.#passItems === 0) {
        this.#closed = true;
        throw emptyCycle();
      }
    }
  }
  async return(): Promise<IteratorResult<T>> {
    this.#closed = true;
    const inner = this.#inner;
    this.#inner = null;
    await inner?.return?.();
    return DONE;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

function emptyCycle(): ReflexError {
  return new ReflexError(
    StreamCodes.emptyCycle,
    'cycle(): a full pass of the stream produced no items, so cycling it would spin forever; check the generator and its arguments',
  );
}
