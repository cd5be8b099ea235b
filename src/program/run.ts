import type { ProgramContext } from './context.js';
import type { Registers } from './registers.js';
import { ProgramRunner } from './runner.js';
import type { ProgramNode } from './types.js';

/** Run `program` to the end; resolves with the final registers. */
export function run(program: ProgramNode, ctx: ProgramContext & { signal?: AbortSignal } = {}): Promise<Registers> {
  return new ProgramRunner(program, ctx).run(ctx.signal);
}
