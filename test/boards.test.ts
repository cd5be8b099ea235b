import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBoards, loadBoard, validateBoard } from '../src/boards/load.js';
import { ConfigError } from '../src/core/errors.js';

test('every shipped board file validates', (t) => {
  const ids = listBoards();
  t.true(ids.includes('sim'));
  for (const id of ids) {
    const b = loadBoard(id);
    t.is(b.id, id, `board file ${id}.json declares id ${b.id}`);
  }
});

test('sim board: bridge source on the simulated transport, actuators with safe states in range', (t) => {
  const b = loadBoard('sim');
  t.is(b.source.kind, 'bridge');
  t.true(b.actuators.length > 0);
  for (const a of b.actuators) t.true(a.safe >= a.min && a.safe <= a.max);
});

function bad(raw: unknown): ConfigError {
  const err = (() => {
    try {
      validateBoard(raw, 'x.json');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof ConfigError)) throw new Error('expected a ConfigError');
  return err;
}

const base = () => ({
  id: 'b',
  name: 'B',
  source: { kind: 'bridge', transport: 'serial', path: '/dev/ttyACM0', rate: 1000, channels: 4 },
  actuators: [{ name: 'a', kind: 'servo', via: 'bridge', channel: 0, min: 1000, max: 2000, slewPerS: 1000, safe: 1500, unit: 'us' }],
});

test('validation errors name the key and have a stable code', (t) => {
  t.notThrows(() => validateBoard(base(), 'x.json'));
  const cases: Array<[(b: ReturnType<typeof base>) => void, string]> = [
    [(b) => (b.source.rate = 10), '"source.rate"'],
    [(b) => ((b.actuators[0] as Record<string, unknown>).safe = 3000), '"actuators[0].safe"'],
    [(b) => ((b.actuators[0] as Record<string, unknown>).slewPerSec = 1), '"actuators[0].slewPerSec"'],
    [(b) => ((b.actuators[0] as Record<string, unknown>).kind = 'laser'), '"actuators[0].kind"'],
    [(b) => b.actuators.push({ ...b.actuators[0]! }), '"actuators[1].name"'],
    [(b) => ((b as Record<string, unknown>).pins = { estop: { chip: 'gpiochip0', line: -1 } }), '"pins.estop.line"'],
  ];
  for (const [mutate, key] of cases) {
    const b = base();
    mutate(b);
    const err = bad(b);
    t.is(err.code, 'E_CONFIG');
    t.true(err.message.includes(key), `${err.message} should name ${key}`);
    t.true(err.message.startsWith('x.json'), 'names the file');
  }
});

test('unknown board id lists the known ones; bad JSON names the file', (t) => {
  const err = t.throws(() => loadBoard('nope'));
  t.is((err as ConfigError).code, 'E_BOARD_UNKNOWN');
  t.true(err.message.includes('sim'));
  const dir = mkdtempSync(join(tmpdir(), 'reflex-board-'));
  const f = join(dir, 'broken.json');
  writeFileSync(f, '{ nope');
  const e2 = t.throws(() => loadBoard(f));
  t.is((e2 as ConfigError).code, 'E_CONFIG');
  t.true(e2.message.includes(f));
});

test('firmwareArgs of a simulated board: only host-firmware flags a board may pass, with valid values', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-board-fw-'));
  const sim = (firmwareArgs: unknown) => ({
    id: 's',
    name: 'S',
    source: { kind: 'bridge', transport: 'sim', rate: 2000, channels: 8, firmwareArgs },
    actuators: [],
  });
  const file = join(dir, 'sim-x.json');
  const ok = validateBoard(sim(['--seed', '7', '--mains', '60', '--fault', 'drop:5@1000', '--autostart', '--actuator-log', 'act.log']), file);
  if (ok.source.kind !== 'bridge' || ok.source.transport !== 'sim') throw new Error('not a sim source');
  t.deepEqual(
    ok.source.firmwareArgs,
    ['--seed', '7', '--mains', '60', '--fault', 'drop:5@1000', '--autostart', '--actuator-log', join(dir, 'act.log')],
    'relative file paths are taken from the board file directory',
  );
  const cases: Array<[unknown, string, RegExp]> = [
    ['--seed 7', '"source.firmwareArgs"', /must be an array/],
    [['--seed', 7], '"source.firmwareArgs[1]"', /must be a string/],
    [['--bogus'], '"source.firmwareArgs[0]"', /not a host firmware flag/],
    [['--rate', '4000'], '"source.firmwareArgs[0]"', /source\.rate/],
    [['--channels', '4'], '"source.firmwareArgs[0]"', /source\.channels/],
    [['--block', '4'], '"source.firmwareArgs[0]"', /source\.blockSamples/],
    [['--link', '/tmp/x'], '"source.firmwareArgs[0]"', /the runtime sets it/],
    [['--offline', '1'], '"source.firmwareArgs[0]"', /exit/],
    [['--seed'], '"source.firmwareArgs[0]"', /needs a value/],
    [['--mains', '55'], '"source.firmwareArgs[1]"', /50 or 60/],
    [['--fault', 'melt:3'], '"source.firmwareArgs[1]"', /KIND:PARAM/],
    [['--drift-ppm', 'fast'], '"source.firmwareArgs[1]"', /number/],
  ];
  for (const [args, key, why] of cases) {
    const err = bad(sim(args));
    t.true(err.message.startsWith('x.json'), 'names the file');
    t.true(err.message.includes(key), `${err.message} should name ${key}`);
    t.regex(err.message, why);
  }
});

test('a board loaded from a file remembers it, so start-up errors can name it', (t) => {
  t.true(loadBoard('sim').file!.endsWith('boards/sim.json'));
});
