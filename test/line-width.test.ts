/**
 * Lines stay under the formatter's width. Prettier wraps code at printWidth but cannot break a
 * long string literal or comment, so those grow past it unnoticed; this check catches them.
 * Split a long message into concatenated literals (`'...' +` newline `'...'`), never reword it.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIRS = ['src', 'test', 'bench', 'examples'];

function printWidth(): number {
  const config = JSON.parse(readFileSync(join(ROOT, '.prettierrc.json'), 'utf8')) as { printWidth?: unknown };
  if (typeof config.printWidth !== 'number') throw new Error('.prettierrc.json sets no numeric printWidth: the width check needs it');
  return config.printWidth;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.isFile() && e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `line:length` of every line longer than `width`, counted in code points as prettier counts them. */
function longLines(text: string, width: number): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const length = [...line.replace(/\r$/, '')].length;
    if (length > width) out.push(`${i + 1}: ${length}`);
  });
  return out;
}

test('longLines reports the lines past the width, by 1-based number and length', (t) => {
  const text = ['x'.repeat(10), 'y'.repeat(11), '', 'é'.repeat(10), 'z'.repeat(12) + '\r'].join('\n');
  t.deepEqual(longLines(text, 10), ['2: 11', '5: 12']);
  t.deepEqual(longLines('', 10), []);
});

test(`every .ts line in ${DIRS.join(', ')} fits prettier's printWidth`, (t) => {
  const width = printWidth();
  const files = DIRS.flatMap((d) => tsFiles(join(ROOT, d)));
  t.true(files.length > 100, `found only ${files.length} .ts files under ${DIRS.join(', ')}`);
  const offenders = files.flatMap((f) => longLines(readFileSync(f, 'utf8'), width).map((l) => `${relative(ROOT, f)}:${l}`));
  t.deepEqual(offenders, [], `lines longer than printWidth ${width} (file:line: length); split the literal or comment:\n${offenders.join('\n')}`);
});
