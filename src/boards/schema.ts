/**
 * The board JSON Schema (boards/board.schema.json), evaluated here so that `reflex boards check`
 * can list every structural problem of a file at once, one line each naming file and key (the
 * Validator in load.ts stops at the first). Only the keywords that schema uses are implemented;
 * an unknown keyword throws, so the schema cannot silently grow a rule nobody checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boardsDir } from './load.js';

type Schema = boolean | { readonly [k: string]: unknown };

/** One problem: the key path in the same form as the Validator's ("actuators[0].safe", "" = the file). */
export interface SchemaProblem {
  path: string;
  message: string;
}

const KNOWN = new Set([
  '$schema', '$id', '$ref', '$defs', 'title', 'description',
  'type', 'properties', 'required', 'additionalProperties', 'items',
  'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'minLength',
  'if', 'then', 'else', 'allOf',
]); // prettier-ignore

/** The schema shipped in boards/, parsed once per call (a CLI command reads it once). */
export function loadBoardSchema(dir = boardsDir): Schema {
  return JSON.parse(readFileSync(join(dir, 'board.schema.json'), 'utf8')) as Schema;
}

/** Every problem of `value` against `schema` (empty: it conforms). */
export function schemaProblems(value: unknown, schema: Schema): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  evaluate(value, schema, '', schema, out);
  // Branches can restate a rule (an enum, then a const per branch): one line per key is enough.
  const seen = new Set<string>();
  return out.filter((p) => !seen.has(p.path) && seen.add(p.path));
}

function key(path: string, k: string): string {
  return path ? `${path}.${k}` : k;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

function typeOk(v: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    default:
      throw new Error(`board schema: type "${type}" is not supported by src/boards/schema.ts`);
  }
}

function resolveRef(root: Schema, ref: string): Schema {
  const m = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(ref);
  const defs = typeof root === 'object' ? (root.$defs as Record<string, Schema> | undefined) : undefined;
  const target = m && defs ? defs[m[1]!] : undefined;
  if (target === undefined) throw new Error(`board schema: $ref "${ref}" does not name an entry of $defs`);
  return target;
}

/** Evaluate and append problems to `out`; returns whether `v` conforms. */
function evaluate(v: unknown, s: Schema, path: string, root: Schema, out: SchemaProblem[]): boolean {
  if (s === true) return true;
  if (s === false) {
    out.push({ path, message: 'is not allowed here' });
    return false;
  }
  for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`board schema: keyword "${k}" is not supported by src/boards/schema.ts`);
  const before = out.length;
  if (typeof s.$ref === 'string') evaluate(v, resolveRef(root, s.$ref), path, root, out);
  if (typeof s.type === 'string' && !typeOk(v, s.type)) {
    out.push({ path, message: `must be ${s.type === 'integer' ? 'an integer' : `a${/^[aeiou]/.test(s.type) ? 'n' : ''} ${s.type}`}, got ${describe(v)}` });
    return false;
  }
  if ('const' in s && v !== s.const) out.push({ path, message: `must be ${JSON.stringify(s.const)}, got ${describe(v)}` });
  if (Array.isArray(s.enum) && !s.enum.includes(v)) {
    out.push({ path, message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${describe(v)}` });
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) out.push({ path, message: `must be >= ${s.minimum}, got ${v}` });
    if (typeof s.maximum === 'number' && v > s.maximum) out.push({ path, message: `must be <= ${s.maximum}, got ${v}` });
    if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum) out.push({ path, message: `must be > ${s.exclusiveMinimum}, got ${v}` });
  }
  if (typeof v === 'string' && typeof s.minLength === 'number' && v.length < s.minLength) out.push({ path, message: 'must be a non-empty string' });
  if (Array.isArray(v) && s.items !== undefined) v.forEach((item, i) => evaluate(item, s.items as Schema, `${path}[${i}]`, root, out));
  if (typeOk(v, 'object')) objectRules(v as Record<string, unknown>, s, path, root, out);
  if (s.if !== undefined) {
    // `if` only selects a branch: its own failures are not problems of the file.
    const branch = evaluate(v, s.if as Schema, path, root, []) ? s.then : s.else;
    if (branch !== undefined) evaluate(v, branch as Schema, path, root, out);
  }
  if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) evaluate(v, sub, path, root, out);
  return out.length === before;
}

function objectRules(o: Record<string, unknown>, s: { readonly [k: string]: unknown }, path: string, root: Schema, out: SchemaProblem[]): void {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  if (Array.isArray(s.required)) {
    for (const r of s.required as string[]) if (!(r in o)) out.push({ path: key(path, r), message: 'is required' });
  }
  for (const [k, val] of Object.entries(o)) {
    if (k in props) evaluate(val, props[k]!, key(path, k), root, out);
    else if (s.additionalProperties === false) {
      out.push({ path: key(path, k), message: `is not a known key (known: ${Object.keys(props).join(', ')})` });
    } else if (typeof s.additionalProperties === 'object') evaluate(val, s.additionalProperties as Schema, key(path, k), root, out);
  }
}
