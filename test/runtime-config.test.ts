import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../src/core/errors.js';
import { DEFAULT_OUTPUTS, defaultConfig, loadConfig, validateConfig } from '../src/runtime/config.js';

test('defaults: sim board, default model, loopback telemetry and control, no external tracker', (t) => {
  const c = defaultConfig();
  t.is(c.board, 'sim');
  t.true(c.model!.endsWith('models/default'));
  t.deepEqual(c.telemetry.endpoints, ['tcp://127.0.0.1:5556']);
  t.is(c.telemetry.control, 'tcp://127.0.0.1:5557');
  t.is(c.tracker, null);
});

test('a config file overrides defaults; paths are relative to the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-cfg-'));
  const f = join(dir, 'run.json');
  writeFileSync(
    f,
    JSON.stringify({
      runtimeId: 'rig-a',
      model: 'm',
      loop: { rateHz: 500, overrun: 'catch-up' },
      tracker: { kind: 'zmq', endpoint: 'tcp://127.0.0.1:5570', dims: 2 },
      telemetry: { keysDir: 'keys', decimate: { 'emg.raw': 4 } },
    }),
  );
  const c = loadConfig(f);
  t.is(c.runtimeId, 'rig-a');
  t.is(c.model, join(dir, 'm'));
  t.is(c.loop.rateHz, 500);
  t.is(c.loop.overrun, 'catch-up');
  t.is(c.loop.staleMs, 100, 'untouched keys keep their defaults');
  t.is(c.telemetry.keysDir, join(dir, 'keys'));
  t.deepEqual(c.telemetry.decimate, { 'emg.raw': 4 });
  t.deepEqual(c.tracker, { kind: 'zmq', endpoint: 'tcp://127.0.0.1:5570', dims: 2, names: ['dim1', 'dim2'], bind: false, topic: 'tracker' });
});

test('bad configs are ConfigErrors naming the key', (t) => {
  const cases: Array<[unknown, string]> = [
    [{ loop: { rateHz: 5000 } }, '"loop.rateHz"'],
    [{ loop: { overrun: 'maybe' } }, '"loop.overrun"'],
    [{ loop: { stale: 5 } }, '"loop.stale"'],
    [{ outputs: [{ actuator: 'wrist' }] }, '"outputs[0].output"'],
    [{ runtimeId: 'has space' }, '"runtimeId"'],
    [{ tracker: { kind: 'zmq', dims: 2 } }, '"tracker.endpoint"'],
    [{ tracker: { kind: 'serial', path: '/dev/ttyUSB1', dims: 2, names: ['a'] } }, '"tracker.names"'],
    [{ telemetry: { decimate: { 'emg.raw': 0 } } }, '"telemetry.decimate.emg.raw"'],
  ];
  for (const [raw, key] of cases) {
    const err = t.throws(() => validateConfig(raw, 'run.json'));
    t.true(err instanceof ConfigError, String(err));
    t.true(err.message.includes(key), `${err.message} should name ${key}`);
  }
  const missing = t.throws(() => loadConfig('/nonexistent/run.json'));
  t.is((missing as ConfigError).code, 'E_CONFIG_MISSING');
});

test("the default output map is a copy per configuration: editing one run's map changes no other", (t) => {
  const a = defaultConfig();
  t.deepEqual(
    a.outputs,
    DEFAULT_OUTPUTS.map((o) => ({ ...o })),
  );
  a.outputs[0]!.scale = 99;
  t.not(defaultConfig().outputs[0]!.scale, 99);
  t.true(Object.isFrozen(DEFAULT_OUTPUTS[0]));
});
