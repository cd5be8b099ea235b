import test from 'ava';
import { createBlock, type SampleBlock } from '../src/core/block.js';
import { ConfigError, type ErrorCode } from '../src/core/errors.js';
import {
  Bandpass,
  buildPipeline,
  buildUnit,
  compose,
  defaultUnitKinds,
  E_UNIT_SETTING,
  E_UNIT_SHAPE,
  isWindowBlock,
  MovingWindow,
  Rectify,
  runChunks,
  splitBlock,
  toSpec,
  UnitRegistry,
  type Unit,
} from '../src/units/index.js';

function ramp(channels: number, samples: number, rate: number): SampleBlock {
  const b = createBlock({ stream: 'emg', channels, samples, rate });
  for (let c = 0; c < channels; c++) for (let i = 0; i < samples; i++) b.data[c * samples + i] = c * 1000 + i + Math.sin(i * (c + 1));
  return b;
}

const spec = [
  { unit: 'bandpass', low: 20, high: 450, order: 4 },
  { unit: 'notch', mains: 50, harmonics: 3, q: 25 },
  { unit: 'envelope', method: 'lowpass', cutoff: 6 },
];

test('a pipeline from JSON equals the same units composed by hand, and prints back to its JSON', (t) => {
  const fromJson = buildPipeline(JSON.parse(JSON.stringify(spec)));
  const byHand = compose(buildUnit(spec[0]), buildUnit(spec[1]), buildUnit(spec[2]));
  const input = ramp(3, 400, 2000);
  t.deepEqual(Array.from(fromJson.process(input).data), Array.from(byHand.process(input).data));
  t.deepEqual(fromJson.settings.units, [
    { unit: 'bandpass', low: 20, high: 450, order: 4 },
    { unit: 'notch', mains: 50, harmonics: 3, q: 25 },
    { unit: 'envelope', method: 'lowpass', cutoff: 6, order: 2 },
  ]);
  const rebuilt = buildPipeline(fromJson.settings.units);
  t.deepEqual(rebuilt.settings, fromJson.settings);
  t.deepEqual(toSpec(new Rectify()), { unit: 'rectify' });
  t.is(compose(fromJson, new Rectify()).units.length, 4, 'nested pipelines flatten');
});

function configError(t: import('ava').ExecutionContext, fn: () => unknown, code: ErrorCode, prefix: string): void {
  const err = t.throws(fn);
  t.true(err instanceof ConfigError, String(err));
  t.is((err as ConfigError).code, code);
  t.true(err.message.startsWith(prefix), `"${err.message}" should start with "${prefix}"`);
}

test('pipeline errors name the offending key', (t) => {
  configError(t, () => buildPipeline({ unit: 'rectify' }), E_UNIT_SETTING, 'pipeline: must be an array');
  configError(
    t,
    () => buildPipeline([{ unit: 'rectify' }, { unit: 'bandpass', low: 20, high: 450, order: 9 }]),
    E_UNIT_SETTING,
    'pipeline[1].order: must be an integer from 2 to 8, got 9',
  );
  configError(t, () => buildPipeline([{ unit: 'bandpass', low: 20, hihg: 450 }]), E_UNIT_SETTING, 'pipeline[0].hihg: unknown setting');
  configError(t, () => buildPipeline([{ unit: 'bandpass', low: 20 }]), E_UNIT_SETTING, 'pipeline[0].high: required');
  configError(t, () => buildPipeline([{ unit: 'bandpass', low: 200, high: 100 }]), E_UNIT_SETTING, 'pipeline[0].high: must be a number > 200');
  configError(t, () => buildPipeline([{ unit: 'bandpas' }]), E_UNIT_SETTING, 'pipeline[0].unit: unknown unit kind "bandpas"; known kinds: bandpass');
  configError(t, () => buildPipeline([{ low: 1 }]), E_UNIT_SETTING, 'pipeline[0].unit: missing');
  configError(t, () => buildPipeline([42]), E_UNIT_SETTING, 'pipeline[0]: must be an object');
  configError(t, () => buildPipeline([{ unit: 'notch', mains: 55 }]), E_UNIT_SETTING, 'pipeline[0].mains: must be one of 50, 60, got 55');
  configError(t, () => buildPipeline([{ unit: 'normalize', mode: 'fixed', std: [1, 0] }]), E_UNIT_SETTING, 'pipeline[0].std[1]: must be a number > 0');
  configError(
    t,
    () => buildPipeline([{ unit: 'envelope', method: 'rms', cutoff: 5, length: 10 }]),
    E_UNIT_SETTING,
    'pipeline[0].cutoff: only applies to method "lowpass"',
  );
  configError(t, () => buildPipeline([{ unit: 'window', length: 10 }, { unit: 'rectify' }]), 'E_UNIT_ORDER', 'pipeline[1]: a "window" unit must be the last');
  configError(
    t,
    () => buildPipeline([{ unit: 'window', length: 10 }, { unit: 'rectify' }], { at: 'config.units' }),
    'E_UNIT_ORDER',
    'config.units[1]: a "window" unit',
  );
  configError(t, () => buildPipeline([{ unit: 'rms' }], { at: 'config.units' }), E_UNIT_SETTING, 'config.units[0].length: required');
});

test('settings that do not suit the input fail at build time when the input is known, else on the first chunk', (t) => {
  configError(
    t,
    () => buildPipeline(spec, { input: { rate: 500 } }),
    E_UNIT_SHAPE,
    'pipeline[0].high: 450 Hz must be below the Nyquist frequency (250 Hz at 500 Hz sampling)',
  );
  // Decimation lowers the rate seen by later units.
  configError(
    t,
    () =>
      buildPipeline(
        [
          { unit: 'decimate', factor: 4 },
          { unit: 'lowpass', cutoff: 200 },
        ],
        { input: { rate: 1000 } },
      ),
    E_UNIT_SHAPE,
    'pipeline[1].cutoff: 200 Hz must be below the Nyquist frequency (125 Hz',
  );
  configError(
    t,
    () => buildPipeline([{ unit: 'normalize', mode: 'fixed', mean: [1, 2, 3], std: 1 }], { input: { rate: 1000, channels: 2 } }),
    E_UNIT_SHAPE,
    'pipeline[0].mean: has 3 values but the input has 2 channels',
  );
  t.notThrows(() => buildPipeline(spec, { input: { rate: 2000, channels: 8 } }));
  const late = buildPipeline(spec);
  configError(t, () => late.process(ramp(1, 10, 500)), E_UNIT_SHAPE, 'bandpass.high: 450 Hz must be below the Nyquist');
  // Still failing on the next chunk: a unit never half-accepts a shape.
  configError(t, () => late.process(ramp(1, 10, 500)), E_UNIT_SHAPE, 'bandpass.high');
});

test('state and buffers are reallocated only on a shape change, and a change resets the state', (t) => {
  const unit = new Bandpass({ low: 20, high: 200, order: 4 });
  const a = ramp(4, 64, 1000);
  const out1 = unit.process(a);
  const sos1 = unit.sos;
  const out2 = unit.process(a);
  t.is(out2, out1, 'same block object for a same-sized chunk');
  t.is(unit.sos, sos1, 'no redesign without a shape change');
  t.notDeepEqual(Array.from(out2.data), Array.from(buildUnit({ unit: 'bandpass', low: 20, high: 200, order: 4 }).process(a).data), 'state carried over');
  // Fewer channels: fresh state, output equals a fresh unit's.
  const b = ramp(2, 64, 1000);
  const out3 = unit.process(b);
  t.is(out3.channels, 2);
  t.deepEqual(Array.from(out3.data), Array.from(new Bandpass(unit.settings).process(b).data));
  t.is(unit.sos, sos1, 'same rate: same design');
  // New rate: redesigned cascade.
  const c = ramp(2, 64, 2000);
  const out4 = unit.process(c);
  t.not(unit.sos, sos1);
  t.is(out4.rate, 2000);
  t.deepEqual(Array.from(out4.data), Array.from(new Bandpass(unit.settings).process(c).data));
  // reset() zeroes the state without reallocating.
  const sos2 = unit.sos;
  unit.reset();
  t.deepEqual(Array.from(unit.process(c).data), Array.from(new Bandpass(unit.settings).process(c).data));
  t.is(unit.sos, sos2);
});

test('every built-in kind reallocates on a shape change and matches a fresh unit', (t) => {
  const specs: Record<string, object> = {
    bandpass: { low: 10, high: 100 },
    highpass: { cutoff: 10 },
    lowpass: { cutoff: 50 },
    notch: { mains: 50, harmonics: 2 },
    rectify: {},
    rms: { length: 30 },
    envelope: { method: 'lowpass' },
    window: { length: 20, hop: 10 },
    decimate: { factor: 3 },
    normalize: { mode: 'running', tau: 0.2 },
  };
  t.deepEqual(
    Object.keys(specs).sort(),
    defaultUnitKinds
      .list()
      .map((k) => k.kind)
      .sort(),
  );
  for (const [kind, s] of Object.entries(specs)) {
    const unit = buildUnit({ unit: kind, ...s });
    unit.process(ramp(3, 100, 1000));
    for (const input of [ramp(5, 100, 1000), ramp(5, 100, 500)]) {
      const got = unit.process(input);
      const want = buildUnit({ unit: kind, ...s }).process(input);
      t.is(got.channels, 5, kind);
      t.deepEqual(Array.from(got.data), Array.from(want.data), kind);
    }
  }
});

test('window emits windows of `length` every `hop` samples with the right first sample and times', (t) => {
  const win = new MovingWindow({ length: 4, hop: 3 });
  const input = ramp(2, 12, 100);
  input.firstSample = 50;
  input.hostTimeMs = 1000;
  input.deviceTimeUs = 0;
  const chunks = splitBlock(input, [2, 3, 7]);
  const first = win.process(chunks[0]!);
  t.true(isWindowBlock(first));
  t.is(first.samples, 0, 'no window before 4 samples');
  const second = win.process(chunks[1]!);
  if (!isWindowBlock(second)) return t.fail();
  t.is(second.windowCount, 1);
  t.is(second.firstSample, 50);
  t.is(second.hostTimeMs, 1000);
  t.deepEqual(Array.from(second.data.subarray(0, 4)), Array.from(input.data.subarray(0, 4)));
  t.deepEqual(Array.from(second.data.subarray(4, 8)), Array.from(input.data.subarray(12, 16)), 'channel 2 row');
  const third = win.process(chunks[2]!);
  if (!isWindowBlock(third)) return t.fail();
  // Windows end at samples 6 and 9 (hop 3 after the first at 3); sample 11 ends nothing.
  t.is(third.windowCount, 2);
  t.is(third.samples, 8);
  t.is(third.firstSample, 53);
  t.is(third.hostTimeMs, 1030);
  t.is(third.deviceTimeUs, 30_000);
  t.is(third.rate, 100);
  t.deepEqual(Array.from(third.data.subarray(0, 8)), [...input.data.subarray(3, 7), ...input.data.subarray(6, 10)]);
  t.deepEqual(Array.from(third.data.subarray(8, 16)), [...input.data.subarray(15, 19), ...input.data.subarray(18, 22)]);
});

test('window marks windows holding an invalid sample as invalid, and hop > length skips samples', (t) => {
  const win = new MovingWindow({ length: 3, hop: 3 });
  const good = ramp(1, 3, 100);
  const bad = ramp(1, 1, 100);
  bad.valid = false;
  t.true(win.process(good).valid);
  t.true(win.process(bad).valid, 'no window completed');
  t.false(win.process(ramp(1, 2, 100)).valid, 'the window holds the invalid sample');
  t.true(win.process(good).valid);
  const skip = new MovingWindow({ length: 2, hop: 5 });
  const out = runChunks(skip, splitBlock(ramp(1, 12, 100), [3, 3, 3, 3]));
  t.is(out.windows, 3);
  t.deepEqual(out.firstSamples, [0, 5, 10]);
  t.deepEqual(
    Array.from(out.rows[0]!),
    [0, 1, 5, 6, 10, 11].map((i) => Math.fround(i + Math.sin(i))),
  );
});

test('a registry can be extended without touching the shared one', (t) => {
  const mine = defaultUnitKinds.clone();
  class Gain implements Unit<{ k: number }> {
    readonly kind = 'gain';
    readonly settings: { k: number };
    constructor(s: { k: number }) {
      this.settings = s;
    }
    process(input: SampleBlock): SampleBlock {
      return input;
    }
    reset(): void {}
  }
  mine.register({ kind: 'gain', summary: 'x k', parse: (raw) => ({ k: (raw as { k: number }).k }), create: (s) => new Gain(s) });
  t.is(buildPipeline([{ unit: 'gain', k: 2 }], { registry: mine }).units[0]!.kind, 'gain');
  t.throws(() => buildPipeline([{ unit: 'gain', k: 2 }]), { code: E_UNIT_SETTING });
  t.throws(() => mine.register({ kind: 'gain', summary: '', parse: () => ({}), create: () => new Rectify() }), { code: 'E_UNIT_KIND' });
  t.true(new UnitRegistry().list().length === 0);
});

test('an empty pipeline passes blocks through', (t) => {
  const b = ramp(1, 5, 100);
  t.is(buildPipeline([]).process(b), b);
});
