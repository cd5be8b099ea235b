/**
 * The reader thread on the chardev GPIO backend: the thread spawns gpiomon itself (here a shell
 * script standing in for libgpiod v2's, relaying event lines the test writes into a FIFO as
 * `-F "%o %e %S"` prints them) and stamps every sample with its edge's kernel timestamp, passed
 * through unchanged however late the line is read. The SPI side is the free-running model.
 */
import test from 'ava';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicMs } from '../src/time/monotonic.js';
import { conversionsTaken, modelReaderConfig, quietReader } from './ads1299-helpers.js';
import { writeFakeGpioTools } from './fixtures/gpio-tools.js';

test.serial('chardev: the reader thread runs gpiomon and stamps each sample with its kernel timestamp', async (t) => {
  t.timeout(20_000);
  const root = mkdtempSync(join(tmpdir(), 'reflex-ads1299-chardev-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const { bin, log, fifo, env } = writeFakeGpioTools(root);
  mkdirSync(join(root, 'sys'));
  // The reader thread finds the tools on PATH, as on a Pi; a worker copies the environment when it starts.
  const fakeEnv: Record<string, string> = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...env, FAKE_GPIO_LEVEL: 'active' };
  const saved = Object.fromEntries(Object.keys(fakeEnv).map((k) => [k, process.env[k]]));
  Object.assign(process.env, fakeEnv);
  const rate = 250;
  const reader = quietReader({
    // One sample per block: every sample's stamp is its block's.
    ...modelReaderConfig('pinctrl-bcm2711', { rate, blockSamples: 1 }),
    // An empty sysfs: no sysfs GPIO, so the chardev tools, labels from gpiodetect.
    sysRoot: join(root, 'sys'),
    // The edges below are written by a timer that may run late; the model free-runs, so a late read is harmless here.
    readWindowMs: 1000,
    resetWaitMs: 0,
  });
  t.teardown(() => reader.close());
  const stamps: number[] = [];
  reader.on('samples', (_b, at) => stamps.push(at));
  try {
    await reader.start();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  t.is(reader.thread.edgeClock, 'kernel');
  const fd = openSync(fifo, 'w');
  t.teardown(() => closeSync(fd));
  // 40 falling edges on the 4 ms grid, each stamped at its grid point in ns as the kernel would,
  // written when due (a late timer writes several at once: the process reads them late).
  const periodNs = 4_000_000n;
  const t0Ns = BigInt(Math.round((monotonicMs() + 10) * 1e6));
  const want: number[] = [];
  const n = 40;
  await new Promise<void>((resolve) => {
    let k = 0;
    const timer = setInterval(() => {
      let lines = '';
      while (k < n && Number(t0Ns + BigInt(k) * periodNs) / 1e6 <= monotonicMs()) {
        const ns = t0Ns + BigInt(k) * periodNs;
        const s = ns / 1_000_000_000n;
        const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
        lines += `25 2 ${s}.${frac}\n`;
        // The chardev backend's reading of "%S": seconds x 1000 + nanoseconds / 1e6.
        want.push(Number(s) * 1000 + Number(frac) / 1e6);
        k++;
      }
      if (lines) writeSync(fd, lines);
      if (k === n) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  await conversionsTaken(reader, n);
  await reader.close();
  t.deepEqual(stamps, want);
  t.is(reader.counter('lost'), 0);
  t.is(reader.counter('spurious_edges'), 0);
  const args = readFileSync(log, 'utf8');
  t.regex(args, /gpiomon .*-c gpiochip0 .*-F %o %e %S 25/);
});

test.serial('no libgpiod tools and no sysfs GPIO: start() rejects with the chardev error, which names the package to install', async (t) => {
  t.timeout(20_000);
  const root = mkdtempSync(join(tmpdir(), 'reflex-ads1299-nogpiod-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'sys'));
  const saved = process.env.PATH;
  // Only an empty directory on PATH: gpiodetect is not found, as on a host without gpiod.
  process.env.PATH = join(root, 'bin');
  const reader = quietReader({ ...modelReaderConfig('pinctrl-bcm2711'), sysRoot: join(root, 'sys') });
  try {
    const err = await t.throwsAsync(reader.start());
    t.is((err as Error & { code?: string }).code, 'E_GPIO_HELPER');
    t.regex(err.message, /gpiod >= 2/);
  } finally {
    process.env.PATH = saved;
    await reader.close();
  }
});
