/**
 * The host firmware end to end: started through startSimFirmware, driven over its
 * pseudo-terminal with `serialport`, decoded with the host's own BridgeDecoder.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isReflexError } from '../src/core/errors.js';
import { missingFirmwareMessage, startSimFirmware, SimFirmwareCodes } from '../src/devices/sim/firmware.js';
import { closeAndPinFd, Link } from './sim-firmware-link.js';

async function tmp(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reflex-simfw-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('HELLO, then streamed values match --dump, TRACKER runs, --truth lines up', async (t) => {
  const dir = await tmp(t);
  const dump = join(dir, 'dump.txt');
  const truth = join(dir, 'truth.txt');
  const sim = await startSimFirmware({ rate: 2000, channels: 4, block: 8, seed: 3, dump, truth });
  t.teardown(() => void sim.stop());
  const link = await Link.open(sim.path);

  await link.send(Uint8Array.of(0));
  await link.send(link.w.helloReq(1, 1, 1));
  const hello = await link.waitFor('hello');
  t.is(hello.protoMajor, 1);
  t.is(hello.name, 'reflex-sim');
  t.deepEqual([hello.fwMajor, hello.fwMinor, hello.fwPatch], [1, 0, 0]);
  t.is(hello.nActuators, 4);
  t.is(hello.maxChannels, 16);
  t.is(hello.adcBits, 24);
  t.is(hello.rateHz, 2000);
  t.is(hello.channels, 4);
  t.is(hello.blockSamples, 8);
  t.is(hello.flags & 0b110, 0b110); // faults + tracker
  t.is(hello.flags & 1, 0); // not streaming yet

  await link.send(link.w.start(2));
  t.deepEqual(await link.ackOrError(2), { ok: true });
  await link.waitFor('samples', (s) => s.seq >= 100);
  await link.waitFor('tracker', (s) => s.seq >= 10);
  await link.send(link.w.stop(3));
  t.deepEqual(await link.ackOrError(3), { ok: true });
  await link.close();
  const exit = await sim.stop();
  t.deepEqual(exit, { code: 0, signal: null });

  const samples = link.all('samples');
  t.is(link.bad, 0);
  // Consecutive blocks with no gaps, 8 samples of 500 µs apart.
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    t.is(s.seq, i);
    t.is(s.firstSample, 8 * i);
    if (i > 0) t.is(s.tUs - samples[0]!.tUs, 4000 * i);
  }

  // Every received value equals the generated one in --dump, value for value.
  const generated = new Map<number, number[]>();
  const dumpLines = (await readFile(dump, 'utf8')).split('\n');
  t.is(dumpLines[0], '# start rate_hz=2000 channels=4');
  for (const line of dumpLines) {
    if (line === '' || line.startsWith('#')) continue;
    const [idx, ...vals] = line.split(' ').map(Number);
    generated.set(idx!, vals);
  }
  let compared = 0;
  for (const s of samples) {
    for (let i = 0; i < s.samples; i++) {
      t.deepEqual(s.counts.slice(i * s.channels, (i + 1) * s.channels), generated.get(s.firstSample + i));
      compared++;
    }
  }
  t.true(compared >= 600);

  // The truth file has the same frames, and each was sampled before it was received.
  const truthRows = new Map<number, bigint[]>();
  for (const line of (await readFile(truth, 'utf8')).trim().split('\n')) {
    const cols = line.split(' ').map((x) => BigInt(x));
    truthRows.set(Number(cols[0]), cols);
  }
  for (const s of samples) {
    const row = truthRows.get(s.seq);
    t.truthy(row, `truth row for seq ${s.seq}`);
    t.is(Number(row![1]), s.firstSample);
    t.is(Number(row![2]), s.tUs);
    t.true(s.recvNs > row![3]!, 'received after it was sampled');
  }

  const trackers = link.all('tracker');
  trackers.forEach((f, i) => {
    t.is(f.seq, i);
    t.is(f.values.length, 2);
    t.true(f.values[0]! >= -60 && f.values[0]! <= 60 && f.values[1]! >= 0 && f.values[1]! <= 1);
    if (i > 0) t.is(f.tUs - trackers[0]!.tUs, 10000 * i);
  });
  t.is(trackers[0]!.tUs, samples[0]!.tUs); // both schedules start at START
});

test('commands over the pty: CONFIG busy, ACTUATE all-or-nothing, PING, watchdog in --actuator-log', async (t) => {
  const dir = await tmp(t);
  const log = join(dir, 'act.txt');
  const sim = await startSimFirmware({ rate: 500, channels: 2, block: 5, actuatorLog: log, autostart: true });
  t.teardown(() => void sim.stop());
  const link = await Link.open(sim.path);
  await link.send(Uint8Array.of(0));
  await link.send(link.w.helloReq(1, 1, 1));
  t.is((await link.waitFor('hello')).flags & 1, 1); // --autostart

  await link.send(link.w.config(10, 1000, 0, 0));
  t.deepEqual(await link.ackOrError(10), { ok: false, code: 4 }); // BUSY while streaming

  await link.send(
    link.w.actuateRaw(11, [
      { channel: 0, kind: 2, value: 1500 },
      { channel: 3, kind: 1, value: 10 },
    ]),
  );
  t.deepEqual(await link.ackOrError(11), { ok: false, code: 2 }); // PWM on a digital channel
  await link.send(
    link.w.actuate(12, [
      { channel: 0, kind: 'servo', value: 1500 },
      { channel: 2, kind: 'digital', value: 1 },
    ]),
  );
  t.deepEqual(await link.ackOrError(12), { ok: true });

  await link.send(link.w.ping(7, 0x0102030405060708n));
  const pong = await link.waitFor('pong', (p) => p.pingId === 7);
  t.is(pong.hostToken, 0x0102030405060708n);
  t.true(pong.tTxUs >= pong.tRxUs);

  // No more ACTUATE or PING: the device watchdog must report the safe state.
  const hb = await link.waitFor('heartbeat', (h) => (h.state & 2) !== 0 && h.tUs > pong.tRxUs, 4000);
  t.is(hb.state & 1, 1);
  await link.close();
  t.is((await sim.stop()).code, 0);

  const lines = (await readFile(log, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  t.is(lines[0]![1], 'safe'); // power-up
  t.deepEqual(
    lines.slice(1, 3).map((l) => l.slice(1)),
    [
      ['0', '2', '1500'],
      ['2', '0', '1'],
    ],
  );
  t.is(lines[3]![1], 'safe');
  t.is(lines.length, 4); // the rejected ACTUATE moved nothing
  const tSet = Number(lines[1]![0]);
  const tSafe = Number(lines[3]![0]);
  const tPing = pong.tRxUs;
  t.true(tSafe - Math.max(tSet, tPing) >= 500_000, 'safe state no earlier than 500 ms after the last ACTUATE/PING');
});

test('host closing and reopening the slave, then DISCONNECT: new PTY line, symlink moves, same boot', async (t) => {
  const dir = await tmp(t);
  const linkPath = join(dir, 'reflex-sim');
  const sim = await startSimFirmware({ rate: 1000, channels: 2, block: 4, link: linkPath, autostart: true });
  t.teardown(() => void sim.stop());
  t.is(await readlink(linkPath), sim.path);
  const first = sim.path;

  // A host that goes away and comes back finds the device still streaming.
  let link = await Link.open(linkPath);
  await link.send(Uint8Array.of(0));
  await link.send(link.w.helloReq(1, 1, 1));
  const hello = await link.waitFor('hello');
  const seqBefore = (await link.waitFor('samples', (s) => s.seq > 0)).seq;
  await closeAndPinFd(link, t);
  link = await Link.open(linkPath);
  await link.send(Uint8Array.of(0));
  await link.send(link.w.helloReq(2, 1, 1));
  t.is((await link.waitFor('hello')).bootId, hello.bootId);
  await link.waitFor('samples', (s) => s.seq > seqBefore);

  const next = sim.nextPty();
  const reopened: string[] = [];
  sim.onReopen((p) => reopened.push(p));
  await link.send(link.w.fault(5, 4, 200));
  t.deepEqual(await link.ackOrError(5), { ok: true });
  const second = await next;
  // The old port sees the "unplug". A pty slave whose master is gone reads EOF, which
  // serialport does not always report as a close; writing to it fails with EIO.
  const gone = await Promise.race([
    link.waitFor('closed').then(() => 'closed'),
    link.send(link.w.ping(9, 9n)).then(
      () => link.waitFor('closed').then(() => 'closed'),
      () => 'write failed',
    ),
  ]);
  t.true(gone === 'closed' || gone === 'write failed');
  t.not(second, first);
  t.is(sim.path, second);
  t.deepEqual(reopened, [second]);
  t.is(await readlink(linkPath), second);
  await closeAndPinFd(link, t);

  const link2 = await Link.open(linkPath);
  await link2.send(Uint8Array.of(0));
  await link2.send(link2.w.helloReq(3, 1, 1));
  const hello2 = await link2.waitFor('hello');
  t.is(hello2.bootId, hello.bootId); // a cable pull, not a reset
  t.is(hello2.flags & 1, 1);
  await link2.waitFor('samples');
  await link2.close();

  t.deepEqual(await sim.stop(), { code: 0, signal: null });
  t.false(existsSync(linkPath), 'symlink removed on SIGTERM');
});

test('SIGINT exits 0; a missing or broken binary is a clear ReflexError', async (t) => {
  const sim = await startSimFirmware({ channels: 1 });
  sim.kill('SIGINT');
  t.deepEqual(await sim.exited, { code: 0, signal: null });

  const missing = await t.throwsAsync(startSimFirmware({ binary: '/nonexistent/reflex-bridge-host' }));
  t.true(isReflexError(missing) && missing.code === SimFirmwareCodes.missing);
  t.regex(missing.message, /check the `binary` option/);
  // The package's own binary: the fix names the command with the absolute firmware-bridge path.
  t.is(
    missingFirmwareMessage('/opt/lab/node_modules/reflex/firmware-bridge/build/reflex-bridge-host', false),
    'host firmware not found at /opt/lab/node_modules/reflex/firmware-bridge/build/reflex-bridge-host: ' +
      'build it with `make -C /opt/lab/node_modules/reflex/firmware-bridge` (needs g++ and make; installing Reflex with npm runs it)',
  );

  const broken = await t.throwsAsync(startSimFirmware({ extraArgs: ['--no-such-flag'] }));
  t.true(isReflexError(broken) && broken.code === SimFirmwareCodes.start);
  t.regex(broken.message, /unknown flag --no-such-flag/);
});

test('faults over the wire: DROP, GARBAGE, STALL, DRIFT; --corrupt', async (t) => {
  const dir = await tmp(t);
  const truth = join(dir, 'truth.txt');
  const sim = await startSimFirmware({ rate: 1000, channels: 2, block: 4, driftPpm: 10000, truth, autostart: true });
  t.teardown(() => void sim.stop());
  const link = await Link.open(sim.path);
  await link.send(Uint8Array.of(0));
  await link.send(link.w.helloReq(1, 1, 1));
  await link.waitFor('hello');
  await link.waitFor('samples', () => link.all('samples').length >= 30);

  // DROP 5: exactly five SAMPLES frames vanish, seq keeps counting.
  await link.send(link.w.fault(20, 2, 5));
  t.deepEqual(await link.ackOrError(20), { ok: true });
  const drop = await link.waitFor('gap', (g) => g.missingFrames === 5);
  t.is(drop.missingFrames, 5);
  t.is(drop.missingSamples, 20);
  t.is(drop.deviceSpanUs, 24000);
  t.is(link.bad, 0);

  // GARBAGE: random bytes after the ACK; the decoder counts bad input and recovers.
  await link.send(link.w.fault(21, 7, 300));
  t.deepEqual(await link.ackOrError(21), { ok: true });
  const afterGarbage = link.all('samples').length;
  await link.waitFor('samples', () => link.all('samples').length > afterGarbage + 20);
  t.true(link.bad >= 1);

  // STALL: nothing at all for 200 ms, then the stream resumes past a gap.
  const gapsBefore = link.all('gap').length;
  await link.send(link.w.fault(22, 3, 200));
  t.deepEqual(await link.ackOrError(22), { ok: true });
  const stall = await link.waitFor('gap', () => link.all('gap').length > gapsBefore);
  t.true(stall.missingFrames > 0);

  // Bad arguments are refused with BAD_ARG, unknown kinds too.
  await link.send(link.w.fault(23, 3, -1));
  t.deepEqual(await link.ackOrError(23), { ok: false, code: 2 });
  await link.send(link.w.fault(24, 99, 0));
  t.deepEqual(await link.ackOrError(24), { ok: false, code: 2 });

  // DRIFT: the truth file maps device time to CLOCK_MONOTONIC; 10000 ppm from the flag,
  // then -5000 ppm from the FAULT.
  await link.send(link.w.fault(25, 5, -5000));
  t.deepEqual(await link.ackOrError(25), { ok: true });
  const lastBefore = link.all('samples').at(-1)!.seq;
  await link.waitFor('samples', (s) => s.seq > lastBefore + 40);
  await link.close();
  t.is((await sim.stop()).code, 0);
  const rows = (await readFile(truth, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(Number));
  const ratio = (a: number[], b: number[]): number => ((b[2]! - a[2]!) * 1000) / (b[3]! - a[3]!);
  const early = rows.filter((r) => r[0]! <= drop.fromSeq);
  t.true(early.length >= 30, `${early.length} truth rows before the DROP`);
  t.true(Math.abs(ratio(early[0]!, early.at(-1)!) - 1.01) < 2e-4, `early ratio ${ratio(early[0]!, early.at(-1)!)}`);
  const late = rows.filter((r) => r[0]! > lastBefore + 2);
  t.true(Math.abs(ratio(late[0]!, late.at(-1)!) - 0.995) < 2e-4, `late ratio ${ratio(late[0]!, late.at(-1)!)}`);

  // --corrupt N flips a byte in every N-th frame: CRC catches each, the rest decode.
  const csim = await startSimFirmware({ rate: 1000, channels: 1, block: 4, autostart: true, extraArgs: ['--corrupt', '4'] });
  t.teardown(() => void csim.stop());
  const clink = await Link.open(csim.path);
  await clink.waitFor('samples', () => clink.all('samples').length >= 60);
  t.true(clink.bad >= 10);
  await clink.close();
  t.is((await csim.stop()).code, 0);
});
