import type { Clock } from './clock.js';
import { ProgramCodes, ProgramError } from './errors.js';
import type { Registers } from './registers.js';
import type { Json } from './types.js';

/** What a CALLed function sees besides its arguments. */
export interface CallContext {
  readonly registers: Registers;
  readonly clock: Clock;
  /** Aborted when the run is stopped; long async functions should honour it. */
  readonly signal: AbortSignal;
  /** The same output PRINT uses. */
  print(line: string): void;
}

/** A function a program can CALL. Return a JSON value (stored in `out`), nothing, or a promise of either. */
export type ProgramFunction = (ctx: CallContext, ...args: Json[]) => Json | void | Promise<Json | void>;

/**
 * Functions by name: programs name what they call, so they stay data and serialise.
 * Names are conventionally dotted by owner, e.g. "calibration.prompt".
 */
export class FunctionRegistry {
  readonly #fns = new Map<string, ProgramFunction>();

  constructor(fns: Record<string, ProgramFunction> = {}) {
    for (const [name, fn] of Object.entries(fns)) this.register(name, fn);
  }

  register(name: string, fn: ProgramFunction): this {
    if (this.#fns.has(name)) throw new ProgramError(ProgramCodes.invalid, '', `function "${name}" is already registered; use another name`);
    this.#fns.set(name, fn);
    return this;
  }

  get(name: string): ProgramFunction | undefined {
    return this.#fns.get(name);
  }

  names(): string[] {
    return [...this.#fns.keys()].sort();
  }

  /** A new registry with this one's functions and `other`'s (names must not clash). */
  merge(other: FunctionRegistry): FunctionRegistry {
    const out = new FunctionRegistry();
    for (const n of this.names()) out.register(n, this.get(n)!);
    for (const n of other.names()) out.register(n, other.get(n)!);
    return out;
  }
}
