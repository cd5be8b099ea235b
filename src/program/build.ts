/**
 * Builders for program nodes, named like pylearn's: `SEQ(CALL('a'), WAIT(100))`.
 * They only make plain data; a hand-written JSON tree is the same program.
 */
import type {
  BufferRepeatNode,
  CallNode,
  ChooseNode,
  Expr,
  LoopNode,
  PopenNode,
  PrintNode,
  ProgramNode,
  RegRef,
  RepeatNode,
  SeqNode,
  SetNode,
  SpawnNode,
  WaitNode,
  WeaveNode,
} from './types.js';

/** Read register `name` when the node runs. */
export function reg(name: string): RegRef {
  return { $reg: name };
}

export function CALL(fn: string, args: readonly Expr[] = [], out?: string): CallNode {
  return { op: 'CALL', fn, ...(args.length > 0 ? { args } : {}), ...(out !== undefined ? { out } : {}) };
}

export function SEQ(...body: ProgramNode[]): SeqNode {
  return { op: 'SEQ', body };
}

export function REPEAT(times: Expr, body: ProgramNode, opts: { counter?: string } = {}): RepeatNode {
  return { op: 'REPEAT', times, body, ...opts };
}

export function LOOP(body: ProgramNode, opts: { while?: Expr; counter?: string } = {}): LoopNode {
  return { op: 'LOOP', body, ...opts };
}

export function CHOOSE(which: Expr, cases: Record<string, ProgramNode>, fallback?: ProgramNode): ChooseNode {
  return { op: 'CHOOSE', which, cases, ...(fallback ? { default: fallback } : {}) };
}

/** SWITCH is CHOOSE by another name. */
export const SWITCH = CHOOSE;

export function WEAVE(body: ProgramNode[], opts: { required?: number } = {}): WeaveNode {
  return { op: 'WEAVE', body, ...opts };
}

export function WAIT(ms: Expr): WaitNode {
  return { op: 'WAIT', ms };
}

export function POPEN(cmd: readonly Expr[], opts: { out?: string; cwd?: string; timeoutMs?: number; check?: boolean } = {}): PopenNode {
  return { op: 'POPEN', cmd, ...opts };
}

export function PRINT(text: string): PrintNode {
  return { op: 'PRINT', text };
}

export function SET(name: string, value: Expr): SetNode {
  return { op: 'SET', reg: name, value };
}

export function SPAWN(body: ProgramNode, opts: { module?: string; mode?: 'thread' | 'process'; merge?: string[] } = {}): SpawnNode {
  return { op: 'SPAWN', body, ...opts };
}

export function BUFFER_REPEAT(times: Expr, body: ProgramNode, opts: { collect: string; into: string; counter?: string }): BufferRepeatNode {
  return { op: 'BUFFER_REPEAT', times, body, ...opts };
}
