import test from 'ava';
import { nullLogger } from '../src/core/log.js';
import { CytonDevice, type CytonState } from '../src/devices/cyton/device.js';
import type { CytonGapEvent } from '../src/devices/cyton/parser.js';
import { FakeSerialBus, type FakeSerialPort } from '../src/hal/serial-fake.js';
import type { SerialOpener, SerialPortLike } from '../src/hal/serial.js';
import { concat, packet, uvPerCount } from './cyton-packets.js';

const PATH = '/dev/ttyUSB0';
const COUNTS = [10, -20, 30, -40, 50, -60, 70, -80];
const REPLY = 'OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$';

/**
 * A scripted Cyton on a FakeSerialBus: answers `v` with its banner ending in `$$$`
 * (optionally ignoring the first few), streams on `b`, stops on `s`. The test pushes
 * packets with `send` only while it is streaming, as the board would.
 */
class FakeCyton {
  streaming = false;
  commands: string[] = [];
  ignoreResets = 0;
  silent = false;
  boardOff = false;
  sn = 0;
  readonly bus: FakeSerialBus;
  constructor(bus: FakeSerialBus) {
    this.bus = bus;
    bus.createPort(PATH, (data, port) => this.#onWrite(data, port));
  }
  readonly #waiters: Array<{ c: string; resolve: () => void }> = [];
  /** Resolves when the device has sent command `c` (now or later). */
  received(c: string): Promise<void> {
    if (this.commands.includes(c)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ c, resolve }));
  }
  #onWrite(data: Uint8Array, port: FakeSerialPort): void {
    for (const byte of data) {
      const c = String.fromCharCode(byte);
      this.commands.push(c);
      for (const w of this.#waiters.filter((x) => x.c === c)) w.resolve();
      if (c === 's') this.streaming = false;
      if (c === 'b') {
        this.streaming = true;
        this.sn = 0;
      }
      if (c === 'v' && !this.silent) {
        if (this.ignoreResets > 0) this.ignoreResets--;
        // What the dongle's radio says for itself when the board does not answer.
        else if (this.boardOff) port.emitData(new TextEncoder().encode('Failure: Communications timeout - Device failed to poll Host$$$'));
        // The banner arrives in two pieces, the `$$$` split across them.
        else {
          port.emitData(new TextEncoder().encode(REPLY.slice(0, -2)));
          port.emitData(new TextEncoder().encode(REPLY.slice(-2)));
        }
      }
    }
  }
  send(n: number): void {
    if (!this.streaming) throw new Error('FakeCyton: not streaming, send b first');
    const ps: Uint8Array[] = [];
    for (let i = 0; i < n; i++) ps.push(packet(this.sn++, COUNTS));
    this.bus.port(PATH).emitData(concat(ps));
  }
}

function nextState(dev: CytonDevice, want: CytonState, timeoutMs = 5000): Promise<string> {
  return nextStateMatching(dev, want, /.*/, timeoutMs);
}

function nextStateMatching(dev: CytonDevice, want: CytonState, detail: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${want}' state within ${timeoutMs} ms (now ${dev.state})`)), timeoutMs);
    const on = (s: CytonState, d: string): void => {
      if (s !== want || !detail.test(d)) return;
      clearTimeout(timer);
      dev.off('state', on);
      resolve(d);
    };
    dev.on('state', on);
  });
}

function makeDevice(
  t: { teardown: (fn: () => unknown) => void },
  bus: FakeSerialBus,
  clock: { t: number },
  extra: Partial<ConstructorParameters<typeof CytonDevice>[0]> = {},
) {
  const dev = new CytonDevice({
    open: bus.open,
    path: PATH,
    resetTimeoutMs: 100,
    backoffInitialMs: 2,
    backoffMaxMs: 10,
    stallTimeoutMs: 1000,
    stallCheckMs: 5,
    now: () => clock.t,
    logger: nullLogger(),
    ...extra,
  });
  t.teardown(() => dev.stop());
  const samples: Array<{ firstSample: number; data: number[] }> = [];
  const gaps: CytonGapEvent[] = [];
  dev.on('samples', (b) => samples.push({ firstSample: b.firstSample, data: Array.from(b.data) }));
  dev.on('gap', (g) => gaps.push(g));
  return { dev, samples, gaps };
}

test('session: s, v, wait for $$$, b; samples flow; stop sends s and closes', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  const clock = { t: 1000 };
  const { dev, samples } = makeDevice(t, bus, clock);
  const streaming = nextState(dev, 'streaming');
  await dev.start();
  await streaming;
  t.deepEqual(cyton.commands, ['s', 'v', 'b']);
  t.true(dev.resetReply.endsWith('$$$'));
  t.true(dev.resetReply.includes('Firmware: v3.1.2'));
  cyton.send(3);
  t.deepEqual(
    samples.map((s) => s.firstSample),
    [0, 1, 2],
  );
  t.deepEqual(
    samples[0]!.data,
    COUNTS.map((c) => Math.fround(c * uvPerCount(24))),
  );
  const port = bus.port(PATH);
  await dev.stop();
  t.deepEqual(cyton.commands, ['s', 'v', 'b', 's']);
  t.false(port.isOpen);
  t.is(dev.state, 'stopped');
  t.false(cyton.streaming);
});

test('gain from the board file scales the samples', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  const { dev, samples } = makeDevice(t, bus, { t: 0 }, { gain: 8 });
  await dev.start();
  cyton.send(1);
  t.deepEqual(
    samples[0]!.data,
    COUNTS.map((c) => Math.fround(c * uvPerCount(8))),
  );
  await dev.stop();
});

test('a missing $$$ is retried with another v, then streaming starts', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  cyton.ignoreResets = 2;
  const { dev } = makeDevice(t, bus, { t: 0 }, { resetTimeoutMs: 20, resetAttempts: 3 });
  await dev.start();
  t.deepEqual(cyton.commands, ['s', 'v', 'v', 'v', 'b']);
  t.is(dev.counters.get('reset_timeouts'), 2);
  await dev.stop();
});

test('a board that never answers v: the connection is dropped and retried, counted', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  cyton.silent = true;
  const { dev } = makeDevice(t, bus, { t: 0 }, { resetTimeoutMs: 10, resetAttempts: 2 });
  const started = dev.start();
  await nextState(dev, 'reconnecting');
  t.is(dev.counters.get('handshake_failures'), 1);
  t.deepEqual(cyton.commands, ['s', 'v', 'v'], 'no b after a failed handshake');
  cyton.silent = false;
  await started;
  t.is(dev.state, 'streaming');
  t.deepEqual(cyton.commands, ['s', 'v', 'v', 's', 'v', 'b']);
  await dev.stop();
});

test('unplug and replug: reconnects by itself and reports the outage as one gap', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  const clock = { t: 1000 };
  const { dev, samples, gaps } = makeDevice(t, bus, clock);
  await dev.start();
  cyton.send(5); // samples 0..4, last bytes at t = 1000
  const reconnecting = nextState(dev, 'reconnecting');
  bus.unplug(PATH);
  await reconnecting;
  t.is(dev.counters.get('disconnects'), 1);
  // Reopening fails while the device is away (counted, reported as a state), until it is back.
  t.regex(await nextStateMatching(dev, 'reconnecting', /cannot open/), /does not exist/);
  t.true(dev.counters.get('open_failures') >= 1);
  const streamingAgain = nextState(dev, 'streaming');
  bus.replug(PATH);
  await streamingAgain;
  t.deepEqual(cyton.commands, ['s', 'v', 'b', 's', 'v', 'b']);
  clock.t = 1000 + 400; // 400 ms after the last bytes: 100 sample periods, 99 samples missing
  cyton.send(2);
  t.deepEqual(gaps, [
    {
      stream: 'emg',
      reason: 'outage',
      fromSample: 5,
      missingSamples: 99,
      deviceTimeUs: 20000,
      deviceSpanUs: 400_000,
      hostFromMs: 1000,
      hostToMs: 1400,
      hostSpanMs: 400,
      fromSeq: NaN,
      toSeq: NaN,
    },
  ]);
  t.is(dev.counters.get('outages'), 1);
  t.is(dev.counters.get('connections'), 2);
  t.deepEqual(
    samples.map((s) => s.firstSample),
    [0, 1, 2, 3, 4, 104, 105],
  );
  await dev.stop();
});

test('a stalled link (no bytes for stallTimeoutMs) is closed, reopened and reported as a gap', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  const clock = { t: 0 };
  const { dev, samples, gaps } = makeDevice(t, bus, clock, { stallTimeoutMs: 1000 });
  await dev.start();
  cyton.send(2);
  const firstPort = bus.port(PATH);
  const reconnecting = nextState(dev, 'reconnecting');
  const streamingAgain = nextState(dev, 'streaming');
  clock.t = 1500; // the watchdog sees 1.5 s of silence
  t.is(await reconnecting, 'no bytes for 1000 ms');
  await streamingAgain;
  t.false(firstPort.isOpen);
  t.is(dev.counters.get('stalls'), 1);
  clock.t = 2000;
  cyton.send(1);
  t.deepEqual(
    gaps.map((g) => [g.reason, g.fromSample, g.missingSamples]),
    [['stall', 2, 499]],
  );
  t.deepEqual(
    samples.map((s) => s.firstSample),
    [0, 1, 501],
  );
  await dev.stop();
});

test('dropped packets inside a session are gaps too', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  const clock = { t: 0 };
  const { dev, gaps } = makeDevice(t, bus, clock);
  await dev.start();
  cyton.send(2);
  cyton.sn += 3;
  clock.t = 20; // the packet after the hole arrives 20 ms after the one before it
  cyton.send(1);
  t.deepEqual(
    gaps.map((g) => [g.reason, g.fromSample, g.missingSamples]),
    [['dropped', 2, 3]],
  );
  t.like(gaps[0], { hostFromMs: 0, hostToMs: 20, hostSpanMs: 20, deviceSpanUs: 16_000, fromSeq: 1, toSeq: 5 });
  t.is(dev.counters.get('dropped_samples'), 3);
  await dev.stop();
});

test('stop while the device is absent ends the retry loop and rejects start()', async (t) => {
  const bus = new FakeSerialBus(); // no port created
  const { dev } = makeDevice(t, bus, { t: 0 });
  const failed = nextStateMatching(dev, 'reconnecting', /cannot open/);
  const started = dev.start();
  await failed;
  await dev.stop();
  const err = await t.throwsAsync(started);
  t.is((err as { code?: string }).code, 'E_CYTON_STOPPED');
  t.true(dev.counters.get('open_failures') >= 1);
});

test('a stopped device cannot be restarted: start() rejects with E_CYTON_STOPPED', async (t) => {
  const bus = new FakeSerialBus();
  new FakeCyton(bus);
  const { dev } = makeDevice(t, bus, { t: 0 });
  await dev.start();
  await dev.stop();
  await dev.stop();
  const err = await t.throwsAsync(dev.start());
  t.is((err as { code?: string }).code, 'E_CYTON_STOPPED');
});

test('the dongle answering "Device failed to poll Host": no b, counted, retried until the board is on', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  cyton.boardOff = true;
  const { dev } = makeDevice(t, bus, { t: 0 });
  const started = dev.start();
  t.regex(await nextState(dev, 'reconnecting'), /cannot reach the board/);
  t.deepEqual(cyton.commands, ['s', 'v']);
  t.is(dev.counters.get('no_board'), 1);
  cyton.boardOff = false;
  await started;
  t.deepEqual(cyton.commands, ['s', 'v', 's', 'v', 'b']);
});

/** Rejects if `p` has not settled within `ms`: "stop() ends promptly" as a failure guard, not a measurement. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

test('connection: attempts since start() and the last error while the port is missing', async (t) => {
  const bus = new FakeSerialBus(); // nothing at PATH yet
  const { dev } = makeDevice(t, bus, { t: 0 });
  t.deepEqual(dev.connection, { state: 'idle', sinceMs: NaN, attempts: 0, lastError: null });
  const started = dev.start();
  await nextStateMatching(dev, 'reconnecting', /cannot open/);
  await nextStateMatching(dev, 'reconnecting', /cannot open/);
  const c = dev.connection;
  t.true(c.attempts >= 2, `attempts ${c.attempts}`);
  t.regex(c.lastError?.message ?? '', /^cannot open \/dev\/ttyUSB0: .*does not exist/);
  t.is(c.lastError?.code, 'E_CYTON_OPEN');
  new FakeCyton(bus);
  await started;
  t.is(dev.connection.state, 'streaming');
  t.true(dev.connection.attempts > c.attempts, 'the attempt that succeeded is counted');
  t.is(dev.counters.get('connections'), 1);
});

test('stop() while an open never returns: ends promptly, start() rejects, a late port is closed', async (t) => {
  let resolveOpen!: (p: SerialPortLike) => void;
  let opened = false;
  const open: SerialOpener = () => {
    opened = true;
    return new Promise((res) => (resolveOpen = res));
  };
  const dev = new CytonDevice({ open, path: PATH, logger: nullLogger() });
  const opening = nextState(dev, 'opening');
  const started = dev.start();
  await opening;
  t.true(opened);
  await within(dev.stop(), 2000, 'stop() during a hung open');
  t.is(dev.state, 'stopped');
  t.is(((await t.throwsAsync(started)) as { code?: string }).code, 'E_CYTON_STOPPED');
  // The open completes after all: the port must not be left open.
  const bus = new FakeSerialBus();
  bus.createPort(PATH);
  const late = await bus.open({ path: PATH, baudRate: 115200 });
  const close = late.close.bind(late);
  const closing = new Promise<void>((res) => {
    (late as { close: () => Promise<void> }).close = () => close().finally(res);
  });
  resolveOpen(late);
  await within(closing, 2000, 'closing the late port');
  t.false(late.isOpen);
});

test('stop() while the board never answers v: ends promptly, not after the reset timeout', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  cyton.silent = true;
  const { dev } = makeDevice(t, bus, { t: 0 }, { resetTimeoutMs: 60_000 });
  const started = dev.start();
  await cyton.received('v');
  const port = bus.port(PATH);
  await within(dev.stop(), 2000, 'stop() during the handshake');
  t.is(((await t.throwsAsync(started)) as { code?: string }).code, 'E_CYTON_STOPPED');
  t.deepEqual(cyton.commands, ['s', 'v', 's']);
  t.false(port.isOpen);
});

test('stop() while a write never completes: bounded by writeTimeoutMs, counted', async (t) => {
  // A port that accepts the open but never finishes a write (a dongle that stopped draining).
  let closed = false;
  const port: SerialPortLike = {
    path: PATH,
    get isOpen() {
      return !closed;
    },
    write: () => new Promise<void>(() => undefined),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
    onData: () => undefined,
    onClose: () => undefined,
  };
  const dev = new CytonDevice({
    open: () => Promise.resolve(port),
    path: PATH,
    writeTimeoutMs: 50,
    resetTimeoutMs: 60_000,
    backoffInitialMs: 60_000,
    logger: nullLogger(),
  });
  const resetting = nextState(dev, 'resetting');
  const started = dev.start();
  await resetting;
  await within(dev.stop(), 2000, 'stop() with a hung write');
  t.true(closed);
  t.true(dev.counters.get('write_errors') >= 1);
  t.is(((await t.throwsAsync(started)) as { code?: string }).code, 'E_CYTON_STOPPED');
});
