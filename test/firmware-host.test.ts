/**
 * The firmware core's own C++ unit tests, the canonical vectors it prints, its CLI, and
 * the offline generator's file format and ground truth.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { firmwareBinaryPath } from '../src/devices/sim/firmware.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = firmwareBinaryPath();

const VECTOR_NAMES = ['hello_req', 'start', 'config', 'samples', 'pong', 'actuate', 'hello', 'error', 'heartbeat', 'tracker', 'fault', 'ping', 'ack'];

test.before(async () => {
  // Up to date after `npm run build`; built here otherwise, before any test needs it.
  await run('make', ['-s', '-C', join(root, 'firmware-bridge')], { timeout: 120_000 });
});

test('make test runs the core unit tests and passes', async (t) => {
  const { stdout, stderr } = await run('make', ['-s', '-C', join(root, 'firmware-bridge'), 'test'], { timeout: 120_000 });
  // Quiet on success: any output means a warning or a failing check slipped through.
  t.is(stderr.trim(), '');
  t.is(stdout.trim(), '');
});

function cobsDecode(enc: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < enc.length) {
    const code = enc[i++]!;
    for (let k = 1; k < code; k++) out.push(enc[i++]!);
    if (code !== 0xff && i < enc.length) out.push(0);
  }
  return Uint8Array.from(out);
}

function crc16(b: Uint8Array): number {
  let c = 0xffff;
  for (const x of b) {
    c ^= x << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}

test('--vectors prints the 13 canonical frames as well-formed wire bytes', async (t) => {
  const { stdout } = await run(bin, ['--vectors']);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; hex: string });
  t.deepEqual(
    lines.map((l) => l.name),
    VECTOR_NAMES,
  );
  for (const { name, hex } of lines) {
    t.regex(hex, /^([0-9a-f]{2})+$/, name);
    const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
    t.is(bytes[bytes.length - 1], 0, `${name} ends with the delimiter`);
    t.false(bytes.subarray(0, -1).includes(0), `${name} has no inner 0x00`);
    t.true(bytes[0]! >= 1 && bytes[0]! <= bytes.length - 1, `${name} starts with a COBS code in range`);
    const pkt = cobsDecode(bytes.subarray(0, -1));
    t.is(pkt[0], 1, `${name} version`);
    const crc = pkt[pkt.length - 2]! | (pkt[pkt.length - 1]! << 8);
    t.is(crc16(pkt.subarray(0, -2)), crc, `${name} CRC`);
  }
  // Field-level spot checks on two frames that exercise every integer width.
  const samples = cobsDecode(Buffer.from(lines[3]!.hex, 'hex').subarray(0, -1));
  const dv = new DataView(samples.buffer, samples.byteOffset + 2);
  t.is(dv.getUint32(0, true), 7);
  t.is(dv.getUint32(4, true), 14);
  t.is(Number(dv.getBigUint64(8, true)), 123456789);
  t.is(dv.getFloat32(16, true), Math.fround(0.02235174));
  const i24 = (o: number): number => ((dv.getUint8(o) | (dv.getUint8(o + 1) << 8) | (dv.getUint8(o + 2) << 16)) << 8) >> 8;
  t.deepEqual([i24(24), i24(27), i24(30), i24(33)], [1, -1, 8388607, -8388608]);
  const fault = cobsDecode(Buffer.from(lines[10]!.hex, 'hex').subarray(0, -1));
  t.is(new DataView(fault.buffer, fault.byteOffset + 2).getInt32(6, true), -200);
});

test('--vectors agrees with the independent fixture file', async (t) => {
  const fixture = JSON.parse(await readFile(join(root, 'test', 'fixtures', 'protocol-vectors.json'), 'utf8')) as {
    frames: { name: string; hex: string }[];
  };
  const { stdout } = await run(bin, ['--vectors']);
  const mine = new Map(
    stdout
      .trim()
      .split('\n')
      .map((l) => {
        const o = JSON.parse(l) as { name: string; hex: string };
        return [o.name, o.hex] as const;
      }),
  );
  for (const f of fixture.frames) {
    if (mine.has(f.name)) t.is(mine.get(f.name), f.hex, f.name);
  }
  t.is(fixture.frames.filter((f) => mine.has(f.name)).length, VECTOR_NAMES.length);
});

test('bad flags exit 2 with usage; --help exits 0', async (t) => {
  const help = await run(bin, ['--help']);
  t.regex(help.stdout, /--offline SECONDS/);
  for (const args of [['--rate', '5000'], ['--bogus'], ['--mains', '55'], ['--fault', 'melt:1'], ['--offline', '1']]) {
    const err = await t.throwsAsync(run(bin, args));
    t.is((err as { code?: number }).code, 2, args.join(' '));
  }
});

test('--offline writes the documented file, and the tracker follows the EMG', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'reflex-offline-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'sim.bin');
  const seconds = 30;
  const rate = 1000;
  const channels = 3;
  await run(bin, ['--offline', String(seconds), '--out', out, '--rate', String(rate), '--channels', String(channels), '--seed', '5']);
  const buf = await readFile(out);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  t.is(buf.subarray(0, 8).toString('latin1'), 'RFXSIM1\0');
  t.is(dv.getUint32(8, true), rate);
  t.is(dv.getUint32(12, true), channels);
  t.is(dv.getUint32(16, true), 100);
  t.is(dv.getUint32(20, true), 2);
  t.is(dv.getFloat32(24, true), Math.fround(4.5e6 / 24 / 8388607));
  t.is(dv.getUint32(28, true), 50);
  const n = Number(dv.getBigUint64(32, true));
  const nt = Number(dv.getBigUint64(40, true));
  t.is(Number(dv.getBigUint64(48, true)), 5);
  t.is(n, seconds * rate);
  t.is(nt, seconds * 100);
  t.is(buf.length, 64 + n * channels * 4 + nt * 2 * 4);

  // Same seed, same file: the generator is deterministic.
  const out2 = join(dir, 'sim2.bin');
  await run(bin, ['--offline', String(seconds), '--out', out2, '--rate', String(rate), '--channels', String(channels), '--seed', '5']);
  t.true(buf.equals(await readFile(out2)));

  // Channel 2 sits over the muscle that drives grip: its 10 ms RMS (around the mean, so the
  // electrode offset drops out) must track the grip value.
  const uv = dv.getFloat32(24, true);
  const per = rate / 100;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += dv.getInt32(64 + (i * channels + 2) * 4, true);
  mean /= n;
  const rms: number[] = [];
  const grip: number[] = [];
  const wrist: number[] = [];
  const trackerAt = 64 + n * channels * 4;
  for (let j = 0; j < nt; j++) {
    let s = 0;
    for (let k = 0; k < per; k++) {
      const v = (dv.getInt32(64 + ((j * per + k) * channels + 2) * 4, true) - mean) * uv;
      s += v * v;
    }
    rms.push(Math.sqrt(s / per));
    wrist.push(dv.getFloat32(trackerAt + j * 8, true));
    grip.push(dv.getFloat32(trackerAt + j * 8 + 4, true));
  }
  t.true(grip.every((g) => g >= 0 && g <= 1));
  t.true(wrist.every((w) => w >= -60 && w <= 60));
  t.true(Math.max(...grip) > 0.3, 'the grip activation bursts at least once in 30 s');
  t.true(Math.max(...wrist) - Math.min(...wrist) > 10, 'the wrist moves');
  const r = pearson(rms, grip);
  t.true(r > 0.5, `grip vs channel-2 RMS correlation ${r.toFixed(3)}`);
  // Wrist angle comes from flexor (channel 0) minus extensor (channel 1) activity.
  let m0 = 0;
  let m1 = 0;
  for (let i = 0; i < n; i++) {
    m0 += dv.getInt32(64 + i * channels * 4, true);
    m1 += dv.getInt32(64 + (i * channels + 1) * 4, true);
  }
  m0 /= n;
  m1 /= n;
  const diff: number[] = [];
  for (let j = 0; j < nt; j++) {
    let s0 = 0;
    let s1 = 0;
    for (let k = 0; k < per; k++) {
      const i = j * per + k;
      s0 += ((dv.getInt32(64 + i * channels * 4, true) - m0) * uv) ** 2;
      s1 += ((dv.getInt32(64 + (i * channels + 1) * 4, true) - m1) * uv) ** 2;
    }
    diff.push(Math.sqrt(s0 / per) - Math.sqrt(s1 / per));
  }
  const rw = pearson(diff, wrist);
  t.true(rw > 0.5, `wrist vs (ch0 - ch1) RMS correlation ${rw.toFixed(3)}`);
});

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
