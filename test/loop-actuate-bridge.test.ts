/**
 * The worker path against the real firmware on a pseudo-terminal: the loop worker writes
 * ACTUATE frames straight to the serial fd BridgeLink publishes, the device ACKs them,
 * and the link counts those ACKs as the loop's instead of unmatched replies.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ActuatorDef } from '../src/boards/types.js';
import type { ReflexError } from '../src/core/errors.js';
import { nullLogger } from '../src/core/log.js';
import { FrameWriter } from '../src/bridge/encode.js';
import { LOOP_REQ_ID_BASE } from '../src/bridge/req-ids.js';
import { ReplyTable } from '../src/devices/bridge/replies.js';
import { BridgeLink } from '../src/devices/bridge/link.js';
import { startSimFirmware } from '../src/devices/sim/firmware.js';
import { openNodeSerial } from '../src/hal/serial-node.js';
import { ControlLoop } from '../src/loop/loop.js';

/** Windows of 2 samples x 2 channels, time-major: output a = channel 0, b = channel 1, of the oldest sample. */
const PREDICTOR = `data:text/javascript,${encodeURIComponent(`
export function createPredictor() {
  return { inputSize: 4, outputSize: 2, predict(x, y) { y[0] = x[0]; y[1] = x[1]; } };
}`)}`;
const defs: ActuatorDef[] = [
  { name: 'wrist', kind: 'servo', via: 'bridge', channel: 0, min: 1000, max: 2000, slewPerS: 1e9, safe: 1500, unit: 'us' },
  { name: 'grip', kind: 'servo', via: 'bridge', channel: 1, min: 1000, max: 2000, slewPerS: 1e9, safe: 1000, unit: 'us' },
];
const mapping = [
  { actuator: 'wrist', output: 'a', offset: 1500 },
  { actuator: 'grip', output: 'b', offset: 1000 },
];

async function until(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test.serial("worker path on a pty: ACTUATEs reach the firmware, ACKs are counted as the loop's, the fd follows a reconnect", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-actpty-'));
  const logPath = join(dir, 'act.log');
  const linkPath = join(dir, 'port');
  const fw = await startSimFirmware({ rate: 1000, channels: 2, seed: 5, link: linkPath, actuatorLog: logPath });
  const link = new BridgeLink({ open: openNodeSerial, path: linkPath, rate: 1000, channels: 2, logger: nullLogger() });
  const errors: ReflexError[] = [];
  link.on('error', (e) => errors.push(e));
  const loop = await ControlLoop.start({
    schedule: { rateHz: 1000, policy: 'skip' },
    watchdog: { staleMs: 3000, overrunStreak: 1000 },
    predictor: { kind: 'module', url: PREDICTOR, inputSize: 4, outputNames: ['a', 'b'] },
    actuators: defs,
    mapping,
    startArmed: true,
    actuation: { bridge: { keepAliveMs: 50 } },
  });
  const fds: number[] = [];
  const off = link.onActuatorFd((fd) => {
    fds.push(fd);
    loop.setBridgeFd(fd);
  });
  t.teardown(async () => {
    off();
    await loop.stop();
    await link.stop();
    await fw.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await link.start();
  t.true(fds.at(-1)! >= 0, 'streaming publishes the port fd');
  let w = 0;
  const push = setInterval(() => loop.pushWindow(Float32Array.of(100 + (w++ % 2), 200, 0, 0)), 2);
  t.teardown(() => clearInterval(push));
  await until(() => (link.counters().link.loop_acks ?? 0) >= 20, "ACKs to the loop's ACTUATEs");
  t.is(link.counters().link.unmatched_replies ?? 0, 0);
  t.is(link.counters().link.loop_errors ?? 0, 0);
  await until(() => existsSync(logPath) && /^\d+ 0 2 160[01]$/m.test(readFileSync(logPath, 'utf8')), 'the firmware to apply the command');

  // A refused ACTUATE in the loop's req_id range is counted per code and reported, not "unmatched".
  writeSync(fds.at(-1)!, new FrameWriter().actuateRaw(LOOP_REQ_ID_BASE + 7, [{ channel: 0, kind: 9, value: 0 }]));
  await until(() => (link.counters().link.loop_errors ?? 0) >= 1, 'the ERROR to the bad ACTUATE');
  t.true(Object.keys(link.counters().link).some((k) => k.startsWith('loop_error_') && k !== 'loop_errors'));
  t.true(errors.some((e) => /control loop/.test(e.message)));
  t.is(link.counters().link.unmatched_replies ?? 0, 0);
  errors.length = 0;

  // DISCONNECT: the fd is withdrawn (-1) before the old pty closes, the worker drops and counts, then the new fd comes.
  const streamedAgain = new Promise<void>((resolve) => link.on('state', (s) => s === 'streaming' && resolve()));
  await link.fault('DISCONNECT', 300).catch((e: ReflexError) => t.is(e.code, 'E_DISCONNECTED'));
  await until(() => fds.at(-1) === -1, 'the fd to be withdrawn');
  await until(() => loop.actuationCounters().droppedNoFd > 0, 'drops while disconnected');
  await streamedAgain;
  t.true(fds.at(-1)! >= 0);
  const acks = link.counters().link.loop_acks!;
  await until(() => link.counters().link.loop_acks! >= acks + 10, 'ACKs after the reconnect');
  t.is(link.counters().link.unmatched_replies ?? 0, 0);
  t.deepEqual(
    errors.filter((e) => /control loop/.test(e.message)),
    [],
  );
  const c = loop.actuationCounters();
  // Between the hang-up and the link noticing it, writes fail with EIO (counted); never EBADF.
  t.is(c.badFd, 0, 'no write ever hit a closed fd');
});

test("the link numbers its own commands below the loop's req_id range, and wraps there", (t) => {
  const table = new ReplyTable({ setTimeout: () => 0, clearTimeout: () => {} });
  let max = 0;
  let min = Infinity;
  for (let i = 0; i < LOOP_REQ_ID_BASE + 10; i++) {
    const id = table.nextReqId();
    max = Math.max(max, id);
    min = Math.min(min, id);
  }
  t.is(max, LOOP_REQ_ID_BASE - 1);
  t.is(min, 0);
});
