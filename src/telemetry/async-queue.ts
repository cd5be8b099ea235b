/**
 * A bounded queue between several producers (socket pumps) and one async-iterating consumer.
 * Producers await `push()` when it is full, so a slow consumer stops the pumps reading and
 * ZeroMQ's receive high-water mark (and the publisher's drop counting) takes over.
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #waitingConsumer: ((r: IteratorResult<T>) => void) | undefined;
  #waitingProducers: Array<() => void> = [];
  #ended = false;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Queue the item if there is room (or a consumer waiting); false when full or ended. No promise per item. */
  offer(item: T): boolean {
    if (this.#ended) return false;
    const consumer = this.#waitingConsumer;
    if (consumer) {
      this.#waitingConsumer = undefined;
      consumer({ value: item, done: false });
      return true;
    }
    if (this.#items.length >= this.#capacity) return false;
    this.#items.push(item);
    return true;
  }

  /** Resolves once the item is queued (false if the queue has ended and the item was discarded). */
  async push(item: T): Promise<boolean> {
    while (!this.offer(item)) {
      if (this.#ended) return false;
      await new Promise<void>((resolve) => this.#waitingProducers.push(resolve));
    }
    return true;
  }

  /** No more items: the consumer drains what is queued, then finishes. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const p of this.#waitingProducers.splice(0)) p();
    if (this.#items.length === 0 && this.#waitingConsumer) {
      const c = this.#waitingConsumer;
      this.#waitingConsumer = undefined;
      c({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift()!;
      const p = this.#waitingProducers.shift();
      if (p) p();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    if (this.#waitingConsumer) return Promise.reject(new Error('AsyncQueue supports one consumer at a time'));
    return new Promise((resolve) => {
      this.#waitingConsumer = resolve;
    });
  }
}
