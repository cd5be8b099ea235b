import { ProgramCodes, ProgramError } from './errors.js';
import { isRegRef, type Json, type ProgramNode } from './types.js';

/** A node's address: the keys from the root, e.g. ["body", 2, "body"]. */
export type NodePath = ReadonlyArray<string | number>;

/** Child nodes of `node`, each with the key path from `node` to it. */
export function children(node: ProgramNode): Array<[NodePath, ProgramNode]> {
  switch (node.op) {
    case 'SEQ':
    case 'WEAVE':
      return node.body.map((c, i) => [['body', i], c]);
    case 'REPEAT':
    case 'LOOP':
    case 'SPAWN':
    case 'BUFFER_REPEAT':
      return [[['body'], node.body]];
    case 'CHOOSE': {
      const out: Array<[NodePath, ProgramNode]> = Object.entries(node.cases).map(([k, c]) => [['cases', k], c]);
      if (node.default) out.push([['default'], node.default]);
      return out;
    }
    default:
      return [];
  }
}

/** Every node matching `pred`, depth first, with its path from the root. */
export function find(root: ProgramNode, pred: (node: ProgramNode, path: NodePath) => boolean): Array<{ path: NodePath; node: ProgramNode }> {
  const out: Array<{ path: NodePath; node: ProgramNode }> = [];
  const visit = (node: ProgramNode, path: NodePath) => {
    if (pred(node, path)) out.push({ path, node });
    for (const [rel, child] of children(node)) visit(child, [...path, ...rel]);
  };
  visit(root, []);
  return out;
}

/**
 * A new tree where every node matching `pred` is replaced by `fn(node, path)` (the original is
 * untouched). Replacements are not searched again, so `fn` may wrap the node it replaces:
 * `replace(p, isCall('mark'), (n) => SEQ(CALL('hook'), n))` inserts a hook before each mark.
 * Rewrite programs before running them: a runner's state follows the tree's shape.
 */
export function replace(
  root: ProgramNode,
  pred: (node: ProgramNode, path: NodePath) => boolean,
  fn: (node: ProgramNode, path: NodePath) => ProgramNode,
): ProgramNode {
  const visit = (node: ProgramNode, path: NodePath): ProgramNode => {
    if (pred(node, path)) return fn(node, path);
    const kids = children(node);
    if (kids.length === 0) return node;
    const copy = structuredClone(node) as unknown as Record<string, unknown>;
    for (const [rel, child] of kids) {
      const next = visit(child, [...path, ...rel]);
      let holder = copy;
      for (let i = 0; i < rel.length - 1; i++) holder = holder[rel[i]!] as Record<string, unknown>;
      holder[rel[rel.length - 1]!] = next;
    }
    return copy as unknown as ProgramNode;
  };
  return visit(root, []);
}

/** Predicate: a CALL of `fn`. */
export function isCall(fn: string): (node: ProgramNode) => boolean {
  return (node) => node.op === 'CALL' && node.fn === fn;
}

/** The node at `path`, or undefined. */
export function nodeAt(root: ProgramNode, path: NodePath): ProgramNode | undefined {
  let node: unknown = root;
  for (const k of path) node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[k] : undefined;
  return node as ProgramNode | undefined;
}

const fields: Record<ProgramNode['op'], { req: Record<string, Kind>; opt: Record<string, Kind> }> = {
  CALL: { req: { fn: 'string' }, opt: { args: 'exprs', out: 'string' } },
  SEQ: { req: { body: 'nodes' }, opt: {} },
  REPEAT: { req: { times: 'expr', body: 'node' }, opt: { counter: 'string' } },
  LOOP: { req: { body: 'node' }, opt: { while: 'expr', counter: 'string' } },
  CHOOSE: { req: { which: 'expr', cases: 'cases' }, opt: { default: 'node' } },
  WEAVE: { req: { body: 'nodes' }, opt: { required: 'count' } },
  WAIT: { req: { ms: 'expr' }, opt: {} },
  POPEN: { req: { cmd: 'exprs' }, opt: { out: 'string', cwd: 'string', timeoutMs: 'count', check: 'boolean' } },
  PRINT: { req: { text: 'string' }, opt: {} },
  SET: { req: { reg: 'string', value: 'expr' }, opt: {} },
  SPAWN: { req: { body: 'node' }, opt: { module: 'string', mode: 'mode', merge: 'strings' } },
  BUFFER_REPEAT: { req: { times: 'expr', body: 'node', collect: 'string', into: 'string' }, opt: { counter: 'string' } },
};
type Kind = 'string' | 'expr' | 'exprs' | 'node' | 'nodes' | 'cases' | 'count' | 'boolean' | 'mode' | 'strings';

/**
 * Check a program (e.g. parsed from a file) before running it; errors name the path,
 * e.g. `program.body[2].times: must be a number, a register ref or JSON`.
 */
export function validateProgram(node: unknown, path = 'program'): asserts node is ProgramNode {
  const fail = (p: string, m: string): never => {
    throw new ProgramError(ProgramCodes.invalid, p, m);
  };
  if (node === null || typeof node !== 'object' || Array.isArray(node))
    fail(path, `must be a node object like { "op": "SEQ", "body": [...] }, got ${JSON.stringify(node)}`);
  const n = node as Record<string, unknown>;
  // Own keys only: "toString" is no op.
  const op = typeof n.op === 'string' && Object.hasOwn(fields, n.op) ? (n.op as ProgramNode['op']) : undefined;
  if (op === undefined) return fail(`${path}.op`, `unknown op ${JSON.stringify(n.op)}; known: ${Object.keys(fields).join(', ')}`);
  const spec = fields[op];
  for (const key of Object.keys(n)) {
    if (key !== 'op' && !(key in spec.req) && !(key in spec.opt))
      fail(`${path}.${key}`, `not a field of ${op} (fields: ${[...Object.keys(spec.req), ...Object.keys(spec.opt)].join(', ')})`);
  }
  for (const key of Object.keys(spec.req)) if (n[key] === undefined) fail(`${path}.${key}`, `required by ${op}`);
  for (const [key, kind] of [...Object.entries(spec.req), ...Object.entries(spec.opt)]) {
    const v = n[key];
    const at = `${path}.${key}`;
    if (v === undefined) continue;
    switch (kind) {
      case 'string':
        if (typeof v !== 'string' || v === '') fail(at, `must be a non-empty string, got ${JSON.stringify(v)}`);
        break;
      case 'boolean':
        if (typeof v !== 'boolean') fail(at, `must be true or false`);
        break;
      case 'count':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(at, `must be a whole number >= 0, got ${JSON.stringify(v)}`);
        break;
      case 'mode':
        if (v !== 'thread' && v !== 'process') fail(at, `must be "thread" or "process", got ${JSON.stringify(v)}`);
        break;
      case 'strings':
        if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(at, 'must be a list of register names');
        break;
      case 'expr':
        checkExpr(v, at, fail);
        break;
      case 'exprs':
        if (!Array.isArray(v)) fail(at, 'must be a list');
        (v as unknown[]).forEach((x, i) => checkExpr(x, `${at}[${i}]`, fail));
        break;
      case 'node':
        validateProgram(v, at);
        break;
      case 'nodes':
        if (!Array.isArray(v)) fail(at, 'must be a list of nodes');
        (v as unknown[]).forEach((x, i) => validateProgram(x, `${at}[${i}]`));
        break;
      case 'cases':
        if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(at, 'must be an object of case name -> node');
        for (const [k, x] of Object.entries(v as object)) validateProgram(x, `${at}.${k}`);
        break;
    }
  }
  if (n.op === 'SPAWN' && typeof n.module === 'string' && !n.module.startsWith('/') && !n.module.startsWith('file:')) {
    fail(`${path}.module`, `must be an absolute path or a file: URL (it is loaded inside the worker), got ${JSON.stringify(n.module)}`);
  }
  if (n.op === 'WEAVE' && typeof n.required === 'number' && n.required > (n.body as unknown[]).length)
    fail(`${path}.required`, `is ${n.required} but WEAVE has ${(n.body as unknown[]).length} children`);
}

function checkExpr(v: unknown, at: string, fail: (p: string, m: string) => never): void {
  if (isRegRef(v)) return;
  if (!isJson(v)) fail(at, `must be JSON or { "$reg": name }, got ${showNonJson(v)}`);
}

function showNonJson(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return v.toString();
  if (typeof v !== 'object' || v === null) return String(v);
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return Array.isArray(v) || ctor === 'Object' ? 'an array or object holding a non-JSON value' : `a ${ctor ?? 'null-prototype'} object`;
}

function isJson(v: unknown): v is Json {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJson);
  if (typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(isJson);
  return false;
}
