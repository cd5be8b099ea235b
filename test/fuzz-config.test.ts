/**
 * Hostile calibration program files and board `hil` sections: wrong types, NaN, negative and
 * huge numbers, unknown keys. Each is refused with a ConfigError naming the file and the key,
 * or accepted with values inside their limits; never a TypeError, and never a program that
 * would run for ever.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { validateHil } from '../src/boards/validate-hil.js';
import type { ActuatorDef, SourceDef } from '../src/boards/types.js';
import { ConfigError } from '../src/core/errors.js';
import { Validator } from '../src/core/validate.js';
import { DEFAULT_CALIBRATION_FILE, MAX_CALIBRATION_PHASE_MS, MAX_CALIBRATION_REPEAT, parseCalibrationFile } from '../src/program/protocols/calibration-file.js';

const FILE = '/home/lab/my-calibration.json';
const shipped = JSON.parse(readFileSync(DEFAULT_CALIBRATION_FILE, 'utf8')) as Record<string, unknown>;

/** Accepted, or a ConfigError whose message names the file. */
function settles(raw: unknown, file = FILE): 'ok' | ConfigError {
  try {
    parseCalibrationFile(raw, file);
    return 'ok';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(err)}`, { cause: err });
    if (!err.message.includes(file)) throw new Error(`does not name the file: ${err.message}`, { cause: err });
    return err;
  }
}

const hostile = fc.oneof(
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, -0, 0.5, 1e12, 2 ** 53, null, undefined, '', '5', [], {}, { $reg: 'nope' }, true),
  fc.anything({ maxDepth: 2 }),
);

test('the shipped program file is accepted', (t) => {
  t.is(settles(shipped), 'ok');
});

test('any top-level key set to a hostile value settles as accepted or a ConfigError naming the file', (t) => {
  fc.assert(
    fc.property(fc.constantFrom('format', 'name', 'about', 'registers', 'prompts', 'program', 'extra', '__proto__'), hostile, (key, v) => {
      const r = settles({ ...shipped, [key]: v });
      if (key === 'extra' && r instanceof ConfigError) return /unknown keys: extra/.test(r.message);
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('hostile register and prompt values settle; a bad *_ms register is named', (t) => {
  fc.assert(
    fc.property(fc.constantFrom('trials', 'ready_ms', 'rest_ms', 'hold_ms', 'new_ms', 'other'), hostile, (k, v) => {
      const regs = { ...(shipped.registers as object), [k]: v };
      const r = settles({ ...shipped, registers: regs });
      if (k.endsWith('_ms') && !(typeof v === 'number' && v >= 0 && v <= MAX_CALIBRATION_PHASE_MS))
        return r instanceof ConfigError && r.message.includes(`registers.${k}`);
      return true;
    }),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 8 }), hostile, (k, v) => {
      settles({ ...shipped, prompts: { ...(shipped.prompts as object), [k]: v } });
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('random program trees settle', (t) => {
  const node: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.record({ op: fc.constantFrom('WAIT'), ms: hostile }),
      fc.record({ op: fc.constant('REPEAT'), times: hostile, body: tie('node') }),
      fc.record({ op: fc.constant('SEQ'), body: fc.array(tie('node'), { maxLength: 3 }) }),
      fc.record({ op: fc.constant('CALL'), fn: fc.constantFrom('calibration.mark', 'calibration.prompt', 'nope'), args: fc.array(hostile, { maxLength: 3 }) }),
      hostile,
    ),
  })).node;
  fc.assert(
    fc.property(node, (program) => {
      settles({ ...shipped, program });
    }),
    { numRuns: 400 },
  );
  t.pass();
});

const mark = { op: 'CALL', fn: 'calibration.mark', args: ['rest', 0] };

test('a REPEAT of 1e12, literal or through a register, is refused naming it', (t) => {
  for (const times of [1e12, MAX_CALIBRATION_REPEAT + 1, -1, 2.5]) {
    const lit = settles({ ...shipped, program: { op: 'REPEAT', times, body: mark } });
    t.true(lit instanceof ConfigError, String(times));
    t.regex((lit as ConfigError).message, /program\.times.*REPEAT/);
  }
  const viaReg = settles({ ...shipped, registers: { ...(shipped.registers as object), trials: 1e12 } });
  t.true(viaReg instanceof ConfigError);
  t.regex((viaReg as ConfigError).message, /registers\.trials is 1000000000000/);
  t.is(settles({ ...shipped, program: { op: 'REPEAT', times: MAX_CALIBRATION_REPEAT, body: mark } }), 'ok');
});

test('a WAIT or *_ms duration past an hour is refused naming it', (t) => {
  const w = settles({ ...shipped, program: { op: 'SEQ', body: [mark, { op: 'WAIT', ms: 1e12 }] } });
  t.true(w instanceof ConfigError);
  t.regex((w as ConfigError).message, /program\.body\[1\]\.ms/);
  const r = settles({ ...shipped, registers: { ...(shipped.registers as object), hold_ms: 1e12 } });
  t.true(r instanceof ConfigError);
  t.regex((r as ConfigError).message, /registers\.hold_ms/);
});

const source = { kind: 'firmware-bridge', channels: 8 } as unknown as SourceDef;
const actuators = [
  { name: 'led', kind: 'digital', via: 'bridge', channel: 0 },
  { name: 'buzz', kind: 'digital', via: 'gpio' },
] as unknown as ActuatorDef[];
const goodHil = { ratePpm: 500, loopbackP99Ms: 2, loopbackMaxMs: 5, reconnectMaxMs: 3000, hostWatchdogPeriods: 3, firmwareWatchdogMs: 100, estopMaxMs: 20 };

test('hostile hil sections settle: accepted values are finite and in range, refusals name board file and key', (t) => {
  const keys = [...Object.keys(goodHil), 'unplugMs', 'loopback', 'bogus'];
  const loop = fc.oneof(hostile, fc.record({ actuator: fc.oneof(fc.constantFrom('led', 'buzz', 'none', '__proto__'), hostile), channel: hostile }));
  fc.assert(
    fc.property(fc.constantFrom(...keys), fc.oneof(hostile, loop), fc.boolean(), (key, v, whole) => {
      const raw = whole ? v : { ...goodHil, [key]: v };
      try {
        const h = validateHil(new Validator('boards/rig.json'), raw, source, actuators);
        return Object.values(h).every((x) => typeof x !== 'number' || Number.isFinite(x));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const names = err.message.includes('boards/rig.json') && err.message.includes('hil');
        return names && (whole || key === 'bogus' || err.message.includes(key === 'bogus' ? 'bogus' : key) || err.message.includes('loopbackMaxMs'));
      }
    }),
    { numRuns: 800 },
  );
  t.pass();
});

test('wrong types for a REPEAT count, a WAIT or "about" are refused at load, not when the program reaches them', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...shipped, program: { op: 'REPEAT', times: '5', body: mark } }, /program\.times is "5"/],
    [{ ...shipped, program: { op: 'REPEAT', times: null, body: mark } }, /program\.times is null/],
    [{ ...shipped, registers: { ...(shipped.registers as object), trials: '5' } }, /registers\.trials is "5"/],
    [{ ...shipped, program: { op: 'SEQ', body: [mark, { op: 'WAIT', ms: 'soon' }] } }, /program\.body\[1\]\.ms is "soon"/],
    [{ ...shipped, about: 5 }, /about must be a string/],
  ];
  for (const [raw, re] of cases) {
    const r = settles(raw);
    t.true(r instanceof ConfigError);
    t.regex((r as ConfigError).message, re);
  }
  // A register name that is also an Object.prototype member is not a register the file set.
  t.is(settles({ ...shipped, program: { op: 'REPEAT', times: { $reg: 'toString' }, body: mark } }), 'ok');
});
