/**
 * One source of truth for the board format: boards/board.schema.json (what editors check) and
 * the Validator in src/boards/load.ts (what the runtime checks) must accept and refuse the same
 * files. Every shipped board and a set of broken ones go through both; the few rules a schema
 * cannot state (min <= safe <= max, unique names, ...) are listed apart, refused by the
 * Validator only.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boardsDir, listBoards } from '../src/boards/load.js';
import { loadBoardSchema, schemaProblems } from '../src/boards/schema.js';
import { shipped, validatorSays, type Json } from './board-helpers.js';

const schema = loadBoardSchema();

test('every shipped board names the schema, passes it and the Validator, and its id is its file name', (t) => {
  const ids = listBoards();
  for (const id of ['sim', 'openbci-cyton', 'rpi4', 'rpi5', 'rpi-zero2w', 'beaglebone-black', 'jetson-orin-nano']) t.true(ids.includes(id), id);
  t.false(ids.includes('board.schema'), 'the schema is not listed as a board');
  for (const id of ids) {
    const raw = shipped(id);
    t.is(raw.$schema, './board.schema.json', `${id}.json names the schema for editors`);
    t.deepEqual(schemaProblems(raw, schema), [], `${id}.json against the schema`);
    t.is(validatorSays(raw), undefined, `${id}.json against the Validator`);
    t.is(raw.id, id);
  }
});

/** A pi board to break, deep-copied per case. */
const base = (): Json => structuredClone(shipped('rpi4'));
const sim = (): Json => structuredClone(shipped('sim'));
const cyton = (): Json => structuredClone(shipped('openbci-cyton'));
const DEL = Symbol('delete');
/** Edits as data: key path ("actuators[0].kind") -> new value, or DEL to remove the key. */
type Edit = Record<string, unknown>;

function apply(raw: Json, edit: Edit): Json {
  for (const [path, value] of Object.entries(edit)) {
    const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.');
    const last = parts.pop()!;
    let node = raw as Record<string, unknown>;
    for (const p of parts) node = node[p] as Record<string, unknown>;
    if (value === DEL) delete node[last];
    else node[last] = value;
  }
  return raw;
}

/** Broken files both must refuse, each naming this key. */
const structural: Array<[string, () => Json, Edit, string]> = [
  ['missing id', base, { id: DEL }, 'id'],
  ['empty name', base, { name: '' }, 'name'],
  ['unknown top-level key', base, { pinz: {} }, 'pinz'],
  ['notes not strings', base, { notes: [3] }, 'notes[0]'],
  ['$schema not a string', base, { $schema: 1 }, '$schema'],
  ['unknown source kind', base, { 'source.kind': 'spi' }, 'source.kind'],
  ['bridge rate too low', base, { 'source.rate': 10 }, 'source.rate'],
  ['bridge channels fractional', base, { 'source.channels': 2.5 }, 'source.channels'],
  ['serial bridge without path', base, { 'source.path': DEL }, 'source.path'],
  ['serial bridge with firmwareArgs', base, { 'source.firmwareArgs': [] }, 'source.firmwareArgs'],
  ['sim bridge with a path', sim, { 'source.path': '/dev/ttyACM0' }, 'source.path'],
  ['bad baud rate', base, { 'source.baudRate': 300 }, 'source.baudRate'],
  ['cyton gain', cyton, { 'source.gain': 3 }, 'source.gain'],
  ['cyton unknown key', cyton, { 'source.rate': 250 }, 'source.rate'],
  ['pin as a global number', base, { 'pins.estop': 529 }, 'pins.estop'],
  ['pin line negative', base, { 'pins.estop.line': -1 }, 'pins.estop.line'],
  ['pin chip missing', base, { 'pins.dataReady.chip': DEL }, 'pins.dataReady.chip'],
  ['pin activeLow a string', base, { 'pins.estop.activeLow': 'yes' }, 'pins.estop.activeLow'],
  ['pin unknown key', base, { 'pins.estop.gpio': 17 }, 'pins.estop.gpio'],
  ['spi mode 4', base, { 'spi.mode': 4 }, 'spi.mode'],
  ['spi without miso', base, { 'spi.lines.miso': DEL }, 'spi.lines.miso'],
  ['spi speed too low', base, { 'spi.maxSpeedHz': 10 }, 'spi.maxSpeedHz'],
  ['spi line out of range', base, { 'spi.lines.cs.line': 5000 }, 'spi.lines.cs.line'],
  ['uart without rx', base, { 'uart.rx': DEL }, 'uart.rx'],
  ['actuator kind', base, { 'actuators[0].kind': 'laser' }, 'actuators[0].kind'],
  ['actuator typo key', base, { 'actuators[0].slewPerSec': 1 }, 'actuators[0].slewPerSec'],
  ['actuator slew zero', base, { 'actuators[0].slewPerS': 0 }, 'actuators[0].slewPerS'],
  ['sysfs-pwm without pwm', base, { 'actuators[0].pwm': DEL }, 'actuators[0].pwm'],
  ['pwm chip as a number', base, { 'actuators[1].pwm.chip': 0 }, 'actuators[1].pwm.chip'],
  ['pwm period too short', base, { 'actuators[0].pwm.periodNs': 10 }, 'actuators[0].pwm.periodNs'],
  ['gpio actuator without line', base, { 'actuators[2].line': DEL }, 'actuators[2].line'],
  ['bridge actuator without channel', sim, { 'actuators[0].channel': DEL }, 'actuators[0].channel'],
  ['tracker dims 0', sim, { 'tracker.dims': 0 }, 'tracker.dims'],
  ['tracker kind', sim, { 'tracker.kind': 'zmq' }, 'tracker.kind'],
  ['hil limit below its minimum', sim, { 'hil.ratePpm': 0 }, 'hil.ratePpm'],
  ['hil unknown key', sim, { 'hil.latencyMs': 5 }, 'hil.latencyMs'],
  ['hil limit missing', sim, { 'hil.estopMaxMs': DEL }, 'hil.estopMaxMs'],
  ['hil unplugMs fractional', sim, { 'hil.unplugMs': 2.5 }, 'hil.unplugMs'],
  ['hil loopback channel 16', sim, { 'hil.loopback.channel': 16 }, 'hil.loopback.channel'],
  ['hil loopback without actuator', sim, { 'hil.loopback.actuator': DEL }, 'hil.loopback.actuator'],
];

test('broken files: the schema and the Validator both refuse them, naming the same key', (t) => {
  for (const [what, make, edit, key] of structural) {
    const raw = apply(make(), edit);
    const problems = schemaProblems(raw, schema);
    t.true(
      problems.some((p) => p.path === key),
      `${what}: schema should name "${key}", said ${JSON.stringify(problems)}`,
    );
    const msg = validatorSays(raw);
    t.truthy(msg, `${what}: the Validator accepted it`);
    t.true(msg!.startsWith('x.json: '), `${what}: ${msg} names the file`);
    t.true(msg!.includes(`"${key}"`), `${what}: ${msg} should name "${key}"`);
  }
});

/** Rules no JSON Schema can state: the schema accepts these, the Validator refuses them. */
const semantic: Array<[string, () => Json, Edit, string]> = [
  ['safe outside min..max', base, { 'actuators[0].safe': 2500 }, 'actuators[0].safe'],
  ['min above max', base, { 'actuators[0].min': 2000, 'actuators[0].max': 1000 }, 'actuators[0].min'],
  ['two actuators with one name', base, { 'actuators[1].name': 'wrist' }, 'actuators[1].name'],
  ['tracker names not matching dims', sim, { 'tracker.dims': 3 }, 'tracker.names'],
  ['spi.dataReady naming no pin', base, { 'spi.dataReady': 'drdy' }, 'spi.dataReady'],
  ['a firmware flag the board may not pass', sim, { 'source.firmwareArgs': ['--rate', '4000'] }, 'source.firmwareArgs[0]'],
  ['a signal fault of no known kind', sim, { 'source.firmwareArgs': ['--fault-on-usr1', 'melt:1'] }, 'source.firmwareArgs[1]'],
  ['hil loopback naming no actuator', sim, { 'hil.loopback.actuator': 'laser' }, 'hil.loopback.actuator'],
  ['hil loopback on a channel not streamed', sim, { 'hil.loopback.channel': 8 }, 'hil.loopback.channel'],
  ['hil loopbackMaxMs below loopbackP99Ms', sim, { 'hil.loopbackMaxMs': 1 }, 'hil.loopbackMaxMs'],
  ['hil loopback on a GPIO actuator', base, { 'hil.loopback': { actuator: 'active_led', channel: 0 } }, 'hil.loopback.actuator'],
];

test('cross-field rules: the schema cannot state them, the Validator refuses them naming the key', (t) => {
  for (const [what, make, edit, key] of semantic) {
    const raw = apply(make(), edit);
    t.deepEqual(schemaProblems(raw, schema), [], `${what}: the schema accepts it (if it can now refuse it, move the case to "structural")`);
    const msg = validatorSays(raw);
    t.truthy(msg, `${what}: the Validator accepted it`);
    t.true(msg!.includes(`"${key}"`), `${what}: ${msg} should name "${key}"`);
  }
});

test('servo and digital ranges are in both (the schema through if/then)', (t) => {
  const servo = apply(base(), { 'actuators[0].max': 3000 });
  t.true(schemaProblems(servo, schema).some((p) => p.path === 'actuators[0].max'));
  t.regex(validatorSays(servo)!, /500\.\.2500/);
  const digital = apply(base(), { 'actuators[2].max': 2 });
  t.true(schemaProblems(digital, schema).some((p) => p.path === 'actuators[2].max'));
  t.regex(validatorSays(digital)!, /0\.\.1/);
});

test('variants both accept: optional keys left out, a cyton gain as a string, a board without pins', (t) => {
  const cases: Array<[() => Json, Edit]> = [
    [base, { notes: DEL }],
    [base, { uart: DEL }],
    [base, { spi: DEL, pins: DEL }],
    [base, { actuators: DEL }],
    [cyton, { 'source.gain': '12' }],
    [base, { 'pins.reset': { chip: 'pinctrl-bcm2711', line: 5 } }],
  ];
  for (const [make, edit] of cases) {
    const raw = apply(make(), edit);
    t.deepEqual(schemaProblems(raw, schema), []);
    t.is(validatorSays(raw), undefined);
  }
});

test('the schema lists every problem of a file at once, one per key', (t) => {
  const raw = apply(base(), { id: DEL, 'source.rate': 1, 'pins.estop.line': 'seventeen', 'actuators[0].kind': 'laser' });
  t.deepEqual(
    schemaProblems(raw, schema).map((p) => p.path),
    ['id', 'source.rate', 'pins.estop.line', 'actuators[0].kind'],
  );
});

test('a schema keyword the evaluator does not implement is an error, not silently skipped', (t) => {
  t.throws(() => schemaProblems('x', { type: 'string', pattern: '^x$' }), { message: /keyword "pattern" is not supported/ });
});

test('docs/boards.md lists every shipped board', (t) => {
  const doc = readFileSync(join(boardsDir, '..', 'docs', 'boards.md'), 'utf8');
  for (const id of listBoards()) t.true(doc.includes(`| \`${id}\` |`), `docs/boards.md has a row for ${id}`);
});
