import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { readJsonFile, Validator } from '../core/validate.js';
import { validateFirmwareArgs } from './firmware-args.js';
import type { ActuatorDef, BoardDef, SourceDef } from './types.js';
import { BoardCodes } from './codes.js';
import { validateAds1299Source } from './validate-ads1299.js';
import { validateHil } from './validate-hil.js';
import { validateLine, validateNotes, validateSpi, validateUart } from './validate-wiring.js';

/** The top-level `boards/` folder of the package, from src/ (tsx) or dist/ (built). */
export const boardsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'boards');

/** Board ids in `dir`; board.schema.json sits beside the boards so that their "$schema" can name it. */
export function listBoards(dir = boardsDir): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Load a board by id (from `boards/`) or by path to a JSON file. */
export function loadBoard(idOrPath: string, dir = boardsDir): BoardDef {
  const file = idOrPath.endsWith('.json') ? resolve(idOrPath) : join(dir, `${idOrPath}.json`);
  if (!existsSync(file)) {
    throw new ConfigError(BoardCodes.unknown, `no board "${idOrPath}": expected ${file}. Known boards: ${listBoards(dir).join(', ')}`);
  }
  const raw = readJsonFile(file);
  return { ...validateBoard(raw, file), file };
}

export function validateBoard(raw: unknown, file = '<board>'): BoardDef {
  const v = new Validator(file);
  const o = v.object(raw, '');
  v.onlyKeys(o, '', ['$schema', 'id', 'name', 'source', 'tracker', 'pins', 'spi', 'uart', 'actuators', 'description', 'notes', 'hil']);
  if (o.$schema !== undefined && typeof o.$schema !== 'string') v.fail('$schema', 'must be a string (the path or URL of board.schema.json)');
  if (o.description !== undefined && typeof o.description !== 'string') v.fail('description', 'must be a string');
  const board: BoardDef = {
    id: v.string(o.id, 'id'),
    name: v.string(o.name, 'name'),
    source: validateSource(v, o.source, file),
    actuators: v.array(o.actuators ?? [], 'actuators').map((a, i) => validateActuator(v, a, `actuators[${i}]`)),
  };
  if (o.tracker !== undefined) {
    const t = v.object(o.tracker, 'tracker');
    v.onlyKeys(t, 'tracker', ['kind', 'dims', 'names', 'unit']);
    const dims = v.integer(t.dims, 'tracker.dims', [1, 32]);
    const names = v.array(t.names, 'tracker.names').map((n, i) => v.string(n, `tracker.names[${i}]`));
    if (names.length !== dims) v.fail('tracker.names', `has ${names.length} names for ${dims} dims`);
    board.tracker = { kind: v.oneOf(t.kind, 'tracker.kind', ['bridge'] as const), dims, names, unit: v.string(t.unit, 'tracker.unit') };
  }
  if (o.pins !== undefined) {
    const pins = v.object(o.pins, 'pins');
    board.pins = Object.fromEntries(Object.entries(pins).map(([role, ref]) => [role, validateLine(v, ref, `pins.${role}`)]));
  }
  if (o.spi !== undefined) board.spi = validateSpi(v, o.spi, board.pins);
  if (board.source.kind === 'ads1299' && !board.spi) v.fail('spi', 'is required by source.kind "ads1299": the ADC\'s SPI device and data-ready pin');
  if (o.uart !== undefined) board.uart = validateUart(v, o.uart);
  if (o.notes !== undefined) board.notes = validateNotes(v, o.notes);
  const names = new Set<string>();
  for (const [i, a] of board.actuators.entries()) {
    if (names.has(a.name)) v.fail(`actuators[${i}].name`, `"${a.name}" is used twice`);
    names.add(a.name);
  }
  if (o.hil !== undefined) board.hil = validateHil(v, o.hil, board.source, board.actuators);
  return board;
}

/** `file`: the board file, whose directory relative paths in it are resolved from. */
function validateSource(v: Validator, raw: unknown, file: string): SourceDef {
  const s = v.object(raw, 'source');
  const kind = v.oneOf(s.kind, 'source.kind', ['bridge', 'cyton', 'ads1299'] as const);
  if (kind === 'ads1299') return validateAds1299Source(v, s);
  if (kind === 'cyton') {
    v.onlyKeys(s, 'source', ['kind', 'path', 'baudRate', 'gain', 'daisy']);
    const src: SourceDef = { kind, path: v.string(s.path, 'source.path') };
    if (s.baudRate !== undefined) src.baudRate = v.integer(s.baudRate, 'source.baudRate', [1200, 4_000_000]);
    // The ADS1299's programmable gains: anything else is a typo that would mis-scale every sample.
    if (s.gain !== undefined) {
      // A number or its string; anything else fails oneOf with its own description.
      const gain = typeof s.gain === 'number' ? String(s.gain) : s.gain;
      src.gain = Number(v.oneOf(gain, 'source.gain', ['1', '2', '4', '6', '8', '12', '24']));
    }
    if (s.daisy !== undefined) src.daisy = v.boolean(s.daisy, 'source.daisy');
    return src;
  }
  const transport = v.oneOf(s.transport, 'source.transport', ['sim', 'serial'] as const);
  const rate = v.integer(s.rate, 'source.rate', [250, 4000]);
  const channels = v.integer(s.channels, 'source.channels', [1, 16]);
  const blockSamples = s.blockSamples === undefined ? undefined : v.integer(s.blockSamples, 'source.blockSamples', [1, 255]);
  if (transport === 'sim') {
    v.onlyKeys(s, 'source', ['kind', 'transport', 'rate', 'channels', 'blockSamples', 'firmwareArgs']);
    const firmwareArgs = s.firmwareArgs === undefined ? undefined : validateFirmwareArgs(v, s.firmwareArgs, dirname(resolve(file)));
    return { kind, transport, rate, channels, ...(blockSamples !== undefined && { blockSamples }), ...(firmwareArgs && { firmwareArgs }) };
  }
  v.onlyKeys(s, 'source', ['kind', 'transport', 'path', 'baudRate', 'rate', 'channels', 'blockSamples']);
  const src: SourceDef = { kind, transport, path: v.string(s.path, 'source.path'), rate, channels, ...(blockSamples !== undefined && { blockSamples }) };
  if (s.baudRate !== undefined) src.baudRate = v.integer(s.baudRate, 'source.baudRate', [1200, 4_000_000]);
  return src;
}

function validateActuator(v: Validator, raw: unknown, path: string): ActuatorDef {
  const a = v.object(raw, path);
  v.onlyKeys(a, path, ['name', 'kind', 'via', 'channel', 'line', 'pwm', 'min', 'max', 'slewPerS', 'safe', 'unit']);
  const def: ActuatorDef = {
    name: v.string(a.name, `${path}.name`),
    kind: v.oneOf(a.kind, `${path}.kind`, ['digital', 'pwm', 'servo'] as const),
    via: v.oneOf(a.via, `${path}.via`, ['bridge', 'gpio', 'sysfs-pwm', 'sim'] as const),
    min: v.number(a.min, `${path}.min`),
    max: v.number(a.max, `${path}.max`),
    slewPerS: v.number(a.slewPerS, `${path}.slewPerS`),
    safe: v.number(a.safe, `${path}.safe`),
    unit: v.string(a.unit, `${path}.unit`),
  };
  if (def.min > def.max) v.fail(`${path}.min`, `(${def.min}) is above max (${def.max})`);
  if (def.safe < def.min || def.safe > def.max) v.fail(`${path}.safe`, `(${def.safe}) is outside min..max (${def.min}..${def.max})`);
  if (def.slewPerS <= 0) v.fail(`${path}.slewPerS`, `must be positive, got ${def.slewPerS}`);
  if (def.kind === 'servo' && (def.min < 500 || def.max > 2500)) v.fail(path, `servo pulse range must lie within 500..2500 us (protocol limit)`);
  if (def.kind === 'digital' && (def.min < 0 || def.max > 1)) v.fail(path, `digital range must lie within 0..1`);
  if (def.via === 'bridge') def.channel = v.integer(a.channel, `${path}.channel`, [0, 31]);
  if (def.via === 'gpio') def.line = validateLine(v, a.line, `${path}.line`);
  if (def.via === 'sysfs-pwm') {
    const p = v.object(a.pwm, `${path}.pwm`);
    v.onlyKeys(p, `${path}.pwm`, ['chip', 'channel', 'periodNs', 'header']);
    def.pwm = {
      chip: v.string(p.chip, `${path}.pwm.chip`),
      channel: v.integer(p.channel, `${path}.pwm.channel`, [0, 63]),
      periodNs: v.integer(p.periodNs, `${path}.pwm.periodNs`, [1000, 1e9]),
    };
    if (p.header !== undefined) def.pwm.header = v.string(p.header, `${path}.pwm.header`);
  }
  return def;
}
