/**
 * A list of listeners for one kind of event, called in the order they were added.
 *
 * Copy-on-write: add and remove build a new array, so a listener may add or remove listeners
 * (itself included) while an emit is running, and that emit still calls exactly the listeners
 * present when it began. Emitting walks a plain array with an index: no iterator, no
 * allocation, fit for a per-sample path.
 *
 * A listener that throws is not caught here: the error stops this emit and reaches whoever
 * called `emit`, as it would from an inline loop, so the emitter counts or reports it where
 * it knows what the failure means (a feed's receive loop, an event handler).
 */
export class Listeners<T> {
  #fns: ReadonlyArray<(value: T) => void> = [];

  /** Add `fn`; returns the function that removes it again (every registration of that `fn`). */
  add(fn: (value: T) => void): () => void {
    this.#fns = [...this.#fns, fn];
    return () => {
      this.#fns = this.#fns.filter((l) => l !== fn);
    };
  }

  /** Call every listener with `value`. */
  emit(value: T): void {
    const fns = this.#fns;
    for (let i = 0; i < fns.length; i++) fns[i]!(value);
  }

  get size(): number {
    return this.#fns.length;
  }
}
