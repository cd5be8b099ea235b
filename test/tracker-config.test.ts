/**
 * The run configuration's `tracker` section against docs/tracker.md: every example there parses,
 * every documented key is taken with its range and reaches the feed, and a bad endpoint stops
 * `reflex run` with exit 2 naming `tracker.endpoint`.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Publisher } from 'zeromq';
import { ConfigError } from '../src/core/errors.js';
import { nullLogger } from '../src/core/log.js';
import type { TrackerSample } from '../src/devices/tracker/types.js';
import { FakeSerialBus } from '../src/hal/serial-fake.js';
import { validateConfig, type TrackerConfig } from '../src/runtime/config.js';
import { openConfiguredTracker } from '../src/runtime/tracker-feed.js';

const doc = readFileSync(fileURLToPath(new URL('../docs/tracker.md', import.meta.url)), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'reflex-trk-cfg-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('every configuration example in docs/tracker.md is a valid run configuration', (t) => {
  const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
  t.true(blocks.length >= 4, `found ${blocks.length} json blocks`);
  for (const text of blocks) {
    const cfg = validateConfig(JSON.parse(text) as unknown, 'docs/tracker.md');
    t.truthy(cfg.tracker, text);
  }
  // The key table lists exactly the keys the validator takes.
  const table = [...doc.matchAll(/^\| `([A-Za-z]+)` \| (all|zmq|serial) \|/gm)].map((m) => m[1]!);
  t.deepEqual(table.sort(), ['baudRate', 'bind', 'dims', 'endpoint', 'kind', 'latencyMs', 'names', 'path', 'rateHz', 'staleMs', 'timeBase', 'topic']);
  const first = validateConfig(JSON.parse(blocks[0]!) as unknown).tracker!;
  t.like(first, { kind: 'zmq', latencyMs: 8.5, names: ['wrist_angle', 'grip'] });
});

const zmq = { kind: 'zmq', endpoint: 'tcp://127.0.0.1:5570', dims: 2 };
const serial = { kind: 'serial', path: '/dev/ttyT', dims: 2 };

test('latencyMs, rateHz, timeBase, staleMs and dims up to 256 are taken; out of range is refused naming the key', (t) => {
  const ok = validateConfig({ tracker: { ...serial, dims: 256, latencyMs: 1000, rateHz: 1000, timeBase: 'host', staleMs: 10 } }).tracker!;
  t.like(ok, { kind: 'serial', dims: 256, latencyMs: 1000, rateHz: 1000, timeBase: 'host', staleMs: 10 });
  t.is(ok.names.length, 256);
  t.like(validateConfig({ tracker: { ...zmq, latencyMs: 0, rateHz: 0.5 } }).tracker!, { latencyMs: 0, rateHz: 0.5 });
  const refused: Array<[unknown, string, RegExp]> = [
    [{ ...zmq, dims: 257 }, 'tracker.dims', /1\.\.256/],
    [{ ...zmq, latencyMs: -1 }, 'tracker.latencyMs', /0\.\.1000/],
    [{ ...zmq, latencyMs: 1001 }, 'tracker.latencyMs', /0\.\.1000/],
    [{ ...zmq, rateHz: 0 }, 'tracker.rateHz', /above 0/],
    [{ ...zmq, rateHz: 1001 }, 'tracker.rateHz', /0\.\.1000/],
    [{ ...serial, timeBase: 'gps' }, 'tracker.timeBase', /"sender", "host"/],
    [{ ...zmq, timeBase: 'host' }, 'tracker.timeBase', /serial feeds only/],
    [{ ...zmq, staleMs: 5 }, 'tracker.staleMs', /10\.\.60000/],
    [{ ...zmq, endpoint: 'tcp://127.0.0.1' }, 'tracker.endpoint', /no port/],
    [{ ...zmq, endpoint: 'tcp://*:5570' }, 'tracker.endpoint', /only a bound socket/],
    [{ ...zmq, endpoint: 'localhost:5570' }, 'tracker.endpoint', /tcp:\/\/HOST:PORT/],
    [{ ...serial, latency: 5 }, 'tracker.latency', /not a known key/],
  ];
  for (const [tracker, key, re] of refused) {
    const err = t.throws(() => validateConfig({ tracker }, 'run.json'));
    t.true(err instanceof ConfigError, String(err));
    t.true(err.message.includes(`"${key}"`), `${err.message} should name ${key}`);
    t.regex(err.message, re);
  }
  t.true(validateConfig({ tracker: { ...zmq, endpoint: 'tcp://*:5570', bind: true } }).tracker !== null);
});

test('the keys reach the feed: 256 values, host-clock stamps, a nominal rate for unstamped lines, latency subtracted', async (t) => {
  const bus = new FakeSerialBus();
  bus.createPort('/dev/ttyT');
  const cfg = validateConfig({ tracker: { ...serial, dims: 256, timeBase: 'host', rateHz: 100, latencyMs: 5 } }).tracker as TrackerConfig;
  const feed = await openConfiguredTracker(cfg, { log: nullLogger(), open: bus.open });
  t.teardown(() => feed.close());
  const got: Array<{ t: number; n: number; last: number }> = [];
  feed.onSample((s: TrackerSample) => got.push({ t: s.hostTimeMs, n: s.values.length, last: s.values[255]! }));
  const values = Array.from({ length: 256 }, (_, i) => (i / 8).toFixed(3)).join(' ');
  bus.port('/dev/ttyT').emitData(new TextEncoder().encode(`1000000 ${values}\n`));
  t.deepEqual(got, [{ t: 1000 - 5, n: 256, last: 31.875 }], 'a 2 KB line of 256 values, on the host clock, 5 ms earlier');
  t.is(feed.timeBase(), 'host');
  bus.port('/dev/ttyT').emitData(new TextEncoder().encode(`- ${values}\n`));
  t.is(got.length, 2);
  t.is(feed.timeBase(), 'synthetic', 'rateHz times unstamped lines through a clock model');
  t.truthy(feed.clockStatus());
});

test('a serial path that cannot be opened is a ConfigError naming tracker.path', async (t) => {
  const bus = new FakeSerialBus();
  const cfg = validateConfig({ tracker: { ...serial, path: '/dev/ttyNOPE' } }).tracker as TrackerConfig;
  const err = await t.throwsAsync(openConfiguredTracker(cfg, { log: nullLogger(), open: bus.open }));
  t.true(err instanceof ConfigError, String(err));
  t.is((err as ConfigError).code, 'E_TRACKER_PATH');
  t.regex(err.message, /^"tracker\.path" \/dev\/ttyNOPE cannot be opened/);
});

function reflexRun(config: object): Promise<{ code: number | null; err: string }> {
  const file = join(dir, `run-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import=tsx', main, 'run', '--config', file, '--no-model', '--quiet', '--pub', 'tcp://127.0.0.1:*', '--control', 'tcp://127.0.0.1:*'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, err }));
}

test('reflex run refuses a bad tracker.endpoint with exit 2 naming the key: malformed, or a port in use', async (t) => {
  t.timeout(90_000);
  const holder = new Publisher();
  await holder.bind('tcp://127.0.0.1:*');
  t.teardown(() => holder.close());
  const [malformed, inUse] = await Promise.all([
    reflexRun({ board: 'sim', tracker: { ...zmq, endpoint: 'tcp://127.0.0.1:port' } }),
    reflexRun({ board: 'sim', tracker: { ...zmq, endpoint: holder.lastEndpoint!, bind: true } }),
  ]);
  t.is(malformed.code, 2, malformed.err);
  t.regex(malformed.err, /"tracker\.endpoint" tcp:\/\/127\.0\.0\.1:port has port "port"/);
  t.is(inUse.code, 2, inUse.err);
  t.regex(inUse.err, /"tracker\.endpoint" tcp:\/\/127\.0\.0\.1:\d+ cannot bind: the address is already in use/);
  t.notRegex(inUse.err, /Invalid argument|at .*\.ts:/, 'one line, no stack trace');
});
