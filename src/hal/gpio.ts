import type { LineRef } from '../boards/types.js';

/**
 * GPIO lines by role. A line is named by chip (label or controller device) + offset (board files), never by a
 * global GPIO number: kernels move those (bases of 512 and 571 are seen) and are dropping
 * sysfs GPIO. Backends resolve the chip at open time (gpio-resolve.ts).
 *
 * Writes are synchronous on purpose: the loop worker drives outputs inside its cycle,
 * and a sysfs/chardev write is a short syscall.
 */
export type Level = 0 | 1;
export type Edge = 'rising' | 'falling' | 'both';

export interface GpioOutputLine {
  readonly ref: LineRef;
  /** Logical level (activeLow already applied by the backend). */
  write(value: Level): void;
  close(): void;
}

/**
 * Where an edge's time comes from. `kernel`: the GPIO character device's line event
 * `timestamp_ns` (CLOCK_MONOTONIC, taken in the interrupt handler), so it does not move when the
 * event is read late. `read`: the time the backend read the edge (sysfs/onoff has no kernel
 * stamp), late by however long the process took to get to it. `fake`: scripted by a test.
 */
export type EdgeClock = 'kernel' | 'read' | 'fake';

/**
 * An edge of the requested kind: the new logical level, and when the edge happened in ms on
 * CLOCK_MONOTONIC (monotonicMs()'s scale). Edges are delivered in order; `timeMs` may be well
 * before the call when the process was late to read it.
 */
export type EdgeListener = (value: Level, timeMs: number) => void;

export interface GpioInputLine {
  readonly ref: LineRef;
  /** What `timeMs` in edge callbacks measures. */
  readonly edgeClock: EdgeClock;
  read(): Level;
  /** Called on every edge of the requested kind with the new logical level and the edge's time. */
  watch(listener: EdgeListener): void;
  close(): void;
}

/** A backend that opens lines: onoff/sysfs, chardev, or the fake. */
export interface GpioProvider {
  readonly name: string;
  output(ref: LineRef, initial: Level): GpioOutputLine;
  input(ref: LineRef, edge: Edge): GpioInputLine;
}
