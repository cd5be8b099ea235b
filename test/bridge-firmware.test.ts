/**
 * Integration with the real firmware core: the host build of firmware-bridge on a
 * pseudo-terminal, opened through openNodeSerial + BridgeLink, checked value for value
 * against the firmware's own dump of every sample it generated.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeDecoder } from '../src/bridge/decoder.js';
import { FrameWriter } from '../src/bridge/encode.js';
import { DeviceErrorCode, FrameType } from '../src/bridge/frames.js';
import type { ReflexError } from '../src/core/errors.js';
import { BridgeLink, type LinkGap } from '../src/devices/bridge/link.js';
import { firmwareBinaryPath, startSimFirmware, type SimFirmware } from '../src/devices/sim/firmware.js';
import { openNodeSerial } from '../src/hal/serial-node.js';

const fwTest = existsSync(firmwareBinaryPath()) ? test.serial : test.skip;

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-bridge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Dump lines of the last START section: sample index -> counts. */
function readDump(file: string): Map<number, number[]> {
  const sections = readFileSync(file, 'utf8').split(/^# start.*$/m);
  const last = sections.at(-1)!;
  const out = new Map<number, number[]>();
  for (const line of last.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [idx, ...vals] = line.trim().split(/\s+/).map(Number);
    out.set(idx!, vals);
  }
  return out;
}

/** Resolve when `pred` holds for an event, or reject after `ms` (a failure guard, not a sleep). */
function until<T extends unknown[]>(
  link: BridgeLink,
  event: 'samples' | 'gap' | 'state',
  pred: (...args: T) => boolean,
  ms: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      link.off(event, on as never);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}; counters ${JSON.stringify(link.counters())}`));
    }, ms);
    const on = (...args: T): void => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      link.off(event, on as never);
      resolve();
    };
    link.on(event, on as never);
  });
}

fwTest('2000 samples of 16 channels at 4 kHz arrive value for value as the firmware generated them', async (t) => {
  const dir = tmp(t);
  const dump = join(dir, 'dump.txt');
  const fw = await startSimFirmware({ rate: 4000, channels: 16, block: 0, seed: 7, dump });
  t.teardown(() => void fw.stop());
  const link = new BridgeLink({ open: openNodeSerial, path: fw.path, rate: 4000, channels: 16, block: 0 });
  t.teardown(() => link.stop());
  const errors: ReflexError[] = [];
  const gaps: LinkGap[] = [];
  link.on('error', (e) => errors.push(e));
  link.on('gap', (g) => gaps.push(g));
  const got = new Map<number, Float32Array>();
  let uv = 0;
  let channels = 0;
  link.on('samples', (b, _at, frame) => {
    uv = frame.uvPerLsb;
    channels = b.channels;
    for (let i = 0; i < b.samples; i++) {
      const s = new Float32Array(b.channels);
      for (let c = 0; c < b.channels; c++) s[c] = b.data[c * b.samples + i]!;
      got.set(b.firstSample + i, s);
    }
  });
  const enough = until(link, 'samples', () => got.size >= 2000, 10_000, '2000 samples');
  await link.start();
  await enough;
  await link.stop();
  await fw.stop();
  const counts = readDump(dump);
  t.is(channels, 16);
  t.true(uv > 0);
  let compared = 0;
  for (const [idx, values] of got) {
    const want = counts.get(idx);
    if (!want) t.fail(`sample ${idx} is not in the firmware's dump`);
    for (let c = 0; c < 16; c++) {
      if (values[c] !== Math.fround(want![c]! * uv)) t.fail(`sample ${idx} channel ${c}: got ${values[c]}, dump says ${want![c]} counts x ${uv}`);
    }
    compared++;
  }
  t.true(compared >= 2000);
  // A pty does not corrupt bytes: no bad frame of any kind.
  const c = link.counters();
  t.is(
    Object.entries(c.decoder)
      .filter(([k]) => !['gaps', 'restarts', 'missing_frames', 'missing_samples'].includes(k))
      .reduce((a, [, v]) => a + v, 0),
    0,
    JSON.stringify(c.decoder),
  );
  // Consecutive from 0, except exactly where a gap was reported: on a loaded machine the
  // device may overflow its transmit buffer (it says so with ERROR OVERFLOW), never silently.
  const idx = [...got.keys()].sort((a, b) => a - b);
  t.is(idx[0], 0);
  const holes = idx
    .slice(1)
    .map((v, i) => v - idx[i]! - 1)
    .filter((h) => h > 0);
  t.deepEqual(
    holes,
    gaps.filter((g) => g.cause === 'frames').map((g) => g.missingSamples),
  );
  for (const e of errors) t.is(e.code, 'E_DEVICE_REPORT', e.message);
  if (holes.length > 0) t.log(`device dropped frames under load: ${holes.length} gaps, all reported`);
});

fwTest('firmware killed and restarted on the same --link path: the link reconnects by itself and reports the gap', async (t) => {
  const dir = tmp(t);
  const linkPath = join(dir, 'bridge-tty');
  let fw: SimFirmware = await startSimFirmware({ rate: 2000, channels: 4, seed: 1, link: linkPath });
  t.teardown(() => void fw.stop());
  const link = new BridgeLink({ open: openNodeSerial, path: linkPath, rate: 2000, channels: 4, backoffMinMs: 50, backoffMaxMs: 400 });
  t.teardown(() => link.stop());
  const gaps: LinkGap[] = [];
  const states: string[] = [];
  const resets: unknown[] = [];
  let blocks = 0;
  link.on('error', () => undefined);
  link.on('gap', (g) => gaps.push(g));
  link.on('state', (s) => states.push(s));
  link.on('reset', (r) => resets.push(r));
  link.on('samples', () => blocks++);
  const some = until(link, 'samples', () => blocks >= 50, 10_000, '50 blocks');
  await link.start();
  await some;

  // Kill: the pty hangs up, the link notices and retries while nothing is at the path.
  fw.kill('SIGKILL');
  await fw.exited;
  // The hang-up may already have been noticed while we waited for the exit.
  if (link.state !== 'reconnecting') await until(link, 'state', (s) => s === 'reconnecting', 5000, 'reconnecting');
  const outage = until<[LinkGap]>(link, 'gap', (g) => g.cause === 'outage', 10_000, 'the outage gap');
  fw = await startSimFirmware({ rate: 2000, channels: 4, seed: 2, link: linkPath });
  await outage;
  t.is(link.state, 'streaming');
  const g = gaps.find((x) => x.cause === 'outage')!;
  t.true(g.hostSpanMs > 0 && g.hostSpanMs < 10_000, `span ${g.hostSpanMs}`);
  t.true(g.deviceReset, 'a new firmware process has a new boot id');
  t.like(resets[0], { cause: 'boot_id' });

  // DISCONNECT fault: the device drops the link and comes back as a new pty after 300 ms.
  const before = gaps.length;
  const back = until<[LinkGap]>(link, 'gap', (x) => x.cause === 'outage', 10_000, 'the DISCONNECT outage gap');
  await link.fault('DISCONNECT', 300).catch((e: ReflexError) => t.is(e.code, 'E_DISCONNECTED'));
  await back;
  const g2 = gaps.slice(before).find((x) => x.cause === 'outage')!;
  t.true(g2.hostSpanMs >= 250, `outage of ${g2.hostSpanMs} ms covers the 300 ms disconnect`);
  t.false(g2.deviceReset, 'same device, same boot id');
  t.is(link.state, 'streaming');
  t.true(link.counters().link.connections_lost! >= 2);
  await link.stop();
  t.is(link.state, 'stopped');
  await fw.stop();
});

/**
 * docs/protocol.md section 3, "Refusals", row by row against the host build: each command a
 * device must refuse, the ERROR code, req_id and command type it gets, and that nothing
 * the device was told to drive moved (its actuator log has only the one valid ACTUATE).
 */
fwTest('every documented refusal gets the documented ERROR from the firmware, and nothing moves', async (t) => {
  const dir = tmp(t);
  const actuatorLog = join(dir, 'actuators.log');
  const fw = await startSimFirmware({ rate: 1000, channels: 2, actuatorLog });
  t.teardown(() => void fw.stop());
  const port = await openNodeSerial({ path: fw.path, baudRate: 115200 });
  t.teardown(() => port.close());
  type Reply = { kind: 'ack' | 'error' | 'hello'; reqId: number; commandType: number; code: number; message: string };
  const replies: Reply[] = [];
  let waiter: (() => void) | null = null;
  const decoder = new BridgeDecoder({
    onAck: (a) => replies.push({ kind: 'ack', reqId: a.reqId, commandType: a.commandType, code: 0, message: '' }),
    onError: (e) => replies.push({ kind: 'error', reqId: e.reqId, commandType: e.commandType, code: e.code, message: e.message }),
    onHello: () => replies.push({ kind: 'hello', reqId: -1, commandType: 0, code: 0, message: '' }),
  });
  port.onData((chunk) => {
    decoder.push(chunk);
    waiter?.();
  });
  const w = new FrameWriter();
  /**
   * Send one frame and resolve with its reply (an ACK or ERROR, or the HELLO when asked for).
   * Frames are built just before sending: FrameWriter reuses its buffer.
   */
  const send = async (frame: Uint8Array, want: Reply['kind'][] = ['ack', 'error']): Promise<Reply> => {
    replies.length = 0;
    // The writer reuses its buffer: copy before the next frame is built.
    await port.write(frame.slice());
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no reply to ${Buffer.from(frame).toString('hex')}; got ${JSON.stringify(replies)}; decoder ${JSON.stringify(decoder.stats())}`)),
        5000,
      );
      const check = (): void => {
        const r = replies.find((x) => want.includes(x.kind));
        if (!r) return;
        clearTimeout(timer);
        waiter = null;
        resolve(r);
      };
      waiter = check;
      check();
    });
  };
  const u16 = (v: number): number[] => [v & 0xff, v >> 8];
  const ACTUATE = FrameType.ACTUATE;
  const BAD_ARG = DeviceErrorCode.BAD_ARG;
  const RX_ERROR = DeviceErrorCode.RX_ERROR;
  const UNSOLICITED = { reqId: 0xffff, commandType: 0, code: RX_ERROR };
  // The host build's actuators: channels 0 and 1 servo or PWM, 2 and 3 digital.
  const servo0 = { channel: 0, kind: 2, value: 1500 };
  const cases: Array<[string, () => Uint8Array, Partial<Reply>]> = [
    ['count 0', () => w.actuateRaw(10, []), { reqId: 10, commandType: ACTUATE, code: BAD_ARG }],
    ['channel out of range', () => w.actuateRaw(11, [{ channel: 4, kind: 0, value: 0 }]), { reqId: 11, commandType: ACTUATE, code: BAD_ARG }],
    ['channel repeated', () => w.actuateRaw(12, [servo0, { ...servo0, value: 1600 }]), { reqId: 12, commandType: ACTUATE, code: BAD_ARG }],
    ['unknown kind', () => w.actuateRaw(13, [{ channel: 0, kind: 3, value: 0 }]), { reqId: 13, commandType: ACTUATE, code: BAD_ARG }],
    [
      'kind the channel does not support (PWM on digital)',
      () => w.actuateRaw(14, [{ channel: 2, kind: 1, value: 10 }]),
      { reqId: 14, commandType: ACTUATE, code: BAD_ARG },
    ],
    [
      'kind the channel does not support (digital on servo)',
      () => w.actuateRaw(15, [{ channel: 0, kind: 0, value: 1 }]),
      { reqId: 15, commandType: ACTUATE, code: BAD_ARG },
    ],
    ['digital value 2', () => w.actuateRaw(16, [{ channel: 2, kind: 0, value: 2 }]), { reqId: 16, commandType: ACTUATE, code: BAD_ARG }],
    ['PWM value 10001', () => w.actuateRaw(17, [{ channel: 1, kind: 1, value: 10001 }]), { reqId: 17, commandType: ACTUATE, code: BAD_ARG }],
    ['servo value 499', () => w.actuateRaw(18, [{ channel: 1, kind: 2, value: 499 }]), { reqId: 18, commandType: ACTUATE, code: BAD_ARG }],
    ['servo value 2501', () => w.actuateRaw(19, [{ channel: 1, kind: 2, value: 2501 }]), { reqId: 19, commandType: ACTUATE, code: BAD_ARG }],
    ['one bad entry after a good one', () => w.actuateRaw(20, [servo0, { channel: 3, kind: 0, value: 7 }]), { reqId: 20, commandType: ACTUATE, code: BAD_ARG }],
    [
      'length not 6 + 8*count (one byte more)',
      () => w.raw(ACTUATE, Uint8Array.from([...u16(21), 1, 0, 0, 0, 0, 2, 0, 0, 0xdc, 0x05, 0, 0, 0])),
      { reqId: 21, commandType: ACTUATE, code: BAD_ARG },
    ],
    [
      'shorter than its fixed part, req_id readable',
      () => w.raw(ACTUATE, Uint8Array.from([...u16(22), 1])),
      { reqId: 22, commandType: ACTUATE, code: BAD_ARG },
    ],
    ['req_id 0xFFFF', () => w.actuateRaw(0xffff, [servo0]), UNSOLICITED],
    ['ACTUATE of 1 byte: no req_id', () => w.raw(ACTUATE, Uint8Array.from([1])), UNSOLICITED],
    ['CONFIG without its arguments', () => w.raw(FrameType.CONFIG, Uint8Array.from(u16(23))), { reqId: 23, commandType: FrameType.CONFIG, code: BAD_ARG }],
    ['CONFIG rate out of range', () => w.config(24, 5000, 0, 0), { reqId: 24, commandType: FrameType.CONFIG, code: BAD_ARG }],
    ['CONFIG block that does not fit', () => w.config(25, 0, 16, 21), { reqId: 25, commandType: FrameType.CONFIG, code: BAD_ARG }],
    ['PING too short', () => w.raw(FrameType.PING, Uint8Array.from([1, 2, 3])), UNSOLICITED],
    ['START without a req_id', () => w.raw(FrameType.START, Uint8Array.from([1])), UNSOLICITED],
    ['FAULT of an unknown kind', () => w.fault(26, 99, 0), { reqId: 26, commandType: FrameType.FAULT, code: BAD_ARG }],
    ['unknown host type 0x50', () => w.raw(0x50, Uint8Array.from([...u16(27), 9, 9])), { reqId: 27, commandType: 0x50, code: DeviceErrorCode.UNKNOWN_TYPE }],
    [
      'a device-to-host type (SAMPLES)',
      () => w.raw(FrameType.SAMPLES, Uint8Array.from(u16(28))),
      { reqId: 28, commandType: FrameType.SAMPLES, code: DeviceErrorCode.UNKNOWN_TYPE },
    ],
  ];
  await send(w.helloReq(1, 1, 1), ['hello']);
  for (const [what, frame, want] of cases) t.like(await send(frame()), { kind: 'error', ...want }, what);

  // A frame that fails its CRC: unsolicited RX_ERROR naming the kind.
  const corrupt = w.start(29).slice();
  corrupt[2]! ^= 0x10;
  t.like(await send(corrupt), { kind: 'error', ...UNSOLICITED, message: 'bad_crc' });
  // A HELLO_REQ whose range excludes major 1: BAD_VERSION, then the HELLO anyway.
  t.like(await send(w.helloReq(30, 2, 3)), { kind: 'error', reqId: 30, commandType: FrameType.HELLO_REQ, code: DeviceErrorCode.BAD_VERSION });
  // CONFIG while streaming: BUSY.
  t.like(await send(w.start(31)), { kind: 'ack', reqId: 31 });
  t.like(await send(w.config(32, 2000, 0, 0)), { kind: 'error', reqId: 32, commandType: FrameType.CONFIG, code: DeviceErrorCode.BUSY });
  t.like(await send(w.stop(33)), { kind: 'ack', reqId: 33 });

  // Only now one valid ACTUATE: the log must show it and nothing from the refused ones.
  t.like(
    await send(
      w.actuateRaw(34, [
        { channel: 1, kind: 2, value: 1234 },
        { channel: 3, kind: 0, value: 1 },
      ]),
    ),
    { kind: 'ack', reqId: 34, commandType: ACTUATE },
  );
  await port.close();
  await fw.stop();
  const applied = readFileSync(actuatorLog, 'utf8')
    .split('\n')
    .filter((l) => l && !l.endsWith(' safe'))
    .map((l) => l.split(' ').slice(1).join(' '));
  t.deepEqual(applied, ['1 2 1234', '3 0 1']);
});

fwTest('CONFIG with automatic block_samples rounds rate/1000 halves up (docs/protocol.md, CONFIG)', async (t) => {
  const fw = await startSimFirmware({ rate: 1000, channels: 2 });
  t.teardown(() => void fw.stop());
  const port = await openNodeSerial({ path: fw.path, baudRate: 115200 });
  t.teardown(() => port.close());
  const hellos: number[] = [];
  let acks = 0;
  let wake: (() => void) | null = null;
  const decoder = new BridgeDecoder({ onHello: (h) => hellos.push(h.blockSamples), onAck: () => acks++ });
  port.onData((chunk) => {
    decoder.push(chunk);
    wake?.();
  });
  const until = (pred: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 5000);
      wake = () => {
        if (!pred()) return;
        clearTimeout(timer);
        wake = null;
        resolve();
      };
      wake();
    });
  const w = new FrameWriter();
  const blockAt = async (rate: number, channels: number): Promise<number> => {
    const a = acks;
    await port.write(w.config(rate, rate, channels, 0).slice());
    await until(() => acks > a, `ACK of CONFIG ${rate} Hz`);
    const h = hellos.length;
    await port.write(w.helloReq(1, 1, 1).slice());
    await until(() => hellos.length > h, 'HELLO');
    return hellos.at(-1)!;
  };
  t.deepEqual(
    [await blockAt(1499, 2), await blockAt(1500, 2), await blockAt(2499, 8), await blockAt(2500, 8), await blockAt(3500, 16), await blockAt(250, 1)],
    [1, 2, 2, 3, 4, 1],
  );
});
