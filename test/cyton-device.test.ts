import test from 'ava';
import { nullLogger } from '../src/core/log.js';
import { CytonDevice, type CytonState } from '../src/devices/cyton/device.js';
import type { CytonGapEvent } from '../src/devices/cyton/parser.js';
import { FakeSerialBus, type FakeSerialPort } from '../src/hal/serial-fake.js';
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
  #onWrite(data: Uint8Array, port: FakeSerialPort): void {
    for (const byte of data) {
      const c = String.fromCharCode(byte);
      this.commands.push(c);
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

function makeDevice(t: { teardown: (fn: () => unknown) => void }, bus: FakeSerialBus, clock: { t: number }, extra: Partial<ConstructorParameters<typeof CytonDevice>[0]> = {}) {
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
  t.deepEqual(samples.map((s) => s.firstSample), [0, 1, 2]);
  t.deepEqual(samples[0]!.data, COUNTS.map((c) => Math.fround(c * uvPerCount(24))));
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
  t.deepEqual(samples[0]!.data, COUNTS.map((c) => Math.fround(c * uvPerCount(8))));
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
  t.deepEqual(gaps, [{ stream: 'emg', reason: 'outage', fromSample: 5, missingSamples: 99, deviceTimeUs: 20000 }]);
  t.deepEqual(samples.map((s) => s.firstSample), [0, 1, 2, 3, 4, 104, 105]);
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
  t.deepEqual(gaps.map((g) => [g.reason, g.fromSample, g.missingSamples]), [['stall', 2, 499]]);
  t.deepEqual(samples.map((s) => s.firstSample), [0, 1, 501]);
  await dev.stop();
});

test('dropped packets inside a session are gaps too', async (t) => {
  const bus = new FakeSerialBus();
  const cyton = new FakeCyton(bus);
  const { dev, gaps } = makeDevice(t, bus, { t: 0 });
  await dev.start();
  cyton.send(2);
  cyton.sn += 3;
  cyton.send(1);
  t.deepEqual(gaps.map((g) => [g.reason, g.fromSample, g.missingSamples]), [['dropped', 2, 3]]);
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
