import type { LineRef } from '../boards/types.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import { monotonicMs } from '../time/monotonic.js';
import type { Edge, EdgeListener, GpioInputLine, GpioOutputLine, GpioProvider, Level } from './gpio.js';
import { GpioCodes } from './codes.js';

/** One write an output line made, as the fake records it. */
export interface FakeGpioWrite {
  chip: string;
  line: number;
  /** Logical value written. */
  value: Level;
  /** Electrical level after activeLow. */
  physical: Level;
}

type Watcher = { ref: LineRef; edge: Edge; listeners: EdgeListener[] };

/**
 * In-process scriptable GPIO: chips by label with a line count, lines by label + offset
 * (the sim board's chip is "reflex-sim"). The test reads outputs with `level`, simulates
 * input edges with `drive` (each edge stamped with a time the test may script, as the chardev
 * backend's kernel stamp), and inspects every write in `writes`. Errors match the real
 * backends' codes, so tests of callers see what hardware would give them.
 */
export class FakeGpio implements GpioProvider {
  readonly name = 'fake';
  readonly #chips: Map<string, number>;
  /** Electrical level per "label:offset"; lines start low. */
  readonly #physical = new Map<string, Level>();
  readonly #open = new Set<string>();
  readonly #watchers = new Map<string, Watcher>();
  /** Every output write, in order. */
  readonly writes: FakeGpioWrite[] = [];

  readonly #now: () => number;
  /** Keys by ref object, so driving the same ref (an edge generator) builds no string per edge. */
  readonly #keys = new WeakMap<LineRef, string>();

  /**
   * `chips`: label -> number of lines. Default one 32-line chip "reflex-sim". `now`: the time an
   * edge gets when `drive` is not given one (default monotonicMs).
   */
  constructor(chips: Record<string, number> = { 'reflex-sim': 32 }, opts: { now?: () => number } = {}) {
    this.#chips = new Map(Object.entries(chips));
    this.#now = opts.now ?? monotonicMs;
  }

  output(ref: LineRef, initial: Level): GpioOutputLine {
    const key = this.#claim(ref);
    const set = (value: Level): void => {
      const physical = toPhysical(ref, value);
      this.#physical.set(key, physical);
      this.writes.push({ chip: ref.chip, line: ref.line, value, physical });
    };
    set(initial);
    let closed = false;
    return {
      ref,
      write: (value) => {
        if (closed) throw new ReflexError(GpioCodes.closed, `write to closed fake line ${key}: open it again`);
        set(value);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.#open.delete(key);
      },
    };
  }

  input(ref: LineRef, edge: Edge): GpioInputLine {
    const key = this.#claim(ref);
    const watcher: Watcher = { ref, edge, listeners: [] };
    this.#watchers.set(key, watcher);
    let closed = false;
    return {
      ref,
      edgeClock: 'fake',
      read: () => {
        if (closed) throw new ReflexError(GpioCodes.closed, `read of closed fake line ${key}: open it again`);
        return toLogical(ref, this.#physical.get(key) ?? 0);
      },
      watch: (listener) => {
        watcher.listeners.push(listener);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.#open.delete(key);
        this.#watchers.delete(key);
      },
    };
  }

  /** Logical level of a line as `ref` sees it (its activeLow applied). */
  level(ref: LineRef): Level {
    this.#check(ref);
    return toLogical(ref, this.#physical.get(keyOf(ref)) ?? 0);
  }

  /**
   * Simulate the outside world setting a line to logical `value` (as `ref` sees it). An open
   * input on it gets an edge callback if the change matches its edge kind, with `atMs` as the
   * edge's time (default: `now()`). An `atMs` in the past models an edge the kernel stamped
   * then but the process read only now.
   */
  drive(ref: LineRef, value: Level, atMs?: number): void {
    let key = this.#keys.get(ref);
    if (key === undefined) {
      this.#check(ref);
      key = keyOf(ref);
      this.#keys.set(ref, key);
    }
    const before = this.#physical.get(key) ?? 0;
    const after = toPhysical(ref, value);
    this.#physical.set(key, after);
    const w = this.#watchers.get(key);
    if (!w || before === after) return;
    const logical = toLogical(w.ref, after);
    // Edges are logical, as with sysfs active_low and libgpiod -l: "rising" means to active.
    const wanted = w.edge === 'both' || (w.edge === 'rising') === (logical === 1);
    if (!wanted) return;
    const t = atMs ?? this.#now();
    for (const l of w.listeners) l(logical, t);
  }

  #check(ref: LineRef): void {
    const n = this.#chips.get(ref.chip);
    if (n === undefined) {
      throw new ConfigError(
        GpioCodes.chipNotFound,
        `no GPIO chip labelled "${ref.chip}" in the fake; chips present: ${[...this.#chips.keys()].map((l) => `"${l}"`).join(', ')}`,
      );
    }
    if (!Number.isInteger(ref.line) || ref.line < 0 || ref.line >= n) {
      throw new ConfigError(GpioCodes.lineRange, `line ${ref.line} is out of range for fake chip "${ref.chip}" (lines 0..${n - 1})`);
    }
  }

  #claim(ref: LineRef): string {
    this.#check(ref);
    const key = keyOf(ref);
    if (this.#open.has(key)) throw new ReflexError(GpioCodes.busy, `fake line ${key} is already open: close it first`);
    this.#open.add(key);
    return key;
  }
}

function keyOf(ref: LineRef): string {
  return `${ref.chip}:${ref.line}`;
}

function toPhysical(ref: LineRef, v: Level): Level {
  return (ref.activeLow ? 1 - v : v) as Level;
}

const toLogical = toPhysical;
