/**
 * docs/errors.md must list every error code Reflex can raise, and nothing else: the codes of
 * every table (src/core/code-tables.ts, whose completeness against the ErrorCode union tsc
 * checks) and every 'E_...' literal anywhere in src/, which must itself be in a table.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FloorCodes } from '../bench/platform-floor.js';
import { allTableCodes, CODE_TABLES } from '../src/core/code-tables.js';
import { CoreCodes, type ErrorCode } from '../src/core/codes.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Codes not in a table because they are a pattern: BridgeDeviceError for an ERROR number this host does not know. */
const PATTERNS = ['E_DEVICE_CODE_<n>'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every quoted 'E_...' literal in src/ outside comments, with the first place it occurs. */
function literalsInSrc(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of tsFiles(join(root, 'src'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/^\s*(\*|\/\/|\/\*)/.test(line)) return; // comments name codes as text, not literals
      for (const m of line.matchAll(/(['"`])(E_[A-Z0-9_]+)\1/g)) if (!found.has(m[2]!)) found.set(m[2]!, `${file.slice(root.length)}:${i + 1}`);
    });
  }
  return found;
}

/** Codes in the first column of docs/errors.md's tables, with their line. */
function documented(): Map<string, number[]> {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8').split('\n');
  const out = new Map<string, number[]>();
  doc.forEach((line, i) => {
    const m = /^\| `(E_[A-Za-z0-9_<>]+)` \|/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), i + 1]);
  });
  return out;
}

const tableCodes = allTableCodes();
const benchCodes = new Set<string>(Object.values(FloorCodes));

test('the tables hold codes that look like codes, and the union accepts them', (t) => {
  t.true(tableCodes.size > 150, `only ${tableCodes.size} codes in the tables`);
  for (const [where, table] of Object.entries(CODE_TABLES)) {
    for (const [key, code] of Object.entries(table)) t.regex(code, /^E_[A-Z0-9_]+$/, `${where}.${key}`);
  }
  const disconnected: ErrorCode = CoreCodes.disconnected;
  t.is(disconnected, 'E_DISCONNECTED');
});

test('every code literal in src/ is in a code table', (t) => {
  const strays = [...literalsInSrc()].filter(([code]) => !tableCodes.has(code));
  t.deepEqual(
    strays.map(([code, at]) => `${code} (${at})`),
    [],
    "add these to their module's code table (and to docs/errors.md)",
  );
});

test('docs/errors.md lists every code that can be raised', (t) => {
  const doc = documented();
  const wanted = new Set([...tableCodes, ...literalsInSrc().keys(), ...benchCodes, ...PATTERNS]);
  const missing = [...wanted].filter((c) => !doc.has(c)).sort();
  t.deepEqual(missing, [], 'document these in docs/errors.md: code, class, where it comes from, meaning and fix');
});

test('docs/errors.md lists no code that nothing defines', (t) => {
  const defined = new Set([...tableCodes, ...benchCodes, ...PATTERNS]);
  const stale = [...documented()].filter(([c]) => !defined.has(c)).map(([c, lines]) => `${c} (line ${lines.join(', ')})`);
  t.deepEqual(stale, [], 'remove these from docs/errors.md, or define them in a code table');
});

test('each code is documented once per module section at most', (t) => {
  // E_TIMEOUT is in two tables (bridge and telemetry) with a meaning each; no code appears twice in one section.
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8').split(/^## /m);
  for (const section of doc) {
    const codes = [...section.matchAll(/^\| `(E_[A-Za-z0-9_<>]+)` \|/gm)].map((m) => m[1]!);
    t.is(new Set(codes).size, codes.length, `duplicates in section "${section.split('\n')[0]}"`);
  }
});
