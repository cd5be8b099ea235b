/**
 * The reader thread on the chardev GPIO backend: the thread spawns gpiomon itself (here a shell
 * script standing in for libgpiod v2's, relaying event lines the test writes into a FIFO as
 * `-F "%o %e %S"` prints them) and stamps every sample with its edge's kernel timestamp, passed
 * through unchanged however late the line is read. The SPI side is the free-running model.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../src/core/log.js';
import { Ads1299Reader } from '../src/devices/ads1299/reader.js';
import { monotonicMs } from '../src/time/monotonic.js';

const SCRIPTS: Record<string, string> = {
  gpiodetect: `if [ "$1" = "--version" ]; then echo "gpiodetect (libgpiod) v2.1.3"; exit 0; fi
echo "gpiochip0 [pinctrl-bcm2711] (58 lines)"`,
  gpioget: `for last in "$@"; do :; done
echo "\\"$last\\"=active"`,
  gpiomon: `echo "gpiomon $*" >> "$FAKE_GPIO_LOG"
echo "Monitoring line ..."
exec cat "$FAKE_GPIOMON_FIFO"`,
};

test.serial('chardev: the reader thread runs gpiomon and stamps each sample with its kernel timestamp', async (t) => {
  t.timeout(20_000);
  const root = mkdtempSync(join(tmpdir(), 'reflex-ads1299-chardev-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const [name, body] of Object.entries(SCRIPTS)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const log = join(root, 'log');
  writeFileSync(log, '');
  const fifo = join(root, 'events');
  execFileSync('mkfifo', [fifo]);
  mkdirSync(join(root, 'sys'));
  // The reader thread finds the tools on PATH, as on a Pi; a worker copies the environment when it starts.
  const saved = { PATH: process.env.PATH, FAKE_GPIO_LOG: process.env.FAKE_GPIO_LOG, FAKE_GPIOMON_FIFO: process.env.FAKE_GPIOMON_FIFO };
  process.env.PATH = `${bin}:${saved.PATH ?? '/usr/bin:/bin'}`;
  process.env.FAKE_GPIO_LOG = log;
  process.env.FAKE_GPIOMON_FIFO = fifo;
  const rate = 250;
  const reader = new Ads1299Reader({
    log: new Logger({ sink: () => {}, level: 'error' }),
    config: {
      spiPath: 'fake:ads1299',
      spi: { mode: 1, speedHz: 4_000_000, bus: 0, chipSelect: 0 },
      dataReady: { chip: 'pinctrl-bcm2711', line: 25 },
      // One sample per block: every sample's stamp is its block's.
      source: { kind: 'ads1299', rate, channels: 8, gain: 24, blockSamples: 1 },
      // An empty sysfs: no sysfs GPIO, so the chardev tools, labels from gpiodetect.
      sysRoot: join(root, 'sys'),
      // The edges below are written by a timer that may run late; the model free-runs, so a late read is harmless here.
      readWindowMs: 1000,
      resetWaitMs: 0,
    },
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
  const deadline = monotonicMs() + 10_000;
  while (reader.counter('samples') + reader.counter('lost') < n && monotonicMs() < deadline) await new Promise((r) => setTimeout(r, 10));
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
  const reader = new Ads1299Reader({
    log: new Logger({ sink: () => {}, level: 'error' }),
    config: {
      spiPath: 'fake:ads1299',
      spi: { mode: 1, speedHz: 4_000_000, bus: 0, chipSelect: 0 },
      dataReady: { chip: 'pinctrl-bcm2711', line: 25 },
      source: { kind: 'ads1299', rate: 250, channels: 8, gain: 24 },
      sysRoot: join(root, 'sys'),
    },
  });
  try {
    const err = await t.throwsAsync(reader.start());
    t.is((err as Error & { code?: string }).code, 'E_GPIO_HELPER');
    t.regex(err.message, /gpiod >= 2/);
  } finally {
    process.env.PATH = saved;
    await reader.close();
  }
});
