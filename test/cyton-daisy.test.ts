/**
 * Cyton + Daisy (16 channels at 125 Hz): packets built per OpenBCI's "16 Channel Data with
 * Daisy Module" (odd sample numbers the board's channels, even ones the Daisy's), paired by
 * the parser into 16-channel samples; a lost half is a dropped sample. And the session's
 * Daisy checks on a scripted fake: a board file asking for a Daisy the board lacks, and a
 * Daisy on a board run as 8 channels (detached with `c`).
 */
import test from 'ava';
import fc from 'fast-check';
import { nullLogger } from '../src/core/log.js';
import { CytonDevice } from '../src/devices/cyton/device.js';
import { DAISY_PERIOD_US } from '../src/devices/cyton/format.js';
import { CytonParser, type CytonGapEvent } from '../src/devices/cyton/parser.js';
import { FakeSerialBus } from '../src/hal/serial-fake.js';
import { concat, daisyPackets, int16be, packet, uint32be, uvPerCount } from './cyton-packets.js';

interface Block {
  firstSample: number;
  seq: number;
  deviceTimeUs: number;
  samples: number;
  channels: number;
  rate: number;
  data: number[];
  rx: number;
}

function collect(blockSamples = 1) {
  const blocks: Block[] = [];
  const gaps: CytonGapEvent[] = [];
  const aux: Array<Record<string, unknown>> = [];
  const parser = new CytonParser({
    channels: 16,
    blockSamples,
    onBlock: (b, rx) =>
      blocks.push({
        firstSample: b.firstSample,
        seq: b.seq,
        deviceTimeUs: b.deviceTimeUs,
        samples: b.samples,
        channels: b.channels,
        rate: b.rate,
        data: Array.from(b.data),
        rx,
      }),
    onGap: (g) => gaps.push({ ...g }),
    onAux: (a) => aux.push({ ...a }),
  });
  return { parser, blocks, gaps, aux };
}

/** Distinct counts per packet and channel, so a mis-paired half shows. */
const board = (sn: number): number[] => Array.from({ length: 8 }, (_, c) => 1000 * (c + 1) + sn);
const daisy = (sn: number): number[] => Array.from({ length: 8 }, (_, c) => -1000 * (c + 9) - sn);
const UV = uvPerCount(24);

/** The 16 µV values of the sample made of packets `odd` and `odd + 1`, as a Float32Array holds them. */
function expected(odd: number): number[] {
  return [...board(odd), ...daisy(odd + 1)].map((c) => Math.fround(c * UV));
}

test('pairs: odd packet = channels 1..8, the even one after it = 9..16; 125 Hz; the invalid first packet is not a sample', (t) => {
  const { parser, blocks, gaps } = collect();
  // Sample number 0 is the firmware's invalid first packet (a Daisy average with nothing before it).
  parser.push(concat(daisyPackets(0, 8, board, daisy)), 5);
  t.is(blocks.length, 4);
  t.deepEqual(
    blocks.map((b) => [b.firstSample, b.seq, b.deviceTimeUs, b.channels, b.rate, b.samples]),
    [
      [0, 1, 0, 16, 125, 1],
      [1, 3, 8000, 16, 125, 1],
      [2, 5, 16000, 16, 125, 1],
      [3, 7, 24000, 16, 125, 1],
    ],
  );
  blocks.forEach((b, k) => t.deepEqual(b.data, expected(2 * k + 1), `sample ${k}`));
  t.deepEqual(gaps, []);
  t.is(parser.counters.get('packets'), 9);
  t.is(parser.counters.get('dropped_samples'), 0);
  t.is(parser.channels, 16);
  t.is(parser.periodUs, DAISY_PERIOD_US);
});

test('a lost Daisy half: that sample is a dropped gap, counted; the next pair is intact', (t) => {
  const { parser, blocks, gaps } = collect();
  parser.push(concat(daisyPackets(1, 4, board, daisy)), 10);
  parser.push(concat(daisyPackets(5, 10, board, daisy, [6])), 30);
  t.deepEqual(
    blocks.map((b) => b.firstSample),
    [0, 1, 3, 4],
  );
  t.deepEqual(blocks[2]!.data, expected(7));
  t.is(gaps.length, 1);
  t.like(gaps[0], {
    reason: 'dropped',
    fromSample: 2,
    missingSamples: 1,
    deviceTimeUs: 16000,
    deviceSpanUs: 16000,
    hostFromMs: 10,
    hostToMs: 30,
    hostSpanMs: 20,
    fromSeq: 3,
    toSeq: 7,
  });
  t.is(parser.counters.get('gaps'), 1);
  t.is(parser.counters.get('dropped_samples'), 1);
  t.is(parser.counters.get('packets'), 9);
});

test('a lost board half: its Daisy half is discarded, never paired with the wrong board half', (t) => {
  const { parser, blocks, gaps } = collect();
  parser.push(concat(daisyPackets(1, 10, board, daisy, [5])));
  t.deepEqual(
    blocks.map((b) => [b.firstSample, b.seq]),
    [
      [0, 1],
      [1, 3],
      [3, 7],
      [4, 9],
    ],
  );
  blocks.forEach((b) => t.deepEqual(b.data, expected(b.seq)));
  t.like(gaps, [{ fromSample: 2, missingSamples: 1, fromSeq: 3, toSeq: 7 }]);
  t.is(parser.counters.get('dropped_samples'), 1);
});

test('sample numbers wrap at 255 with the parity kept; whole pairs lost across the wrap count as samples', (t) => {
  const { parser, blocks, gaps } = collect();
  // 253 (board) .. 4 (Daisy); 255, 0, 1, 2 lost: samples (255, 0) and (1, 2) missing.
  parser.push(concat(daisyPackets(253, 260, board, daisy, [255, 256, 257, 258])));
  t.deepEqual(
    blocks.map((b) => [b.firstSample, b.seq]),
    [
      [0, 253],
      [3, 3],
    ],
  );
  t.deepEqual(blocks[1]!.data, expected(259));
  t.like(gaps, [{ fromSample: 1, missingSamples: 2, deviceSpanUs: 24000, fromSeq: 253, toSeq: 3 }]);
  t.is(parser.counters.get('dropped_samples'), 2);
  t.is(parser.counters.get('gaps'), 1);
});

test('a repeated packet is dropped and counted, not paired twice', (t) => {
  const { parser, blocks } = collect();
  const ps = daisyPackets(1, 4, board, daisy);
  parser.push(concat([ps[0]!, ps[1]!, ps[1]!, ps[2]!, ps[3]!]));
  t.deepEqual(
    blocks.map((b) => b.firstSample),
    [0, 1],
  );
  t.is(parser.counters.get('repeated_sample'), 1);
  t.is(parser.counters.get('dropped_samples'), 0);
});

test('blocks of 3 samples are channel-major; a gap flushes the partial block first', (t) => {
  const { parser, blocks, gaps } = collect(3);
  parser.push(concat(daisyPackets(1, 16, board, daisy, [9])));
  // Samples 0..3 then 4 lost (packet 9), 5..7.
  t.deepEqual(
    blocks.map((b) => [b.firstSample, b.samples]),
    [
      [0, 3],
      [3, 1],
      [5, 3],
    ],
  );
  const b = blocks[0]!;
  for (let c = 0; c < 16; c++) {
    for (let i = 0; i < 3; i++) t.is(b.data[c * 3 + i], expected(2 * i + 1)[c], `ch${c + 1} sample ${i}`);
  }
  t.like(gaps, [{ fromSample: 4, missingSamples: 1 }]);
});

test('restart: the next connection continues at the index it is given; its leading even packet is skipped', (t) => {
  const { parser, blocks, gaps } = collect();
  parser.push(concat(daisyPackets(0, 4, board, daisy)));
  parser.restart(10);
  parser.push(concat(daisyPackets(0, 4, board, daisy)));
  t.deepEqual(
    blocks.map((b) => b.firstSample),
    [0, 1, 10, 11],
  );
  t.deepEqual(gaps, [], 'the caller reports the outage; the parser invents no gap');
  t.is(parser.nextSample, 12);
});

test('aux: accelerometer from either half, tagged with its sample; a time-stamped board half gives the device time', (t) => {
  const { parser, blocks, aux } = collect();
  const accel = [...int16be(16), ...int16be(-32), ...int16be(160)];
  parser.push(concat([packet(1, board(1)), packet(2, daisy(2), 0xc0, accel)]));
  t.like(aux, [{ kind: 'accel', sample: 0, x: 16 * (0.002 / 16), y: -32 * (0.002 / 16), z: 160 * (0.002 / 16) }]);
  // 0xC4: time-stamped with accel; the board half's timestamp dates the sample.
  parser.push(concat([packet(3, board(3), 0xc4, [0, 0, ...uint32be(123456)]), packet(4, daisy(4), 0xc4, [0, 0, ...uint32be(123458)])]));
  t.is(blocks[1]!.deviceTimeUs, 123456 * 1000);
});

test('property: any chunking of a Daisy stream with losses gives the same samples, gaps and counters', (t) => {
  const run = (bytes: Uint8Array, cuts: number[]) => {
    const c = collect();
    let at = 0;
    for (const cut of [...cuts.filter((x) => x < bytes.length)].sort((a, b) => a - b)) {
      c.parser.push(bytes.subarray(at, cut));
      at = cut;
    }
    c.parser.push(bytes.subarray(at));
    return {
      blocks: c.blocks.map((b) => [b.firstSample, b.seq, ...b.data]),
      gaps: c.gaps.map((g) => [g.fromSample, g.missingSamples]),
      dropped: c.parser.counters.get('dropped_samples'),
    };
  };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 8 }),
      fc.array(fc.nat(2000), { maxLength: 12 }),
      (start, lost, cuts) => {
        const bytes = concat(
          daisyPackets(
            start,
            start + 60,
            board,
            daisy,
            lost.map((l) => start + l),
          ),
        );
        const whole = run(bytes, []);
        t.deepEqual(run(bytes, cuts), whole);
        // Every sample index from the first to the last is either delivered or counted as dropped.
        const last = whole.blocks.at(-1)?.[0] ?? -1;
        t.is(whole.blocks.length + whole.dropped, last + 1);
      },
    ),
    { numRuns: 60 },
  );
});

// --- The session's Daisy checks, on a scripted fake board. ---

const PATH = '/dev/ttyUSB0';
const BANNER = (daisyLine: boolean): string =>
  'OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n' +
  (daisyLine ? 'On Daisy ADS1299 Device ID: 0x3E\n' : '') +
  'LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$';

/** A Cyton on a FakeSerialBus answering `v` with its banner (with or without a Daisy) and `c` as the firmware does. */
function fakeBoard(withDaisy: boolean) {
  const bus = new FakeSerialBus();
  const commands: string[] = [];
  let daisyOn = withDaisy;
  bus.createPort(PATH, (data, port) => {
    for (const byte of data) {
      const c = String.fromCharCode(byte);
      commands.push(c);
      if (c === 'v') {
        daisyOn = withDaisy; // a soft reset finds the Daisy again
        port.emitData(new TextEncoder().encode(BANNER(daisyOn)));
      }
      if (c === 'c') {
        daisyOn = false;
        port.emitData(new TextEncoder().encode('daisy removed$$$'));
      }
    }
  });
  return { bus, commands, daisyOn: () => daisyOn };
}

test('session: a board file asking for a Daisy the board lacks fails the handshake with E_CYTON_NO_DAISY and retries', async (t) => {
  const { bus } = fakeBoard(false);
  const dev = new CytonDevice({ open: bus.open, path: PATH, channels: 16, resetTimeoutMs: 100, backoffInitialMs: 2, backoffMaxMs: 5, logger: nullLogger() });
  t.teardown(() => dev.stop());
  const started = dev.start();
  const reason = await new Promise<string>((resolve) => dev.on('state', (s, d) => s === 'reconnecting' && resolve(d)));
  t.regex(reason, /reports no Daisy module.*source\.daisy/);
  t.is(dev.connection.lastError?.code, 'E_CYTON_NO_DAISY');
  t.true(dev.counters.get('handshake_failures') >= 1);
  t.is(dev.counters.get('connections'), 0, 'never streamed');
  await dev.stop();
  t.is(((await t.throwsAsync(started)) as { code?: string }).code, 'E_CYTON_STOPPED');
});

test('session: a Daisy answering on an 8-channel board is detached with c before b; the v reply is kept', async (t) => {
  const fake = fakeBoard(true);
  const dev = new CytonDevice({ open: fake.bus.open, path: PATH, resetTimeoutMs: 100, logger: nullLogger() });
  t.teardown(() => dev.stop());
  await dev.start();
  t.deepEqual(fake.commands, ['s', 'v', 'c', 'b']);
  t.false(fake.daisyOn());
  t.regex(dev.resetReply, /On Daisy ADS1299/);
  await dev.stop();
});

test('session: a Daisy board streams 16-channel samples; the v reply names the Daisy', async (t) => {
  const fake = fakeBoard(true);
  const dev = new CytonDevice({ open: fake.bus.open, path: PATH, channels: 16, resetTimeoutMs: 100, logger: nullLogger() });
  t.teardown(() => dev.stop());
  const got: number[][] = [];
  dev.on('samples', (b) => got.push([b.channels, b.rate, b.firstSample, ...b.data]));
  await dev.start();
  t.deepEqual(fake.commands, ['s', 'v', 'b']);
  fake.bus.port(PATH).emitData(concat(daisyPackets(0, 4, board, daisy)));
  t.deepEqual(got, [
    [16, 125, 0, ...expected(1)],
    [16, 125, 1, ...expected(3)],
  ]);
  await dev.stop();
});
