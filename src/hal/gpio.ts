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

export interface GpioInputLine {
  readonly ref: LineRef;
  read(): Level;
  /** Called on every edge of the requested kind with the new logical level. */
  watch(listener: (value: Level) => void): void;
  close(): void;
}

/** A backend that opens lines: onoff/sysfs, chardev, or the fake. */
export interface GpioProvider {
  readonly name: string;
  output(ref: LineRef, initial: Level): GpioOutputLine;
  input(ref: LineRef, edge: Edge): GpioInputLine;
}
