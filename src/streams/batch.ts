/**
 * Gather items into fixed-size batches (pescador's buffer_stream). Items are typed arrays or
 * records of typed arrays and numbers; a batch stacks `size` items along a new leading batch
 * axis: for an item field of length L the batch field has length size*L, item j at [j*L, (j+1)*L).
 * Number fields become a Float64Array of length size. Every item must have the same keys,
 * array types and lengths as the first item of its batch.
 *
 * Last partial batch ('partial'): 'drop' (default, as pescador) discards it; 'keep' yields it
 * shorter (n < size items); 'error' throws E_BATCH_PARTIAL if items are left over.
 * 'reuse': the same output arrays are refilled for every batch (no allocation per batch), so
 * a batch is valid only until the next one is requested.
 */
import { ConfigError, ReflexError } from '../core/errors.js';
import { StreamCodes } from './errors.js';
import type { NumericRecord, TypedArray } from './types.js';

export type Batchable = TypedArray | NumericRecord;
export type Batched<R> = R extends TypedArray ? R : { [K in keyof R]: R[K] extends number ? Float64Array : R[K] };

export interface BatchOptions {
  partial?: 'drop' | 'keep' | 'error';
  reuse?: boolean;
}

type ArrayCtor = { new (length: number): TypedArray; readonly name: string };

interface Field {
  key: string;
  /** null: a number field. */
  ctor: ArrayCtor | null;
  length: number;
  out: TypedArray | null;
}

/** The pure transformer: push items, get a batch back when one is full. */
export class Batcher<R extends Batchable> {
  readonly size: number;
  readonly partial: 'drop' | 'keep' | 'error';
  readonly reuse: boolean;
  #fields: Field[] | null = null;
  #bare = false;
  #filled = 0;

  constructor(size: number, opts: BatchOptions = {}) {
    if (!Number.isInteger(size) || size < 1) throw new ConfigError(StreamCodes.batchSize, `batch size must be an integer >= 1, got ${size}`);
    const partial = opts.partial ?? 'drop';
    if (partial !== 'drop' && partial !== 'keep' && partial !== 'error') {
      throw new ConfigError(StreamCodes.batchPartial, `partial must be 'drop', 'keep' or 'error', got "${String(partial)}"`);
    }
    this.size = size;
    this.partial = partial;
    this.reuse = opts.reuse ?? false;
  }

  /** Items held for the next batch. */
  get pending(): number {
    return this.#filled;
  }

  push(item: R): Batched<R> | null {
    if (this.#filled === 0) this.#start(item);
    const row = this.#filled;
    const fields = this.#fields!;
    if (this.#bare) {
      const f = fields[0]!;
      checkArray(item, f, row);
      f.out!.set(item as TypedArray, row * f.length);
    } else {
      if (typeof item !== 'object' || item === null || ArrayBuffer.isView(item)) throw batchTypeError(row, 'a record');
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: without it rec stays the generic R (TS2345, TS7053)
      const rec = item as NumericRecord;
      let seen = 0;
      for (const key in rec) if (Object.prototype.hasOwnProperty.call(rec, key)) seen++;
      if (seen !== fields.length) throw this.#keysError(rec, row);
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const v = rec[f.key];
        if (v === undefined) throw this.#keysError(rec, row);
        if (f.ctor === null) {
          if (typeof v !== 'number')
            throw new ReflexError(StreamCodes.batchType, `batch item ${row}: field "${f.key}" is ${describe(v)}, the batch's first item had a number`);
          f.out![row] = v;
        } else {
          checkArray(v, f, row);
          f.out!.set(v as TypedArray, row * f.length);
        }
      }
    }
    this.#filled = row + 1;
    if (this.#filled < this.size) return null;
    return this.#emit(this.size);
  }

  /** End of stream: the partial batch per policy, or null. */
  flush(): Batched<R> | null {
    const n = this.#filled;
    if (n === 0) return null;
    if (this.partial === 'drop') {
      this.#filled = 0;
      return null;
    }
    if (this.partial === 'error') {
      this.#filled = 0;
      throw new ReflexError(
        StreamCodes.batchPartial,
        `stream ended with ${n} item(s), fewer than the batch size ${this.size}; use partial: 'keep' or 'drop' if that is expected`,
      );
    }
    return this.#emit(n);
  }

  #start(item: R): void {
    if (this.#fields !== null && this.reuse) {
      // Reused arrays fix the layout: later batches must match the first.
      return;
    }
    if (ArrayBuffer.isView(item)) {
      this.#bare = true;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: without it arr stays the generic R (TS2322)
      const arr = item as TypedArray;
      this.#fields = [{ key: '', ctor: arr.constructor as ArrayCtor, length: arr.length, out: null }];
    } else if (typeof item === 'object' && item !== null) {
      this.#bare = false;
      const fields: Field[] = [];
      for (const key of Object.keys(item)) {
        const v = item[key];
        if (typeof v === 'number') fields.push({ key, ctor: null, length: 1, out: null });
        else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) fields.push({ key, ctor: v.constructor as ArrayCtor, length: v.length, out: null });
        else throw new ReflexError(StreamCodes.batchType, `batch item field "${key}" is ${describe(v)}; fields must be typed arrays or numbers`);
      }
      if (fields.length === 0) throw new ReflexError(StreamCodes.batchKeys, 'batch items are empty records; give at least one field');
      this.#fields = fields;
    } else {
      throw batchTypeError(0, 'a typed array or a record');
    }
    for (const f of this.#fields) f.out = f.ctor === null ? new Float64Array(this.size) : new f.ctor(this.size * f.length);
  }

  #emit(n: number): Batched<R> {
    const fields = this.#fields!;
    this.#filled = 0;
    const view = (f: Field): TypedArray => (n === this.size ? f.out! : f.out!.subarray(0, n * f.length));
    let out: unknown;
    if (this.#bare) out = view(fields[0]!);
    else {
      const rec: Record<string, TypedArray> = {};
      for (const f of fields) rec[f.key] = view(f);
      out = rec;
    }
    if (!this.reuse) for (const f of fields) f.out = null; // next #start allocates fresh arrays
    if (!this.reuse) this.#fields = null;
    return out as Batched<R>;
  }

  #keysError(rec: NumericRecord, row: number): ReflexError {
    const want = this.#fields!.map((f) => f.key).join(', ');
    return new ReflexError(StreamCodes.batchKeys, `batch item ${row} has keys [${Object.keys(rec).join(', ')}], the batch's first item had [${want}]`);
  }
}

function checkArray(v: unknown, f: Field, row: number): void {
  if (!ArrayBuffer.isView(v) || v.constructor !== f.ctor) {
    throw new ReflexError(
      StreamCodes.batchType,
      `batch item ${row}${f.key ? ` field "${f.key}"` : ''} is ${describe(v)}, the batch's first item had a ${f.ctor?.name ?? 'number'}`,
    );
  }
  if ((v as TypedArray).length !== f.length) {
    throw new ReflexError(
      StreamCodes.batchShape,
      `batch item ${row}${f.key ? ` field "${f.key}"` : ''} has length ${(v as TypedArray).length}, ` +
        `the batch's first item had ${f.length}; pad or window items to one length`,
    );
  }
}

function batchTypeError(row: number, want: string): ReflexError {
  return new ReflexError(StreamCodes.batchType, `batch item ${row} is not ${want}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return typeof v;
}

/** Batches of `size` items from an async (or sync) iterable; arguments are checked now. */
export function batch<R extends Batchable>(
  source: AsyncIterable<R> | Iterable<R>,
  size: number,
  opts: BatchOptions = {},
): AsyncGenerator<Batched<R>, void, undefined> {
  return batchAsync(source, new Batcher<R>(size, opts));
}

export function batchSync<R extends Batchable>(source: Iterable<R>, size: number, opts: BatchOptions = {}): Generator<Batched<R>, void, undefined> {
  return batchGen(source, new Batcher<R>(size, opts));
}

async function* batchAsync<R extends Batchable>(source: AsyncIterable<R> | Iterable<R>, b: Batcher<R>): AsyncGenerator<Batched<R>, void, undefined> {
  for await (const item of source) {
    const out = b.push(item);
    if (out !== null) yield out;
  }
  const last = b.flush();
  if (last !== null) yield last;
}

function* batchGen<R extends Batchable>(source: Iterable<R>, b: Batcher<R>): Generator<Batched<R>, void, undefined> {
  for (const item of source) {
    const out = b.push(item);
    if (out !== null) yield out;
  }
  const last = b.flush();
  if (last !== null) yield last;
}

/** pescador's name for `batch`. */
export const buffer = batch;
