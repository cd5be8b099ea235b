/**
 * Integration with the real firmware core: the host build of firmware-bridge on a
 * pseudo-terminal, opened through openNodeSerial + BridgeLink, checked value for value
 * against the firmware's own dump of every sample it generated.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReflexError } from '../src/core/errors.js';
import { BridgeLink, type LinkGap } from '../src/devices/bridge-link.js';
import { firmwareBinaryPath, startSimFirmware, type SimFirmware } from '../src/devices/sim-firmware.js';
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
function until<T extends unknown[]>(link: BridgeLink, event: 'samples' | 'gap' | 'state', pred: (...args: T) => boolean, ms: number, what: string): Promise<void> {
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
  t.is(Object.entries(c.decoder).filter(([k]) => !['gaps', 'restarts', 'missing_frames', 'missing_samples'].includes(k)).reduce((a, [, v]) => a + v, 0), 0, JSON.stringify(c.decoder));
  // Consecutive from 0, except exactly where a gap was reported: on a loaded machine the
  // device may overflow its transmit buffer (it says so with ERROR OVERFLOW), never silently.
  const idx = [...got.keys()].sort((a, b) => a - b);
  t.is(idx[0], 0);
  const holes = idx.slice(1).map((v, i) => v - idx[i]! - 1).filter((h) => h > 0);
  t.deepEqual(holes, gaps.filter((g) => g.cause === 'frames').map((g) => g.missingSamples));
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
