/**
 * Start-up consistency checks (src/runtime/checks.ts): the model's rates and window against
 * the board, the output map against the board and the model, the board against the device's
 * HELLO. Each refusal is a ConfigError naming the key to fix.
 */
import test from 'ava';
import { loadBoard } from '../src/boards/load.js';
import type { BoardDef } from '../src/boards/types.js';
import { ConfigError, type ErrorCode } from '../src/core/errors.js';
import { readModelMeta, type ReflexModelMeta } from '../src/predict/metadata.js';
import { checkDevice, checkModelFit, checkOutputs, suggest } from '../src/runtime/checks.js';
import { defaultConfig } from '../src/runtime/config.js';

const sim = loadBoard('sim');
const cyton = loadBoard('openbci-cyton');
const modelDir = defaultConfig().model!;
const meta = (): ReflexModelMeta => structuredClone(readModelMeta(modelDir));

function refused(t: import('ava').ExecutionContext, fn: () => void, code: ErrorCode, ...mentions: string[]): void {
  const err = t.throws(fn);
  t.true(err instanceof ConfigError, String(err));
  t.is((err as ConfigError).code, code, err?.message);
  for (const m of mentions) t.true(err.message.includes(m), `"${err.message}" should mention ${m}`);
}

test('the default model fits the simulated board', (t) => {
  t.notThrows(() => checkModelFit(meta(), sim, modelDir));
  t.notThrows(() => checkOutputs(defaultConfig(), sim, meta()));
});

test('a model trained at another source rate is refused, saying to use --no-model or a model for the board rate', (t) => {
  refused(t, () => checkModelFit(meta(), cyton, modelDir), 'E_MODEL_RATE', '"features.sourceRateHz"', '2000 Hz', '250 Hz', '--no-model', 'reflex-model.json');
});

test('input.rateHz must be the feature pipeline output rate', (t) => {
  const m = meta();
  m.input.rateHz = 200;
  m.input.windowMs = 100; // still 20 samples: only the rate is wrong
  refused(t, () => checkModelFit(m, sim, modelDir), 'E_MODEL_RATE', '"input.rateHz"', '100 Hz');
});

test('without a feature pipeline, input.rateHz must be the board rate', (t) => {
  const m = meta();
  delete m.features;
  refused(t, () => checkModelFit(m, sim, modelDir), 'E_MODEL_RATE', '"input.rateHz"', '2000 Hz');
  m.input.rateHz = 2000;
  m.input.windowMs = 10;
  t.notThrows(() => checkModelFit(m, sim, modelDir));
});

test('windowMs must hold input.samples samples at the input rate', (t) => {
  const m = meta();
  m.input.windowMs = 250;
  refused(t, () => checkModelFit(m, sim, modelDir), 'E_MODEL_WINDOW', '"input.windowMs"', '25 samples', 'input.samples is 20', 'set windowMs to 200');
  m.input.windowMs = 204; // rounds to the same 20 samples, as the aligner counts
  t.notThrows(() => checkModelFit(m, sim, modelDir));
});

test('features.channels must be the board channels; a bad pipeline names its unit', (t) => {
  const m = meta();
  (m.features as { channels: number }).channels = 4;
  refused(t, () => checkModelFit(m, sim, modelDir), 'E_MODEL_SHAPE', '"features.channels"');
  const bad = meta();
  (bad.features as { pipeline: Array<Record<string, unknown>> }).pipeline[0]!.high = 5000;
  const err = t.throws(() => checkModelFit(bad, sim, modelDir));
  t.true(err instanceof ConfigError);
  t.regex(err.message, /features\[0\]/);
});

test('an output mapped to an actuator the board lacks is refused with the closest name', (t) => {
  const cfg = defaultConfig();
  cfg.outputs = [{ actuator: 'wirst', output: 'wrist_angle', scale: 1, offset: 1500 }];
  refused(t, () => checkOutputs(cfg, sim, meta()), 'E_MAP_ACTUATOR', '"outputs[0].actuator"', '"wirst"', 'did you mean "wrist"');
  // Without a model nothing is driven, but a typo is still a typo.
  refused(t, () => checkOutputs(cfg, sim, null), 'E_MAP_ACTUATOR', '"outputs[0].actuator"');
});

test('an unknown model output and an actuator mapped twice are refused', (t) => {
  const cfg = defaultConfig();
  cfg.outputs = [{ actuator: 'wrist', output: 'wirst_angle', scale: 1, offset: 0 }];
  refused(t, () => checkOutputs(cfg, sim, meta()), 'E_MAP_OUTPUT', '"outputs[0].output"', 'did you mean "wrist_angle"');
  t.notThrows(() => checkOutputs(cfg, sim, null), 'model outputs are checked only with a model');
  cfg.outputs = [
    { actuator: 'grip', output: 'grip', scale: 1, offset: 0 },
    { actuator: 'grip', output: 'wrist_angle', scale: 1, offset: 0 },
  ];
  refused(t, () => checkOutputs(cfg, sim, meta()), 'E_MAP_DUPLICATE', '"outputs[1].actuator"', 'outputs[0]');
});

test('the built-in default outputs apply only where the board has those actuators', (t) => {
  t.notThrows(() => checkOutputs(defaultConfig(), cyton, null));
  const cfg = defaultConfig();
  cfg.outputs = [{ ...cfg.outputs[0]!, scale: 2 }];
  refused(t, () => checkOutputs(cfg, cyton, null), 'E_MAP_ACTUATOR', 'openbci-cyton', '(none)');
});

test('the board against the device HELLO: channels and actuator channels it has', (t) => {
  const device = { name: 'reflex-sim', maxChannels: 16, actuatorChannels: 4 };
  t.notThrows(() => checkDevice(sim, device));
  t.notThrows(() => checkDevice(sim, null), 'nothing to check before a HELLO');
  t.notThrows(() => checkDevice(cyton, device), 'a Cyton has no HELLO to check');
  const wide: BoardDef = { ...sim, source: { kind: 'bridge', transport: 'sim', rate: 2000, channels: 12 } };
  refused(t, () => checkDevice(wide, { ...device, maxChannels: 8 }), 'E_DEVICE_CHANNELS', '"source.channels"', '8 channels at most', sim.file!);
  const far: BoardDef = { ...sim, actuators: [...sim.actuators, { ...sim.actuators[2]!, name: 'buzzer', channel: 4 }] };
  refused(t, () => checkDevice(far, device), 'E_DEVICE_ACTUATOR', '"actuators[3].channel"', 'buzzer', '4 actuator channels (0..3)');
});

test('suggest offers only a near name', (t) => {
  t.is(suggest('gripp', ['wrist', 'grip']), '; did you mean "grip"?');
  t.is(suggest('elbow', ['wrist', 'grip']), '');
  t.is(suggest('x', []), '');
});
