/**
 * Named monotonic counters: how Reflex "counts" an error it does not throw.
 * Snapshots go to telemetry (health topic) and to `status` replies.
 */
export class Counters<K extends string = string> {
  #values = new Map<K, number>();

  inc(key: K, by = 1): void {
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  get(key: K): number {
    return this.#values.get(key) ?? 0;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#values);
  }
  reset(): void {
    this.#values.clear();
  }
}
