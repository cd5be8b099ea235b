import test from 'ava';
import { defaultMaxLineBytes, parseDecimal, TrackerLineParser } from '../src/devices/tracker/line.js';

const enc = (s: string) => new TextEncoder().encode(s);

function collect(parser: TrackerLineParser, chunks: string[]): Array<[number, number[], boolean]> {
  const out: Array<[number, number[], boolean]> = [];
  for (const c of chunks) parser.push(enc(c), (t, v, ok) => out.push([t, Array.from(v), ok]));
  return out;
}

test('parses timestamped lines with space, tab and comma separators and CRLF', (t) => {
  const p = new TrackerLineParser({ dims: 3 });
  const lines = collect(p, ['1000 1.5 -2 3e2\n', '2000\t0.25\t0.5\t0.75\r\n', '3000,1,2,3\n', '  4000  , 7 ,8,9  \n']);
  t.deepEqual(lines, [
    [1000, [1.5, -2, 300], true],
    [2000, [0.25, 0.5, 0.75], true],
    [3000, [1, 2, 3], true],
    [4000, [7, 8, 9], true],
  ]);
  t.is(p.counters.lines, 4);
});

test('lines split across chunks, several lines per chunk', (t) => {
  const p = new TrackerLineParser({ dims: 2 });
  const text = '10 1 2\n20 3 4\n30 5 6\n';
  for (let cut = 1; cut < text.length; cut++) {
    const q = new TrackerLineParser({ dims: 2 });
    t.deepEqual(
      collect(q, [text.slice(0, cut), text.slice(cut)]).map((l) => l[0]),
      [10, 20, 30],
      `cut at ${cut}`,
    );
  }
  t.deepEqual(collect(p, ['10 1', ' 2\n20 3 4\n3', '0 5 6\n']).length, 3);
});

test('comments, blank lines, no-timestamp and nan', (t) => {
  const p = new TrackerLineParser({ dims: 2 });
  const lines = collect(p, ['# header: t_us x y\n', '\n', '   \n', '- 1 2\n', '50 nan 1\n', '60 NaN inf\n']);
  t.is(lines.length, 3);
  t.true(Number.isNaN(lines[0]![0]));
  t.deepEqual(lines[0]![1], [1, 2]);
  t.true(lines[0]![2]);
  t.false(lines[1]![2], 'nan value makes the sample invalid');
  t.false(lines[2]![2]);
  t.is(p.counters.comments, 1);
});

test('bad lines and oversize lines are counted and skipped, parsing resumes', (t) => {
  const p = new TrackerLineParser({ dims: 2, maxLineBytes: 16 });
  const lines = collect(p, [
    '1 2\n', // too few values
    '1 2 3 4\n', // too many
    'x 1 2\n', // bad time
    '5 1 2z\n', // bad value
    '6 1e 2\n', // bad exponent
    '7 1 2 this line is far too long for the buffer\n',
    '8 1 2\n',
  ]);
  t.deepEqual(lines, [[8, [1, 2], true]]);
  t.is(p.counters.badLine, 5);
  t.is(p.counters.oversize, 1);
});

test('with many values the line limit grows: 256 values of up to 15 characters fit, more is oversize', (t) => {
  const p = new TrackerLineParser({ dims: 256 });
  t.is(defaultMaxLineBytes(2), 1024);
  t.is(defaultMaxLineBytes(256), 16 * 257);
  const got: number[] = [];
  const line = (width: number) => `1 ${Array.from({ length: 256 }, (_, i) => String(i).padStart(width, '0')).join(' ')}\n`;
  p.push(new TextEncoder().encode(line(15)), (_t, v) => got.push(v[255]!));
  t.deepEqual(got, [255]);
  p.push(new TextEncoder().encode(line(16)), (_t, v) => got.push(v[255]!));
  t.is(p.counters.oversize, 1);
  t.deepEqual(got, [255]);
});

test('parseDecimal agrees with Number() on decimal forms', (t) => {
  for (const s of [
    '0',
    '-0.5',
    '123456789',
    '3.14159',
    '1e-3',
    '-2.5E+4',
    '.5',
    '5.',
    '+7',
    '1234567.891',
    '0.000001',
    '1695372000123456',
    'Infinity',
    '-inf',
  ]) {
    const b = enc(s);
    t.is(parseDecimal(b, 0, b.length), Number(s.replace(/^-inf$/, '-Infinity')), s);
  }
  for (const s of ['', '-', '.', 'e5', '1..2', '1e', '--1', '0x10', 'nan']) {
    const b = enc(s);
    t.true(Number.isNaN(parseDecimal(b, 0, b.length)), s);
  }
});
