import type { Clock } from './clock.js';
import { ProgramCodes, ProgramError } from './errors.js';
import type { CallContext, FunctionRegistry } from './functions.js';
import { runCommand } from './popen.js';
import type { Registers } from './registers.js';
import { runFragment } from './spawn.js';
import type { CallNode, Expr, Json, PopenNode, SpawnNode } from './types.js';

export interface LaunchEnv {
  functions: FunctionRegistry;
  callCtx: CallContext;
  registers: Registers;
  clock: Clock;
  print: (line: string) => void;
  eval: (e: Expr, where: string) => Json;
}

export interface Launched {
  /** A value now (sync CALL) or a promise of it. */
  result: Json | void | Promise<Json | void>;
  /** Stop the work (kill the command or worker); no-op for CALLs (they see ctx.signal). */
  cancel: () => void;
  /** Apply a result to the registers. */
  land: (v: Json | void) => void;
}

/** Start the work of a CALL, POPEN or SPAWN node. */
export function launch(node: CallNode | PopenNode | SpawnNode, where: string, env: LaunchEnv): Launched {
  const store = (out: string | undefined) => (v: Json | void) => {
    if (out !== undefined) env.registers.set(out, v === undefined ? null : v);
  };
  if (node.op === 'CALL') {
    const fn = env.functions.get(node.fn);
    if (!fn)
      throw new ProgramError(ProgramCodes.unknownFn, where, `no function "${node.fn}" is registered (known: ${env.functions.names().join(', ') || 'none'})`);
    const args = (node.args ?? []).map((a, i) => env.eval(a, `${where}.args[${i}]`));
    try {
      return { result: fn(env.callCtx, ...args), cancel: () => {}, land: store(node.out) };
    } catch (err) {
      throw callError(where, node.fn, err);
    }
  }
  const ac = new AbortController();
  const cancel = () => ac.abort();
  if (node.op === 'POPEN') {
    const cmd = node.cmd.map((a, i) => argText(env.eval(a, `${where}.cmd[${i}]`)));
    return {
      result: runCommand(cmd, { cwd: node.cwd, timeoutMs: node.timeoutMs, check: node.check ?? false, signal: ac.signal, where }),
      cancel,
      land: store(node.out),
    };
  }
  return {
    result: runFragment(node, env.registers.toJSON(), { signal: ac.signal, print: env.print, clock: env.clock, where }),
    cancel,
    land: (v) => {
      for (const [k, value] of Object.entries(v as Record<string, Json>)) env.registers.set(k, value);
    },
  };
}

export function callError(where: string, name: string, err: unknown): ProgramError {
  if (err instanceof ProgramError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new ProgramError(ProgramCodes.call, where, `${name} failed: ${msg}`, { cause: err });
}

/** One argv entry: scalars as text, an array or object as its JSON (not "[object Object]"). */
function argText(v: Json): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}
