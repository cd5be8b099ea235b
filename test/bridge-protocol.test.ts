import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { BridgeDecoder } from '../src/bridge/decoder.js';
import { FrameWriter } from '../src/bridge/encode.js';
import { FrameType, parseCommand, parseSamples, type HostCommand } from '../src/bridge/frames.js';
import { cobsDecodeInPlace } from '../src/bridge/cobs.js';

interface Vector {
  name: string;
  hex: string;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/protocol-vectors.json', import.meta.url), 'utf8')) as { frames: Vector[] };
const vectors = new Map(fixture.frames.map((v) => [v.name, v.hex]));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

const w = new FrameWriter();
const encoders: Record<string, () => Uint8Array> = {
  hello_req: () => w.helloReq(1, 1, 1),
  start: () => w.start(2),
  config: () => w.config(5, 4000, 16, 0),
  samples: () =>
    w.samples({
      seq: 7,
      firstSample: 14,
      tUs: 123456789,
      uvPerLsb: Math.fround(0.02235174),
      channels: 2,
      samples: 2,
      format: 0,
      counts: [1, -1, 8388607, -8388608],
    }),
  pong: () => w.pong({ pingId: 5, hostToken: 0x0102030405060708n, tRxUs: 1000, tTxUs: 1010 }),
  actuate: () =>
    w.actuate(3, [
      { channel: 0, kind: 'servo', value: 1500 },
      { channel: 2, kind: 'digital', value: 1 },
    ]),
  hello: () =>
    w.hello({
      protoMajor: 1,
      protoMinor: 0,
      fwMajor: 1,
      fwMinor: 2,
      fwPatch: 3,
      maxChannels: 16,
      adcBits: 24,
      nActuators: 4,
      bootId: 0xdeadbeef,
      rateHz: 2000,
      channels: 8,
      blockSamples: 2,
      flags: 7,
      name: 'reflex-sim',
    }),
  error: () => w.error({ reqId: 9, commandType: 0x43, code: 4, message: 'busy' }),
  heartbeat: () => w.heartbeat({ tUs: 5000000, framesSent: 100, framesDropped: 2, rxBad: 1, state: 1 }),
  tracker: () => w.tracker(3, 20000, [12.5, 0.25]),
  fault: () => w.fault(4, 5, -200),
  ping: () => w.ping(1, 42),
  ack: () => w.ack({ reqId: 2, commandType: 0x41 }),
};

test('the fixture lists the 13 canonical frames', (t) => {
  t.deepEqual([...vectors.keys()].sort(), Object.keys(encoders).sort());
});

for (const name of Object.keys(encoders)) {
  test(`encoder reproduces canonical frame "${name}"`, (t) => {
    t.is(hex(encoders[name]!()), vectors.get(name)!);
  });
}

test('worked example of section 6: HELLO_REQ packet bytes', (t) => {
  const frame = Buffer.from(vectors.get('hello_req')!, 'hex');
  t.is(frame[frame.length - 1], 0);
  const buf = frame.subarray(0, frame.length - 1);
  const n = cobsDecodeInPlace(buf, 0, buf.length);
  t.is(hex(buf.subarray(1, 1 + n - 2)), '014001000101');
});

/** Undo framing for a single frame; returns a DataView over the payload. */
function packetOf(name: string): { type: number; dv: DataView; off: number; len: number } {
  const buf = Buffer.from(vectors.get(name)!, 'hex');
  const n = cobsDecodeInPlace(buf, 0, buf.length - 1);
  return { type: buf[2]!, dv: new DataView(buf.buffer, buf.byteOffset), off: 3, len: n - 4 };
}

test('device frames decode to the field values they were made from', (t) => {
  const seen: Record<string, unknown> = {};
  const dec = new BridgeDecoder({
    onHello: (h) => (seen.hello = h),
    onSamples: (b, h) => (seen.samples = { data: Array.from(b.data), seq: h.seq, first: h.firstSample, t: b.deviceTimeUs, uv: h.uvPerLsb }),
    onPong: (p) => (seen.pong = p),
    onError: (e) => (seen.error = e),
    onHeartbeat: (h) => (seen.heartbeat = h),
    onTracker: (tr) => (seen.tracker = { seq: tr.seq, tUs: tr.tUs, values: Array.from(tr.values) }),
    onAck: (a) => (seen.ack = a),
  });
  for (const name of ['hello', 'samples', 'pong', 'error', 'heartbeat', 'tracker', 'ack']) dec.push(Buffer.from(vectors.get(name)!, 'hex'));
  t.is(dec.stats().bad, 0);
  t.like(seen.hello, {
    protoMajor: 1,
    protoMinor: 0,
    fwMajor: 1,
    fwMinor: 2,
    fwPatch: 3,
    maxChannels: 16,
    adcBits: 24,
    nActuators: 4,
    bootId: 0xdeadbeef,
    rateHz: 2000,
    channels: 8,
    blockSamples: 2,
    flags: 7,
    name: 'reflex-sim',
  });
  const uv = Math.fround(0.02235174);
  // Channel-major in the block: ch0 = [s0, s1], ch1 = [s0, s1].
  t.deepEqual(seen.samples, { data: [1, 8388607, -1, -8388608].map((c) => Math.fround(c * uv)), seq: 7, first: 14, t: 123456789, uv });
  t.deepEqual(seen.pong, { pingId: 5, hostToken: 0x0102030405060708n, tRxUs: 1000, tTxUs: 1010 });
  t.deepEqual(seen.error, { reqId: 9, commandType: 0x43, code: 4, message: 'busy' });
  t.deepEqual(seen.heartbeat, { tUs: 5000000, framesSent: 100, framesDropped: 2, rxBad: 1, state: 1 });
  t.deepEqual(seen.tracker, { seq: 3, tUs: 20000, values: [12.5, 0.25] });
  t.deepEqual(seen.ack, { reqId: 2, commandType: 0x41 });
  const s = packetOf('samples');
  t.deepEqual(parseSamples(s.dv, s.off, s.len), {
    seq: 7,
    firstSample: 14,
    tUs: 123456789,
    uvPerLsb: uv,
    channels: 2,
    samples: 2,
    format: 0,
    counts: Int32Array.of(1, -1, 8388607, -8388608),
  });
});

test('host commands parse back to their field values', (t) => {
  const expected: Record<string, HostCommand> = {
    hello_req: { type: FrameType.HELLO_REQ, reqId: 1, minMajor: 1, maxMajor: 1 },
    start: { type: FrameType.START, reqId: 2 },
    config: { type: FrameType.CONFIG, reqId: 5, rateHz: 4000, channels: 16, blockSamples: 0 },
    actuate: {
      type: FrameType.ACTUATE,
      reqId: 3,
      entries: [
        { channel: 0, kind: 2, value: 1500 },
        { channel: 2, kind: 0, value: 1 },
      ],
    },
    fault: { type: FrameType.FAULT, reqId: 4, kind: 5, param: -200 },
    ping: { type: FrameType.PING, pingId: 1, hostToken: 42n },
  };
  for (const [name, cmd] of Object.entries(expected)) {
    const p = packetOf(name);
    t.deepEqual(parseCommand(p.type, p.dv, p.off, p.len), cmd, name);
  }
});

test('a host command shorter than its type requires is truncated, ACTUATE with extra bytes is bad_payload', (t) => {
  const dv = new DataView(new Uint8Array(32).buffer);
  t.is(parseCommand(FrameType.CONFIG, dv, 0, 7), 'truncated');
  dv.setUint8(2, 1); // count 1 needs 14 bytes
  t.is(parseCommand(FrameType.ACTUATE, dv, 0, 13), 'truncated');
  t.is(parseCommand(FrameType.ACTUATE, dv, 0, 15), 'bad_payload');
  t.is(parseCommand(0x47, dv, 0, 15), 'unknown_type');
});

// Cross-implementation check: the C++ firmware must print the same bytes.
const firmware = new URL('../firmware-bridge/build/reflex-bridge-host', import.meta.url).pathname;
const fwTest = existsSync(firmware) ? test : test.skip;
fwTest('firmware `reflex-bridge-host --vectors` prints the same canonical frames', async (t) => {
  const { stdout } = await promisify(execFile)(firmware, ['--vectors'], { timeout: 10_000 });
  const printed = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const v = JSON.parse(line) as Vector;
    printed.set(v.name, v.hex.toLowerCase());
  }
  for (const [name, h] of vectors) t.is(printed.get(name), h, `firmware frame "${name}" differs from docs/protocol.md vector`);
});
