/**
 * The module graph keeps the plan in docs/architecture.md: no import cycles in src/, and
 * src/testing/ (the `reflex/testing` fakes and simulators) is reached only through the entries.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

interface Edge {
  to: string;
  /** Erased at compile time (`import type`, or every name imported is a type). */
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative imports and re-exports of one file, resolved to files under src/. */
function importsOf(file: string): Edge[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const edges: Edge[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean): void => {
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) return;
    const target = resolve(dirname(file), spec.text.replace(/\.js$/, '.ts'));
    if (!existsSync(target)) throw new Error(`${relative(ROOT, file)} imports ${spec.text}, which resolves to no file under src/`);
    edges.push({ to: target, typeOnly });
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const c = st.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = c !== undefined && (c.isTypeOnly || (!c.name && named !== undefined && named.length > 0 && named.every((n) => n.isTypeOnly)));
      add(st.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(st)) {
      const named = st.exportClause && ts.isNamedExports(st.exportClause) ? st.exportClause.elements : undefined;
      add(st.moduleSpecifier, st.isTypeOnly || (named !== undefined && named.length > 0 && named.every((n) => n.isTypeOnly)));
    }
  }
  return edges;
}

const graph = new Map<string, Edge[]>(sourceFiles(SRC).map((f) => [f, importsOf(f)]));
const rel = (f: string): string => relative(ROOT, f);

/**
 * Type-only imports that may point up the table: core/codes.ts gathers every module's code
 * table into the one `ErrorCode` union that core/errors.ts types `code` with, erased at run time.
 */
const TYPE_AGGREGATES = new Set([join(SRC, 'core', 'codes.ts')]);

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(runtimeOnly: boolean): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const e of graph.get(v) ?? []) {
      if (e.typeOnly && (runtimeOnly || TYPE_AGGREGATES.has(v))) continue;
      if (!index.has(e.to)) {
        visit(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (onStack.has(e.to)) {
        low.set(v, Math.min(low.get(v)!, index.get(e.to)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(rel(w));
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v && !(runtimeOnly && e.typeOnly));
      if (scc.length > 1 || selfLoop) found.push(scc.sort());
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  return found;
}

test('src/ has no import cycles (imports that stay at run time)', (t) => {
  t.deepEqual(cycles(true), []);
});

test('src/ has no import cycles, counting type-only imports (but the code union in core/codes.ts)', (t) => {
  t.deepEqual(cycles(false), []);
});

test('src/testing/ is imported only by src/testing/ and the entries', (t) => {
  const testing = join(SRC, 'testing') + '/';
  const allowed = [testing, join(SRC, 'entries') + '/'];
  const offenders: string[] = [];
  for (const [from, edges] of graph) {
    if (allowed.some((d) => from.startsWith(d))) continue;
    for (const e of edges) if (e.to.startsWith(testing)) offenders.push(`${rel(from)} -> ${rel(e.to)}`);
  }
  t.deepEqual(offenders, []);
});

test('the graph is read: entries reach the modules they export', (t) => {
  // Guards the checks above against passing on an empty or unresolved graph.
  t.true(graph.size > 100);
  const testingEntry = graph.get(join(SRC, 'entries', 'testing.ts'));
  t.truthy(testingEntry);
  t.true(testingEntry!.some((e) => e.to.startsWith(join(SRC, 'testing') + '/')));
});
