import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boardsDir, listBoards } from '../src/boards/load.js';
import { reflex } from './cli-in-process.js';

function tmp(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-boards-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('reflex boards lists every shipped board with its name and source; --json as an array', async (t) => {
  const { code, out } = await reflex('boards');
  t.is(code, 0);
  for (const id of listBoards()) t.regex(out, new RegExp(`^${id} +\\S`, 'm'), id);
  t.regex(out, /^rpi5 +Raspberry Pi 5 .*\n +source: bridge over serial \/dev\/serial\/by-id\//m);
  t.regex(out, /source: bridge \(simulated\), 2000 Hz x 8/);
  const json = await reflex('boards', 'list', '--json');
  t.is(json.code, 0);
  const rows = JSON.parse(json.out) as Array<{ id: string; name: string; source: string }>;
  t.deepEqual(
    rows.map((r) => r.id),
    listBoards(),
  );
  t.is(rows.find((r) => r.id === 'openbci-cyton')?.source, 'cyton on /dev/ttyUSB0');
});

test('reflex boards show ID prints the resolved board as JSON', async (t) => {
  const { code, out } = await reflex('boards', 'show', 'rpi5');
  t.is(code, 0);
  const b = JSON.parse(out) as { id: string; file?: string; pins: Record<string, { chip: string; line: number }> };
  t.is(b.id, 'rpi5');
  t.deepEqual(b.pins.estop, { chip: 'pinctrl-rp1', line: 17, header: 'J8-11' });
  t.is(b.file, undefined, 'the file path is not part of the board');
  const byPath = await reflex('boards', 'show', join(boardsDir, 'sim.json'));
  t.is((JSON.parse(byPath.out) as { id: string }).id, 'sim');
  const unknown = await reflex('boards', 'show', 'rpi9');
  t.is(unknown.code, 2);
  t.regex(unknown.err, /no board "rpi9".*Known boards: .*rpi5/);
});

test('reflex boards check: 0 for valid files, 2 with one line per problem naming file and key', async (t) => {
  const dir = tmp(t);
  const ok = await reflex('boards', 'check', join(boardsDir, 'jetson-orin-nano.json'), join(boardsDir, 'sim.json'));
  t.is(ok.code, 0);
  t.is(ok.err, '');
  t.is(ok.out.split('\n').filter((l) => l.endsWith(': ok')).length, 2);

  const text = readFileSync(join(boardsDir, 'rpi4.json'), 'utf8');
  const broken = join(dir, 'mine.json');
  // Four problems at once, edited in the text as a user would.
  const board = text
    .replace(/\n {2}"name": [^\n]*\n/, '\n')
    .replace('"rate": 1000', '"rate": 50')
    .replace('"line": 17', '"line": "GPIO17"')
    .replace('"slewPerS": 4000', '"slewPerSec": 1, "slewPerS": 4000');
  writeFileSync(broken, board);
  const bad = await reflex('boards', 'check', broken);
  t.is(bad.code, 2);
  const lines = bad.err.trimEnd().split('\n');
  t.deepEqual(
    lines.map((l) => /^(.*?): "([^"]+)"/.exec(l)?.slice(1)),
    [
      [broken, 'name'],
      [broken, 'source.rate'],
      [broken, 'pins.estop.line'],
      [broken, 'actuators[0].slewPerSec'],
    ],
  );

  // Past the schema, the runtime's own checks still run (one problem at a time).
  writeFileSync(broken, text.replace('"safe": 1000', '"safe": 2500'));
  const semantic = await reflex('boards', 'check', broken);
  t.is(semantic.code, 2);
  t.is(semantic.err, `${broken}: "actuators[1].safe" (2500) is outside min..max (1000..2000)\n`);

  writeFileSync(join(dir, 'syntax.json'), '{ "id": ');
  const syntax = await reflex('boards', 'check', join(dir, 'syntax.json'));
  t.is(syntax.code, 2);
  t.true(syntax.err.startsWith(`${join(dir, 'syntax.json')}: not valid JSON`));

  const missing = await reflex('boards', 'check', join(dir, 'nope.json'));
  t.is(missing.code, 2);
  t.is(missing.err, `${join(dir, 'nope.json')}: no such file\n`);
});

test('bad usage exits 2 naming what to do', async (t) => {
  for (const [argv, why] of [
    [['boards', 'flash'], /unknown subcommand "flash"/],
    [['boards', 'check'], /needs the board file/],
    [['boards', 'show'], /one board id or file/],
    [['boards', 'list', 'extra'], /takes no arguments/],
  ] as const) {
    const r = await reflex(...argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.err, why);
  }
  const help = await reflex('boards', '--help');
  t.is(help.code, 0);
  t.regex(help.out, /reflex boards check FILE/);
});
