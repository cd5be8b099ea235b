import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ACT, createActuationBlock, FdFrameWriter, readActuationCounters } from '../src/actuate/fd-bridge.js';
import { LOOP_REQ_ID_BASE, LOOP_REQ_ID_MAIN } from '../src/bridge/req-ids.js';
import { FrameWriter } from '../src/bridge/encode.js';
import { createFakeMirror } from '../src/actuate/worker-backends.js';
import type { ActuatorDef } from '../src/boards/types.js';
import { FrameType } from '../src/bridge/frames.js';
import { ControlLoop, type ControlLoopOptions } from '../src/loop/loop.js';
import { emptyStats } from '../src/loop/stats.js';
import { type Actuate, HostFrames, lastActuate } from './bridge-host-frames.js';

/** Windows of 2 samples x 2 channels, time-major: output a = channel 0, b = channel 1, of the oldest sample. */
const PREDICTOR = `data:text/javascript,${encodeURIComponent(`
export function createPredictor() {
  return { inputSize: 4, outputSize: 2, predict(x, y) { y[0] = x[0]; y[1] = x[1]; } };
}`)}`;

type Ctx = { teardown(fn: () => unknown): void };

async function start(t: Ctx, defs: ActuatorDef[], mapping: ControlLoopOptions['mapping'], over: Partial<ControlLoopOptions>): Promise<ControlLoop> {
  const loop = await ControlLoop.start({
    schedule: { rateHz: 1000, policy: 'skip' },
    watchdog: { staleMs: 3000, overrunStreak: 50 },
    predictor: { kind: 'module', url: PREDICTOR, inputSize: 4, outputNames: ['a', 'b'] },
    actuators: defs,
    mapping,
    startArmed: true,
    ...over,
  });
  t.teardown(() => loop.stop());
  return loop;
}

/** Yield to the event loop until `ok()` (bounded: a failure guard, not a delay). */
async function until(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A FIFO opened read-write and non-blocking: the worker writes frames, the test reads them back. */
function fifo(t: Ctx): number {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-act-'));
  const path = join(dir, 'port');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  t.teardown(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  return fd;
}

const local: ActuatorDef[] = [
  { name: 'led', kind: 'digital', via: 'gpio', line: { chip: 'reflex-sim', line: 5 }, min: 0, max: 1, slewPerS: 1e9, safe: 0, unit: 'bool' },
  {
    name: 'fan',
    kind: 'pwm',
    via: 'sysfs-pwm',
    pwm: { chip: 'reflex-sim-pwm', channel: 0, periodNs: 1_000_000 },
    min: 0,
    max: 1,
    slewPerS: 1e9,
    safe: 0,
    unit: 'duty',
  },
];
const localMap = [
  { actuator: 'led', output: 'a' },
  { actuator: 'fan', output: 'b' },
];

test.serial('worker path: the worker drives fake GPIO and PWM itself; e-stop has them safe by the time estop() returns', async (t) => {
  const mirror = createFakeMirror(local.length);
  const loop = await start(t, local, localMap, { actuation: { gpio: 'fake', pwm: 'fake', fakeMirror: mirror.buffer } });
  t.is(loop.actuateIn, 'worker');
  // Opened at the safe values before the first cycle.
  t.deepEqual(Array.from(mirror.values), [0, 0]);
  await until(() => {
    loop.pushWindow(Float32Array.of(1, 0.25, 0, 0));
    return mirror.values[0] === 1 && mirror.values[1] === 250_000;
  }, 'the worker to drive the fakes');
  loop.estop('test');
  // No await: enterSafe waited for the worker to confirm.
  t.deepEqual(Array.from(mirror.values), [0, 0]);
  t.is(loop.actuationCounters().safeAckTimeouts, 0);
  t.is(loop.actuationCounters().actuatorErrors, 0);
  await loop.stop();
  t.deepEqual(Array.from(mirror.values), [0, 0]);
});

test.serial('worker path: a watchdog trip (stale input) has the fakes safe before main hears of it', async (t) => {
  const mirror = createFakeMirror(local.length);
  // staleMs well above a loaded machine's event-loop stalls: the windows pushed below must keep
  // it armed until the fakes are driven (40 ms tripped it first when the whole suite ran).
  const loop = await start(t, local, localMap, {
    actuation: { gpio: 'fake', pwm: 'fake', fakeMirror: mirror.buffer },
    watchdog: { staleMs: 400, overrunStreak: 1000 },
  });
  const seen = new Promise<{ values: number[]; cycle: number }>((resolve) =>
    loop.onSafetyEvent((e) => e.reason === 'stale_input' && e.entered && resolve({ values: Array.from(mirror.values), cycle: e.cycle })),
  );
  await until(() => {
    loop.pushWindow(Float32Array.of(1, 0.5, 0, 0));
    return mirror.values[0] === 1 && mirror.values[1] === 500_000;
  }, 'the worker to drive the fakes');
  // No more windows: the input goes stale.
  const at = await seen;
  t.deepEqual(at.values, [0, 0]);
  t.true(at.cycle >= 0);
});

test.serial('worker path: a GPIO/PWM sink on main is refused, a missing backend too, and actuateIn "main" still dispatches', async (t) => {
  await t.throwsAsync(start(t, local, localMap, { actuation: { pwm: 'fake' } }), { code: 'E_ACTUATOR_BACKEND' });
  await t.throwsAsync(start(t, local, localMap, { actuateIn: 'worker' }), { code: 'E_LOOP_ACTUATE_IN' });
  const { createActuators } = await import('../src/actuate/set.js');
  const { FakeGpio } = await import('../src/hal/gpio-fake.js');
  const { FakePwm } = await import('../src/hal/pwm-fake.js');
  const gpio = new FakeGpio();
  const sink = createActuators(local, { gpio, pwm: new FakePwm() });
  t.teardown(() => sink.close());
  await t.throwsAsync(start(t, local, localMap, { actuation: { gpio: 'fake', pwm: 'fake' }, sink }), { code: 'E_LOOP_SINK' });
  const loop = await start(t, local, localMap, { actuateIn: 'main', actuation: { gpio: 'fake', pwm: 'fake' }, sink });
  t.is(loop.actuateIn, 'main');
  await until(() => {
    loop.pushWindow(Float32Array.of(1, 0, 0, 0));
    return gpio.level({ chip: 'reflex-sim', line: 5 }) === 1;
  }, 'the main-thread dispatcher to drive the sink');
  t.is(loop.actuationCounters().framesWritten, 0);
});

const bridged: ActuatorDef[] = [
  { name: 'wrist', kind: 'servo', via: 'bridge', channel: 0, min: 1000, max: 2000, slewPerS: 1e9, safe: 1500, unit: 'us' },
  { name: 'grip', kind: 'servo', via: 'bridge', channel: 1, min: 1000, max: 2000, slewPerS: 1e9, safe: 1000, unit: 'us' },
];
const bridgedMap = [
  { actuator: 'wrist', output: 'a', offset: 1500 },
  { actuator: 'grip', output: 'b', offset: 1000 },
];

test.serial('worker path: bridge actuators go out as well-formed ACTUATE frames on the fd, loop req_ids; e-stop sends the safe frame', async (t) => {
  const fd = fifo(t);
  const loop = await start(t, bridged, bridgedMap, { actuation: { bridge: { keepAliveMs: 0 } } });
  loop.setBridgeFd(fd);
  const h = new HostFrames();
  await until(() => {
    loop.pushWindow(Float32Array.of(100, 200, 0, 0));
    h.drain(fd);
    const a = lastActuate(h);
    return a !== undefined && a.entries[0]!.value === 1600 && a.entries[1]!.value === 1200;
  }, 'ACTUATE frames with the commands');
  t.is(h.bad, 0);
  const acts = h.frames.filter((f): f is Actuate => f.type === FrameType.ACTUATE);
  t.is(acts.length, h.frames.length);
  for (const a of acts) {
    t.true(a.reqId >= LOOP_REQ_ID_BASE && a.reqId <= LOOP_REQ_ID_MAIN, `req_id ${a.reqId} in the loop range`);
    t.deepEqual(
      a.entries.map((e) => [e.channel, e.kind]),
      [
        [0, 2],
        [1, 2],
      ],
    );
  }
  loop.estop('test');
  h.drain(fd);
  // Main's own safe frame went out synchronously, and the worker's (loop req_id range) too.
  const all = h.frames.filter((f): f is Actuate => f.type === FrameType.ACTUATE);
  // A cycle under way may write one more command after main's first safe frame; main
  // writes it again once the worker confirmed, and from there on only safe values.
  const iMain = all.map((a) => a.reqId).lastIndexOf(LOOP_REQ_ID_MAIN);
  t.true(iMain >= acts.length);
  for (const a of all.slice(iMain))
    t.deepEqual(
      a.entries.map((e) => e.value),
      [1500, 1000],
    );
  t.true(all.slice(acts.length).some((a) => a.reqId !== LOOP_REQ_ID_MAIN && a.entries[0]!.value === 1500 && a.entries[1]!.value === 1000));
  t.is(h.bad, 0);
  const c = loop.actuationCounters();
  t.true(c.framesWritten >= acts.length);
  t.is(c.mainSafeFrames, 2);
  t.is(c.writeErrors + c.partialWrites + c.droppedFull, 0);
});

test.serial('worker path: no fd (-1), a bad fd and a full port drop frames and count them; the loop keeps its period', async (t) => {
  const loop = await start(t, bridged, bridgedMap, { actuation: { bridge: { keepAliveMs: 0 } } });
  const stats = emptyStats();
  const cycles = (): number => (loop.readStats(stats) ? stats.cycles : 0);
  // Never told an fd: every frame is dropped and counted.
  await until(() => {
    loop.pushWindow(Float32Array.of(10, 10, 0, 0));
    return loop.actuationCounters().droppedNoFd > 50;
  }, 'drops without an fd');
  t.is(loop.actuationCounters().framesWritten, 0);
  // An fd number nothing holds: EBADF, counted as write errors.
  loop.setBridgeFd(1_000_000);
  await until(() => {
    loop.pushWindow(Float32Array.of(20, 20, 0, 0));
    return loop.actuationCounters().writeErrors > 50;
  }, 'write errors on a bad fd');
  const bad = loop.actuationCounters();
  t.true(bad.badFd > 50);
  // A port nobody reads: the buffer fills, then frames are dropped (EAGAIN), never waited on.
  const fd = fifo(t);
  loop.setBridgeFd(fd);
  await until(() => {
    loop.pushWindow(Float32Array.of(30, 30, 0, 0));
    return loop.actuationCounters().droppedFull > 100;
  }, 'drops on a full port');
  const c0 = cycles();
  await until(() => {
    loop.pushWindow(Float32Array.of(40, 40, 0, 0));
    return cycles() > c0 + 100;
  }, 'cycles to keep running while the port is full');
  loop.setBridgeFd(-1);
  const h = new HostFrames();
  h.drain(fd);
  // Whole frames only up to the point the buffer filled; any fragment is one bad frame at most.
  t.true(h.frames.length > 0);
  t.true(h.bad <= 1 + loop.actuationCounters().partialWrites);
  // The e-stop reaches the worker with its port full. Whether its ack came within the main
  // thread's 50 ms wait depends on the machine's load; that it comes is what this checks.
  loop.estop('test');
  const out = loop.createOutput();
  await until(() => loop.readLatest(out) && out.safe, 'the worker to publish the safe state');
});

test.serial('fd writer: one write per frame; after a failed write the next frame starts with 0x00 so the device resyncs', (t) => {
  const act = createActuationBlock();
  const out = new FdFrameWriter(act);
  const frame = new FrameWriter().actuate(LOOP_REQ_ID_BASE, [{ channel: 0, kind: 'servo', value: 1500 }]).slice();
  t.is(out.write(frame), 'no_fd');
  Atomics.store(act, ACT.fd, 1_000_000);
  t.is(out.write(frame), 'error');
  const fd = fifo(t);
  Atomics.store(act, ACT.fd, fd);
  t.is(out.write(frame), 'written');
  t.is(out.write(frame), 'written');
  const buf = new Uint8Array(4 * frame.length);
  const n = readSync(fd, buf, 0, buf.length, null);
  // The frame after the failure carries a leading delimiter; the one after that does not.
  t.deepEqual(Array.from(buf.subarray(0, n)), [0, ...frame, ...frame]);
  t.like(readActuationCounters(act), { droppedNoFd: 1, writeErrors: 1, badFd: 1, framesWritten: 2 });
  t.is(Atomics.load(act, ACT.busy), 0);
});
