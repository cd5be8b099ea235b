/**
 * The start-up order of a run (docs/runtime.md, "Start-up"): every check is done before the
 * loop is armed, so a run refused at start-up never drives an actuator away from its safe
 * value. Checked on the device side, with the simulated firmware's actuator log (every output
 * an accepted ACTUATE applied, firmware-bridge/README.md); and a good run does arm.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router } from 'zeromq';
import { boardsDir, loadBoard } from '../src/boards/load.js';
import type { BoardDef } from '../src/boards/types.js';
import { ConfigError, ReflexError, type ErrorCode } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import { startSimFirmware } from '../src/devices/sim/firmware.js';
import { defaultConfig, type RunConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { ControlServer } from '../src/telemetry/control-server.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';

interface Rig {
  dir: string;
  boardFile: string;
  actuatorLog: string;
  board: BoardDef;
  config: RunConfig;
  lines: string[];
  log: Logger;
}

/** The simulated board, its firmware logging every applied actuator output to a file of this test's own. */
function rig(t: import('ava').ExecutionContext, editBoard?: (raw: { actuators: Array<Record<string, unknown>> }) => void): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-startup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const actuatorLog = join(dir, 'actuators.log');
  const raw = JSON.parse(readFileSync(join(boardsDir, 'sim.json'), 'utf8')) as { source: Record<string, unknown>; actuators: Array<Record<string, unknown>> };
  raw.source.firmwareArgs = ['--actuator-log', actuatorLog];
  editBoard?.(raw);
  const boardFile = join(dir, 'board.json');
  writeFileSync(boardFile, JSON.stringify(raw));
  const config = defaultConfig(boardFile);
  config.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  config.telemetry.control = 'tcp://127.0.0.1:*';
  // Generous: a loaded CI machine must not trip the watchdog in the good run (safety-*.test.ts test it).
  config.loop.staleMs = 500;
  config.loop.overrunStreak = 1000;
  const lines: string[] = [];
  const log = new Logger({ sink: (_level, msg) => lines.push(msg), level: 'info' });
  return { dir, boardFile, actuatorLog, board: loadBoard(boardFile), config, lines, log };
}

interface Applied {
  channel: number;
  value: number;
}

/** `t_us channel kind value` lines of the firmware's actuator log (`t_us safe` lines are the device's own safe state). */
function applied(r: Rig): Applied[] | null {
  if (!existsSync(r.actuatorLog)) return null;
  const out: Applied[] = [];
  for (const line of readFileSync(r.actuatorLog, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 4) out.push({ channel: Number(f[1]), value: Number(f[3]) });
  }
  return out;
}

function nonSafe(r: Rig, entries: readonly Applied[]): Applied[] {
  return entries.filter((e) => {
    const a = r.board.actuators.find((x) => x.channel === e.channel);
    return !a || e.value !== a.safe;
  });
}

async function refusedAtStart(t: import('ava').ExecutionContext, r: Rig, code: ErrorCode, mention: RegExp): Promise<void> {
  const err = await t.throwsAsync(Runtime.start(r.config, { log: r.log, guardProcess: false, arm: true }));
  t.true(err instanceof ReflexError, String(err));
  t.is((err as ReflexError).code, code, err?.message);
  t.regex(err.message, mention);
  const log = applied(r);
  if (log) t.deepEqual(nonSafe(r, log), [], 'no actuator left its safe value');
  t.false(
    r.lines.some((l) => /armed at start-up|released/.test(l)),
    `never armed: ${r.lines.join(' | ')}`,
  );
}

test('a control endpoint already in use is refused before the device is opened', async (t) => {
  const r = rig(t);
  const holder = new Router();
  await holder.bind('tcp://127.0.0.1:*');
  t.teardown(() => holder.close());
  r.config.telemetry.control = holder.lastEndpoint!;
  await refusedAtStart(t, r, 'E_BIND', /control cannot bind/);
  t.is(applied(r), null, 'the simulated firmware was never started');
});

test('a control endpoint off loopback without keys is refused before anything is bound or opened', async (t) => {
  const r = rig(t);
  r.config.telemetry.control = 'tcp://0.0.0.0:*';
  await refusedAtStart(t, r, 'E_INSECURE_BIND', /0\.0\.0\.0/);
  t.is(applied(r), null);
});

test('an output mapped to an actuator the board lacks is refused, naming the closest one', async (t) => {
  const r = rig(t);
  r.config.outputs = [{ actuator: 'wirst', output: 'wrist_angle', scale: 500 / 60, offset: 1500 }];
  await refusedAtStart(t, r, 'E_MAP_ACTUATOR', /"outputs\[0\]\.actuator".*did you mean "wrist"/);
  t.is(applied(r), null);
});

test('an ipc endpoint on a file that is not a socket is refused and the file kept', async (t) => {
  const r = rig(t);
  const precious = join(r.dir, 'data.csv');
  writeFileSync(precious, 'keep me\n');
  r.config.telemetry.endpoints = [`ipc://${precious}`];
  await refusedAtStart(t, r, 'E_BIND', new RegExp(`${precious}.*not a socket`));
  t.is(readFileSync(precious, 'utf8'), 'keep me\n');
  t.is(applied(r), null);
});

test('a board actuator channel the device does not have is refused after its HELLO, before the loop starts', async (t) => {
  const r = rig(t, (b) =>
    b.actuators.push({ name: 'buzzer', kind: 'digital', via: 'bridge', channel: 6, min: 0, max: 1, slewPerS: 1e9, safe: 0, unit: 'bool' }),
  );
  await refusedAtStart(t, r, 'E_DEVICE_ACTUATOR', /"actuators\[3\]\.channel".*4 actuator channels/);
  t.not(applied(r), null, 'the device was connected (its HELLO was read)');
  t.false(
    r.lines.some((l) => l.startsWith('model ')),
    'the loop never started',
  );
});

test('a board configuration the device refuses is a configuration error naming the board keys', async (t) => {
  // The firmware on its own pty, reached as a serial board asking for a block that cannot fit a frame.
  const r = rig(t);
  const fw = await startSimFirmware({ actuatorLog: r.actuatorLog });
  t.teardown(() => fw.stop());
  const boardFile = join(r.dir, 'serial.json');
  writeFileSync(
    boardFile,
    JSON.stringify({
      id: 'serial-sim',
      name: 'the firmware on a pty',
      actuators: (JSON.parse(readFileSync(r.boardFile, 'utf8')) as { actuators: unknown }).actuators,
      source: { kind: 'bridge', transport: 'serial', path: fw.path, rate: 2000, channels: 16, blockSamples: 255 },
    }),
  );
  r.config.board = boardFile;
  r.config.model = null;
  await refusedAtStart(
    t,
    r,
    'E_DEVICE_CONFIG',
    /serial\.json: the device refused "source\.rate" 2000 Hz \/ "source\.channels" 16 \/ "source\.blockSamples" 255/,
  );
  await fw.stop();
  t.deepEqual(nonSafe(r, applied(r) ?? []), []);
});

test('a model that TensorFlow.js cannot build in the loop worker leaves every actuator safe', async (t) => {
  const r = rig(t);
  const model = join(r.dir, 'model');
  cpSync(r.config.model!, model, { recursive: true });
  // Metadata and weights are fine, so this fails only when the loop worker builds the model.
  const topology = join(model, 'model.json');
  writeFileSync(topology, readFileSync(topology, 'utf8').replace('"class_name":"Dense"', '"class_name":"NoSuchLayer"'));
  r.config.model = model;
  const err = await t.throwsAsync(Runtime.start(r.config, { log: r.log, guardProcess: false, arm: true }));
  t.true(err instanceof ReflexError, String(err));
  t.regex(err.message, /NoSuchLayer/);
  const log = applied(r);
  t.not(log, null);
  t.deepEqual(nonSafe(r, log!), []);
  t.false(r.lines.some((l) => /armed at start-up/.test(l)));
});

test('a good run arms once start-up is complete, and then drives the actuators', async (t) => {
  t.timeout(90_000);
  const r = rig(t);
  const rt = await Runtime.start(r.config, { log: r.log, guardProcess: false, arm: true });
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!], topics: ['actuators'] });
  try {
    const out = rt.latest();
    t.false(rt.loop!.safe, `armed when start() resolves; reason ${out?.reason}, log: ${r.lines.join(' | ')}`);
    const armed = r.lines.findIndex((l) => l.startsWith('armed at start-up'));
    const running = r.lines.findIndex((l) => l.startsWith('running board'));
    t.true(running >= 0 && armed > running, 'armed after everything else');
    // Until a command the device applies differs from the safe values (slew-limited from them).
    const wrist = r.board.actuators.findIndex((a) => a.name === 'wrist');
    for await (const m of client) {
      if (m.topic === 'actuators' && !m.body.safe_state && Math.round(m.body.applied[wrist]!) !== r.board.actuators[wrist]!.safe) break;
    }
  } finally {
    await client.close();
    await rt.stop();
  }
  const log = applied(r);
  t.true(nonSafe(r, log ?? []).length > 0, 'the device applied a non-safe value');
});

test('every ipc bind (telemetry and control) refuses a non-socket file and a socket in use; a stale socket is replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-ipc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  const live = join(dir, 'live.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(live, resolve));
  t.teardown(() => server.close());
  // A socket file nobody listens on, as a process that died leaves it.
  const stale = join(dir, 'stale.sock');
  const made = spawnSync('/usr/bin/python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
  t.is(made.status, 0, made.stderr.toString());

  const pub = (ep: string) => new TelemetryPublisher({ endpoints: [ep], runtimeId: 't', boardId: 'b' });
  const ctl = (ep: string) => new ControlServer({ endpoints: [ep] });
  for (const [what, make] of [
    ['telemetry', pub],
    ['control', ctl],
  ] as const) {
    const e1 = await t.throwsAsync(make(`ipc://${file}`).start());
    t.true(e1 instanceof ConfigError);
    t.regex(e1.message, new RegExp(`${what}.*${file} is a file, not a socket`));
    t.is(readFileSync(file, 'utf8'), 'x');
    const e2 = await t.throwsAsync(make(`ipc://${live}`).start());
    t.regex(e2.message, /another process is serving/);
    const ok = make(`ipc://${stale}`);
    await t.notThrowsAsync(ok.start());
    await ok.close();
  }
});

test('durationS in the run configuration ends the run by itself', async (t) => {
  const r = rig(t);
  r.config.model = null;
  r.config.durationS = 0.5;
  // Counted from the start: on a loaded machine it may run out while the source still connects.
  const started = await Runtime.start(r.config, { log: r.log, guardProcess: false }).then(
    (rt) => rt,
    (err: ReflexError) => err,
  );
  if (started instanceof Runtime) {
    await started.stopped;
    t.is(started.state, 'stopped');
  } else {
    t.is(started.code, 'E_SOURCE_NOT_CONNECTED', started.message);
    t.regex(started.message, /durationS 0\.5 s elapsed/);
  }
});
