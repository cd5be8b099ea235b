/**
 * Programs are data: a tree of plain JSON nodes (pylearn's control-flow programs, typed).
 * Everything a program refers to is by name (functions through a registry, values through
 * registers), so a program and its run state serialise to JSON and resume elsewhere.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value in a node: a JSON literal, or `{ $reg: name }` to read a register when the node runs. */
export type Expr = Json | RegRef;
export interface RegRef {
  readonly $reg: string;
}

export function isRegRef(v: unknown): v is RegRef {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { $reg?: unknown }).$reg === 'string' && Object.keys(v).length === 1;
}

/** Call the function registered under `fn` with `args`; store its result in register `out`. */
export interface CallNode {
  readonly op: 'CALL';
  readonly fn: string;
  readonly args?: readonly Expr[];
  readonly out?: string;
}
/** Children one after another. */
export interface SeqNode {
  readonly op: 'SEQ';
  readonly body: readonly ProgramNode[];
}
/** `body` `times` times; register `counter` (if given) holds the 0-based iteration. */
export interface RepeatNode {
  readonly op: 'REPEAT';
  readonly times: Expr;
  readonly body: ProgramNode;
  readonly counter?: string;
}
/** `body` again and again while `while` is truthy (checked before each iteration); forever without it. */
export interface LoopNode {
  readonly op: 'LOOP';
  readonly body: ProgramNode;
  readonly while?: Expr;
  readonly counter?: string;
}
/** Run the case named by `which` (its value as a string), else `default`, else fail. */
export interface ChooseNode {
  readonly op: 'CHOOSE';
  readonly which: Expr;
  readonly cases: { readonly [key: string]: ProgramNode };
  readonly default?: ProgramNode;
}
/**
 * Interleave children: each step advances the next unfinished child by one step, in turn
 * (children that are waiting are skipped). Done when `required` children (default all) have
 * finished; the others are abandoned (their in-flight work is not cancelled, its result dropped).
 */
export interface WeaveNode {
  readonly op: 'WEAVE';
  readonly body: readonly ProgramNode[];
  readonly required?: number;
}
/** Wait `ms` milliseconds on the program's clock (a timed step: data, not a blocked thread). */
export interface WaitNode {
  readonly op: 'WAIT';
  readonly ms: Expr;
}
/** Run an external command (no shell); register `out` gets `{ code, signal, stdout, stderr }`. */
export interface PopenNode {
  readonly op: 'POPEN';
  readonly cmd: readonly Expr[];
  readonly out?: string;
  readonly cwd?: string;
  /** Kill the command (SIGTERM) after this long. */
  readonly timeoutMs?: number;
  /** Fail the program on a non-zero exit. Default false. */
  readonly check?: boolean;
}
/** Print `text` with `{register}` placeholders filled in. */
export interface PrintNode {
  readonly op: 'PRINT';
  readonly text: string;
}
/** Set register `reg` to `value`. */
export interface SetNode {
  readonly op: 'SET';
  readonly reg: string;
  readonly value: Expr;
}
/**
 * Run `body` in a worker thread (`mode: 'thread'`, default) or a child process, with a copy of
 * the registers and the functions exported by `module`; registers the fragment wrote are merged
 * back (only those listed in `merge`, if given) when it finishes.
 */
export interface SpawnNode {
  readonly op: 'SPAWN';
  readonly body: ProgramNode;
  /** Module exporting `functions` (a FunctionRegistry): absolute path or file URL. */
  readonly module?: string;
  readonly mode?: 'thread' | 'process';
  readonly merge?: readonly string[];
}
/**
 * `body` `times` times, appending a copy of register `collect` to the list in register `into`
 * after each iteration (`into` starts as an empty list).
 */
export interface BufferRepeatNode {
  readonly op: 'BUFFER_REPEAT';
  readonly times: Expr;
  readonly body: ProgramNode;
  readonly collect: string;
  readonly into: string;
  readonly counter?: string;
}

export type ProgramNode =
  CallNode | SeqNode | RepeatNode | LoopNode | ChooseNode | WeaveNode | WaitNode | PopenNode | PrintNode | SetNode | SpawnNode | BufferRepeatNode;

export type Op = ProgramNode['op'];

/** What one `step()` did. */
export type StepResult =
  /** Made progress; call `step()` again. */
  | { readonly status: 'running' }
  /**
   * Nothing can run now: call again at clock time `until` (null: no timer) or when in-flight
   * work (a CALL returning a promise, POPEN, SPAWN) settles (`io`; see `runner.settled()`).
   */
  | { readonly status: 'waiting'; readonly until: number | null; readonly io: boolean }
  | { readonly status: 'done' };
