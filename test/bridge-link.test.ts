import test from 'ava';
import type { SampleBlock } from '../src/core/block.js';
import { DisconnectedError, type ReflexError } from '../src/core/errors.js';
import { nullLogger } from '../src/core/log.js';
import { FrameWriter } from '../src/bridge/encode.js';
import { DeviceErrorCode, FrameType } from '../src/bridge/frames.js';
import { BridgeDeviceError } from '../src/bridge/errors.js';
import { FakeBridgeDevice } from '../src/testing/bridge-fake-device.js';
import { BridgeLink, type BridgeLinkOptions, type LinkGap, type LinkTimers, type PongSample } from '../src/devices/bridge/link.js';
import { FakeSerialBus } from '../src/hal/serial-fake.js';
import { versionHello } from './bridge-helpers.js';

/** Manual time: timers fire only when the test advances the clock. */
class FakeClock implements LinkTimers {
  now = 0;
  #seq = 0;
  #timers = new Map<number, { at: number; seq: number; fn: () => void }>();
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.now + Math.max(0, ms), seq: id, fn });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.#timers.delete(h as number);
  };
  /** Run every timer due within `ms`, in time order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= target && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq))) next = e;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = target;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

const PATH = '/dev/fake-bridge';

function setup(linkOpts: Partial<BridgeLinkOptions> = {}, devOpts: ConstructorParameters<typeof FakeBridgeDevice>[2] = {}) {
  const bus = new FakeSerialBus();
  const dev = new FakeBridgeDevice(bus, PATH, devOpts);
  const clock = new FakeClock();
  const link = new BridgeLink({
    open: bus.open,
    path: PATH,
    rate: 4000,
    channels: 3,
    block: 2,
    timers: clock,
    now: () => clock.now,
    logger: nullLogger(),
    ...linkOpts,
  });
  const states: string[] = [];
  const errors: ReflexError[] = [];
  const gaps: LinkGap[] = [];
  const blocks: { seq: number; first: number; data: number[]; rate: number; at: number }[] = [];
  link.on('state', (s) => states.push(s));
  link.on('error', (e) => errors.push(e));
  link.on('gap', (g) => gaps.push(g));
  link.on('samples', (b: SampleBlock, at) => blocks.push({ seq: b.seq, first: b.firstSample, data: Array.from(b.data), rate: b.rate, at }));
  return { bus, dev, clock, link, states, errors, gaps, blocks };
}

test('handshake: 0x00 + HELLO_REQ, HELLO, STOP, CONFIG, START, then samples in µV', async (t) => {
  const { bus, dev, link, states, blocks, clock } = setup();
  await link.start();
  t.deepEqual(
    dev.received.map((c) => c.type),
    [FrameType.HELLO_REQ, FrameType.STOP, FrameType.CONFIG, FrameType.START, FrameType.PING],
  );
  t.like(dev.received[2], { rateHz: 4000, channels: 3, blockSamples: 2 });
  t.is(bus.port(PATH).written[0]![0], 0, 'a 0x00 goes first to flush the device receiver');
  t.deepEqual(states, ['connecting', 'streaming']);
  t.is(link.hello?.name, 'fake-bridge');
  dev.emitSamples(2);
  t.is(blocks.length, 2);
  const expected = (k: number, c: number) => Math.fround(FakeBridgeDevice.count(k, c) * 0.5);
  // Channel-major: channel 0 samples 0,1 then channel 1 ...
  t.deepEqual(blocks[1]!.data, [expected(2, 0), expected(3, 0), expected(2, 1), expected(3, 1), expected(2, 2), expected(3, 2)]);
  t.deepEqual(
    blocks.map((b) => [b.seq, b.first, b.rate]),
    [
      [0, 0, 4000],
      [1, 2, 4000],
    ],
  );
  t.is(blocks[0]!.at, clock.now);
  await link.stop();
  t.is(dev.received.at(-1)!.type, FrameType.STOP);
  t.is(link.state, 'stopped');
  t.throws(() => bus.port(PATH));
});

test('a device ERROR to CONFIG rejects start() with the device code and stops the link', async (t) => {
  const { dev, link } = setup();
  dev.reply = (cmd) => (cmd.type === FrameType.CONFIG ? { error: DeviceErrorCode.BAD_ARG, message: 'rate out of range' } : 'default');
  const err = await t.throwsAsync(link.start(), { instanceOf: BridgeDeviceError });
  t.is(err.code, 'E_DEVICE_BAD_ARG');
  t.is(err.deviceCode, 2);
  t.regex(err.message, /CONFIG.*rate out of range/);
  t.is(link.state, 'stopped');
});

test('HELLO is retried after its timeout; a device that never answers means reconnecting, not a crash', async (t) => {
  const { dev, link, clock } = setup();
  let helloReqs = 0;
  dev.reply = (cmd) => (cmd.type === FrameType.HELLO_REQ && ++helloReqs < 3 ? 'silent' : 'default');
  const started = link.start();
  await clock.advance(2000); // two 1 s timeouts
  await started;
  t.is(link.counters().link.hello_timeouts, 2);
  t.is(link.state, 'streaming');
  await link.stop();

  const s = setup();
  s.dev.reply = (cmd) => (cmd.type === FrameType.HELLO_REQ ? 'silent' : 'default');
  void s.link.start().catch(() => undefined);
  await s.clock.advance(3000);
  t.is(s.errors[0]?.code, 'E_TIMEOUT');
  t.regex(s.errors[0]!.message, /no HELLO/);
  await s.clock.advance(5000);
  t.true(s.link.counters().link.connects! >= 2, 'it keeps trying');
  t.is(s.link.state, 'reconnecting');
  await s.link.stop();
});

test('a command without ACK times out and the link reconnects', async (t) => {
  const { dev, link, clock, errors } = setup();
  let starts = 0;
  dev.reply = (cmd) => (cmd.type === FrameType.START && ++starts === 1 ? 'silent' : 'default');
  const started = link.start();
  await clock.advance(1000);
  t.is(errors[0]?.code, 'E_TIMEOUT');
  t.regex(errors[0]!.message, /START/);
  await clock.advance(100); // first backoff
  await started;
  t.is(link.state, 'streaming');
  t.is(link.counters().link.command_timeouts, 1);
  await link.stop();
});

test('version mismatch: E_BAD_VERSION names both versions and the side to update', async (t) => {
  const newer = setup({}, { protoMajor: 2, protoMinor: 1 });
  // A device of major 2 refuses HELLO_REQ(1..1) with ERROR BAD_VERSION; one that announces itself is read too.
  newer.dev.reply = (cmd) => {
    if (cmd.type === FrameType.HELLO_REQ) newer.dev.announce();
    return 'silent';
  };
  const e1 = await t.throwsAsync<ReflexError>(newer.link.start());
  t.is(e1.code, 'E_BAD_VERSION');
  t.regex(e1.message, /protocol 2\.1, this host speaks 1\.0: update Reflex/);

  const older = setup({}, { protoMajor: 1 });
  older.dev.reply = (cmd) => {
    if (cmd.type === FrameType.HELLO_REQ) {
      const w = new FrameWriter();
      older.dev.send(w.hello(versionHello({ protoMajor: 0, protoMinor: 9, fwMajor: 0, name: 'old' })));
      return 'silent';
    }
    return 'default';
  };
  const e2 = await t.throwsAsync<ReflexError>(older.link.start());
  t.is(e2.code, 'E_BAD_VERSION');
  t.regex(e2.message, /0\.9.*update the device firmware/);

  // A device that can frame an ERROR we read (major 1) but refuses our range.
  const refusing = setup();
  refusing.dev.reply = (cmd) => (cmd.type === FrameType.HELLO_REQ ? { error: DeviceErrorCode.BAD_VERSION, message: 'wants 2' } : 'default');
  const e3 = await t.throwsAsync<ReflexError>(refusing.link.start());
  t.is(e3.code, 'E_BAD_VERSION');
  t.regex(e3.message, /refused firmware-bridge protocol 1\.0/);
});

test('stall: silence longer than stallMs reconnects, and the outage is one gap with its host span', async (t) => {
  const { dev, link, clock, errors, gaps, states } = setup({ stallMs: 1000 });
  await link.start();
  dev.emitSamples(1);
  const lastBlockAt = clock.now;
  await clock.advance(500);
  dev.frozen = true;
  await clock.advance(1300);
  t.is(errors.at(-1)?.code, 'E_STALL');
  t.is(link.counters().link.stalls, 1);
  t.is(link.state, 'reconnecting');
  dev.frozen = false;
  // The reconnect's first HELLO_REQ may have gone to the frozen device: allow its timeout.
  await clock.advance(1200);
  t.is(link.state, 'streaming');
  await clock.advance(100);
  dev.emitSamples(1);
  const firstAfter = clock.now;
  t.is(gaps.length, 1);
  t.like(gaps[0], { cause: 'outage', hostFromMs: lastBlockAt, hostToMs: firstAfter, hostSpanMs: firstAfter - lastBlockAt, deviceReset: false });
  t.deepEqual(states, ['connecting', 'streaming', 'reconnecting', 'streaming']);
  await link.stop();
});

test('unplug: reconnect attempts back off 100, 200, 400 ... ms, and a replug resumes streaming', async (t) => {
  const { bus, dev, link, clock, gaps, errors } = setup({ backoffMinMs: 100, backoffMaxMs: 1000 });
  const opens: number[] = [];
  await link.start();
  dev.emitSamples(1);
  const before = clock.now;
  // Record open attempts by watching connects/open_failures over time.
  bus.unplug(PATH);
  await settle();
  t.true(errors.at(-1) instanceof DisconnectedError);
  let last = link.counters().link.open_failures ?? 0;
  for (let ms = 0; ms < 3000; ms += 10) {
    await clock.advance(10);
    const now = link.counters().link.open_failures ?? 0;
    if (now !== last) opens.push(clock.now - before);
    last = now;
  }
  // First retry 100 ms after the loss, then doubling, capped at 1000.
  const deltas = opens.map((v, i) => v - (i === 0 ? 0 : opens[i - 1]!));
  t.deepEqual(deltas.slice(0, 5), [100, 200, 400, 800, 1000]);
  bus.replug(PATH);
  await clock.advance(1000);
  t.is(link.state, 'streaming');
  dev.emitSamples(1);
  t.is(gaps.length, 1);
  t.is(gaps[0]!.cause, 'outage');
  t.is(gaps[0]!.hostFromMs, before);
  t.is(gaps[0]!.hostToMs, clock.now);
  await link.stop();
});

test('backoff resets after a healthy period of streaming', async (t) => {
  const { bus, link, clock } = setup({ backoffMinMs: 100, healthyMs: 2000 });
  await link.start();
  // Two quick losses: the second waits longer.
  bus.unplug(PATH);
  await clock.advance(100);
  await clock.advance(200);
  bus.replug(PATH);
  await clock.advance(400);
  t.is(link.state, 'streaming');
  await clock.advance(2500); // healthy
  bus.unplug(PATH);
  bus.replug(PATH);
  await clock.advance(99);
  t.is(link.state, 'reconnecting');
  await clock.advance(1);
  t.is(link.state, 'streaming', 'after a healthy period the first retry is at backoffMinMs again');
  await link.stop();
});

test('gaps inside a connection carry device counters; a new boot id is a device reset', async (t) => {
  const { bus, dev, link, clock, gaps } = setup();
  const resets: unknown[] = [];
  link.on('reset', (r) => resets.push(r));
  await link.start();
  dev.emitSamples(1);
  const t0 = clock.now;
  dev.skip(3);
  await clock.advance(5);
  dev.emitSamples(1);
  t.like(gaps[0], { cause: 'frames', fromSeq: 0, toSeq: 4, missingFrames: 3, missingSamples: 6, deviceSpanUs: 2000, hostFromMs: t0, hostToMs: t0 + 5 });
  // Seq back to 0 without our START: the device restarted its stream.
  dev.seq = 0;
  dev.firstSample = 0;
  dev.emitSamples(1);
  t.is(gaps[1]!.cause, 'restart');
  t.true(gaps[1]!.deviceReset);
  t.like(resets[0], { cause: 'seq_restart' });
  // Power-cycle while unplugged: new boot id on reconnect.
  bus.unplug(PATH);
  dev.reset(0xbeef);
  bus.replug(PATH);
  await clock.advance(100);
  t.is(link.state, 'streaming');
  dev.emitSamples(1);
  t.like(resets[1], { cause: 'boot_id', previousBootId: 0x1234abcd, bootId: 0xbeef });
  t.like(gaps[2], { cause: 'outage', deviceReset: true });
  await link.stop();
});

test('PING every pingIntervalMs; PONG reported with host send and receive times', async (t) => {
  const { dev, link, clock } = setup({ pingIntervalMs: 200 });
  const pongs: PongSample[] = [];
  link.on('pong', (p) => pongs.push(p));
  let delayNext = false;
  dev.reply = (cmd) => (cmd.type === FrameType.PING && delayNext ? 'silent' : 'default');
  await link.start();
  t.is(pongs.length, 1, 'first ping right after START');
  dev.tUs = 5_000_000;
  await clock.advance(400);
  t.is(pongs.length, 3);
  t.like(pongs[2], { pingId: 3, hostSendMs: 400, hostRecvMs: 400, deviceRxUs: 5_000_000, deviceTxUs: 5_000_005 });
  // A late PONG is matched by ping_id and keeps its own send time.
  delayNext = true;
  await clock.advance(200);
  const ping = dev.received.at(-1)!;
  t.is(ping.type, FrameType.PING);
  await clock.advance(30);
  const w = new FrameWriter();
  if (ping.type === FrameType.PING) dev.send(w.pong({ pingId: ping.pingId, hostToken: ping.hostToken, tRxUs: 1, tTxUs: 2 }));
  t.like(pongs.at(-1), { pingId: 4, hostSendMs: 600, hostRecvMs: 630 });
  if (ping.type === FrameType.PING) t.is(ping.hostToken, 600_000n, 'host token = send time in µs');
  await link.stop();
});

test('actuate awaits the ACK; ERROR BAD_ARG rejects; not connected rejects at once', async (t) => {
  const { dev, link } = setup();
  await t.throwsAsync(link.actuate([{ channel: 0, kind: 'servo', value: 1500 }]), { instanceOf: DisconnectedError });
  await link.start();
  await link.actuate([
    { channel: 0, kind: 'servo', value: 1500 },
    { channel: 1, kind: 'digital', value: 1 },
  ]);
  t.like(dev.received.at(-1), {
    type: FrameType.ACTUATE,
    entries: [
      { channel: 0, kind: 2, value: 1500 },
      { channel: 1, kind: 0, value: 1 },
    ],
  });
  dev.reply = (cmd) => (cmd.type === FrameType.ACTUATE ? { error: DeviceErrorCode.BAD_ARG, message: 'servo 3000' } : 'default');
  const err = await t.throwsAsync<ReflexError>(link.actuate([{ channel: 0, kind: 'servo', value: 3000 }]));
  t.is(err.code, 'E_DEVICE_BAD_ARG');
  await t.throwsAsync(link.actuate([{ channel: 0, kind: 'laser' as 'pwm', value: 1 }]), { instanceOf: RangeError });
  dev.reply = () => 'default';
  await link.fault('DROP', 3);
  t.like(dev.received.at(-1), { type: FrameType.FAULT, kind: 2, param: 3 });
  await link.stop();
});

test('garbage, bad frames and unexpected replies from the device never break the link', async (t) => {
  const { dev, link, blocks, errors } = setup();
  dev.reply = (cmd) => {
    // Noise before every reply, an unsolicited error, and a stray ACK.
    dev.send(Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff));
    dev.send(Uint8Array.of(0));
    if (cmd.type === FrameType.STOP) {
      const w = new FrameWriter();
      dev.send(w.error({ reqId: 0xffff, commandType: 0, code: DeviceErrorCode.OVERFLOW, message: 'tx full' }));
      dev.send(w.ack({ reqId: 999, commandType: FrameType.START }));
    }
    return 'default';
  };
  await link.start();
  dev.emitSamples(3);
  t.is(blocks.length, 3);
  const c = link.counters();
  t.true(Object.values(c.decoder).reduce((a, b) => a + b, 0) > 0, 'the noise was counted');
  t.is(c.link.unmatched_replies, 1);
  t.is(errors.find((e) => e.code === 'E_DEVICE_REPORT')?.message, 'device reports OVERFLOW: tx full');
  await link.stop();
});

test('samples from an old stream before START are not passed on', async (t) => {
  const { dev, link, blocks } = setup();
  dev.streaming = true;
  dev.reply = (cmd) => {
    if (cmd.type === FrameType.STOP) dev.emitSamples(2); // still in flight when STOP arrives
    return 'default';
  };
  await link.start();
  t.is(blocks.length, 0);
  t.is(link.counters().link.samples_before_start, 2);
  dev.emitSamples(1);
  t.deepEqual(
    blocks.map((b) => b.seq),
    [0],
  );
  await link.stop();
});

test('stop() then start() again: a fresh handshake, and the stopped time is not reported as an outage', async (t) => {
  const { dev, link, clock, gaps, states } = setup();
  await link.start();
  dev.emitSamples(1);
  await link.stop();
  await clock.advance(5000);
  await link.start();
  t.is(link.state, 'streaming');
  dev.emitSamples(1);
  t.deepEqual(gaps, []);
  t.deepEqual(states, ['connecting', 'streaming', 'stopped', 'connecting', 'streaming']);
  t.is(dev.received.filter((c) => c.type === FrameType.START).length, 2);
  await link.stop();
});

test('a HELLO with a new boot id while streaming (device rebooted under an open port) restarts the session', async (t) => {
  const { dev, link, clock, gaps, errors } = setup();
  const resets: unknown[] = [];
  link.on('reset', (r) => resets.push(r));
  await link.start();
  dev.emitSamples(1);
  dev.reset(0x5555);
  dev.announce();
  await settle();
  t.is(errors.at(-1)?.code, 'E_DEVICE_RESET');
  await clock.advance(100);
  t.is(link.state, 'streaming');
  dev.emitSamples(1);
  t.deepEqual(resets, [{ cause: 'boot_id', previousBootId: 0x1234abcd, bootId: 0x5555 }]);
  t.is(link.counters().link.device_resets, 1);
  t.like(gaps[0], { cause: 'outage', deviceReset: true });
  await link.stop();
});

test('samples in the same chunk as the START ACK: streaming at once, and a synchronous reply does not re-enter the decoder', async (t) => {
  const { dev, link, blocks, states } = setup({ pingIntervalMs: 200 });
  const pongs: PongSample[] = [];
  link.on('pong', (p) => pongs.push(p));
  dev.reply = (cmd) => {
    if (cmd.type !== FrameType.START) return 'default';
    // ACK and two blocks in one chunk, as a fast device on a busy host would deliver them.
    const w = new FrameWriter();
    const ack = w.ack({ reqId: cmd.reqId, commandType: FrameType.START }).slice();
    dev.streaming = true;
    dev.seq = 0;
    dev.firstSample = 0;
    const parts: number[] = [...ack];
    const real = dev.send.bind(dev);
    dev.send = (b) => parts.push(...b);
    dev.emitSamples(2);
    dev.send = real;
    dev.send(Uint8Array.from(parts));
    return 'silent';
  };
  await link.start();
  t.deepEqual(
    blocks.map((b) => b.seq),
    [0, 1],
  );
  t.deepEqual(states, ['connecting', 'streaming']);
  t.is(pongs.length, 1, 'the PING sent from inside the samples handler got its PONG decoded');
  t.is(Object.keys(link.counters().decoder).length, 0, 'nothing counted bad');
  await link.stop();
});

/** Whether a promise has settled, and how, without awaiting it. */
function watch(p: Promise<unknown>): { done: boolean; error: unknown } {
  const s = { done: false, error: undefined as unknown };
  p.then(
    () => (s.done = true),
    (e: unknown) => {
      s.done = true;
      s.error = e;
    },
  );
  return s;
}

test('stop() ends a pending start() at once in every connecting phase, with no device timeout waited out', async (t) => {
  // Each phase: start, reach it, stop with the fake clock frozen: anything that waited for a timer would stay pending.
  type Setup = ReturnType<typeof setup>;
  const phases: Array<{ phase: string; opts?: Partial<BridgeLinkOptions>; prepare?: (s: Setup) => void; reach: (s: Setup) => Promise<void> }> = [
    {
      phase: 'waiting for HELLO from a silent device',
      prepare: (s) => (s.dev.reply = () => 'silent'),
      reach: (s) => s.clock.advance(1500), // between the first and the second HELLO_REQ
    },
    {
      phase: 'waiting for an ACK in the handshake',
      prepare: (s) => (s.dev.reply = (cmd) => (cmd.type === FrameType.CONFIG ? 'silent' : 'default')),
      reach: (s) => s.clock.advance(500),
    },
    {
      phase: 'between attempts on a path with no device',
      opts: { path: '/dev/no-such-device' },
      reach: (s) => s.clock.advance(350), // attempts at 0, 100, 300: asleep until 700
    },
    {
      phase: 'inside an open() that never returns',
      opts: { open: () => new Promise(() => undefined) },
      reach: () => settle(),
    },
  ];
  for (const { phase, opts, prepare, reach } of phases) {
    const s = setup(opts ?? {});
    prepare?.(s);
    const started = watch(s.link.start());
    await reach(s);
    t.false(started.done, `${phase}: still starting`);
    t.not(s.link.state, 'streaming');
    const stopped = watch(s.link.stop());
    await settle();
    t.true(stopped.done, `${phase}: stop() resolved without any timer firing`);
    t.is(stopped.error, undefined);
    t.true(started.done, `${phase}: start() settled`);
    t.is((started.error as ReflexError | undefined)?.code, 'E_STOPPED', phase);
    t.is(s.link.state, 'stopped', phase);
  }
});

test('connection(): state and since when, attempts since start(), last error with its code', async (t) => {
  const s = setup({ path: '/dev/no-such-device', backoffMinMs: 100 });
  t.like(s.link.connection(), { state: 'stopped', attempts: 0, lastError: null });
  void s.link.start().catch(() => undefined);
  await settle();
  t.like(s.link.connection(), { state: 'reconnecting', attempts: 1, sinceMs: 0 });
  const err = s.link.connection().lastError!;
  t.is(err.code, 'E_DISCONNECTED');
  t.regex(err.message, /no-such-device does not exist/);
  t.is(err.atMs, 0);
  await s.clock.advance(100 + 200 + 400);
  t.is(s.link.connection().attempts, 4);
  t.is(s.link.counters().link.connect_attempts, 4);
  t.is(s.link.counters().link.open_failures, 4);
  t.is(s.link.connection().lastError!.atMs, 700);
  t.is(s.link.connection().sinceMs, 0, 'reconnecting since the first failure');
  // The device appears: streaming, since that moment; the last error stays for status.
  const dev = new FakeBridgeDevice(s.bus, '/dev/no-such-device');
  await s.clock.advance(800);
  t.is(s.link.state, 'streaming');
  t.is(s.link.connection().sinceMs, 1500);
  t.is(s.link.connection().attempts, 5);
  t.is(s.link.connection().lastError!.code, 'E_DISCONNECTED');
  t.truthy(dev.port);
  await s.link.stop();
  // A new start() forgets the old attempts and error.
  const again = s.link.start();
  await again;
  t.like(s.link.connection(), { state: 'streaming', attempts: 1, lastError: null });
  await s.link.stop();
});

test('stop() while streaming waits at most stopAckMs for a silent device to acknowledge STOP', async (t) => {
  const { dev, link, clock } = setup({ stopAckMs: 250 });
  await link.start();
  dev.frozen = true;
  const stopped = watch(link.stop());
  await clock.advance(249);
  t.false(stopped.done);
  await clock.advance(1);
  t.true(stopped.done);
  t.is(link.state, 'stopped');
  // Two stops at once share one: neither returns before the link has stopped.
  const s2 = setup();
  await s2.link.start();
  const a = s2.link.stop();
  const b = s2.link.stop();
  await Promise.all([a, b]);
  t.is(s2.link.state, 'stopped');
});
