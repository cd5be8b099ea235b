import type { Clock } from './clock.js';
import type { Frame } from './frames.js';
import type { FunctionRegistry } from './functions.js';
import type { Json, ProgramNode } from './types.js';

export interface ProgramContext {
  /** What CALL can name. Default: none. */
  functions?: FunctionRegistry;
  /** Default: the system monotonic clock. */
  clock?: Clock;
  /** PRINT output (and `ctx.print` in functions). Default: one line to stdout. */
  print?: (line: string) => void;
  /** Initial register values. */
  registers?: Record<string, Json>;
}

/** A runner's whole state, JSON-safe: `JSON.parse(JSON.stringify(snapshot))` restores identically. */
export interface ProgramSnapshot {
  readonly format: 'reflex-program/1';
  readonly program: ProgramNode;
  readonly frame: Frame | null;
  readonly registers: Record<string, Json>;
  /** Clock time when taken: pending WAIT deadlines are shifted by (restore time - clockAt). */
  readonly clockAt: number;
  readonly steps: number;
  readonly done: boolean;
}
