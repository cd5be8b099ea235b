/**
 * The ADS1299 reader thread (worker entry). It owns the data-ready line and the SPI bus: it opens
 * them itself from plain data (gpiomon runs as its child on the chardev backend; spi-device's
 * handle lives here), runs Ads1299Device (edge, frame read, stamp, grid counting, stall checks)
 * on its own event loop, and writes blocks and gaps into the shared ring the main thread drains.
 * The main thread's work (telemetry encoding, garbage collection, control) can then take longer
 * than a conversion period without a frame being overwritten unread; only a main thread away for
 * the whole ring loses samples, and those are counted and become a gap.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ConfigError, ReflexError } from '../../core/errors.js';
import { Logger } from '../../core/log.js';
import { CoreCodes } from '../../core/codes.js';
import type { LineRef } from '../../boards/types.js';
import { GpioCodes } from '../../hal/codes.js';
import { ChardevGpioProvider } from '../../hal/gpio-chardev.js';
import { OnoffGpioProvider } from '../../hal/gpio-onoff.js';
import { listSysfsGpioChips } from '../../hal/gpio-resolve.js';
import { selectGpio, SIM_CHIP } from '../../hal/gpio-select.js';
import type { GpioInputLine } from '../../hal/gpio.js';
import { FakeAds1299 } from '../../hal/spi-fake.js';
import { FAKE_SPI_PREFIX, openSpi, type SpiDevice } from '../../hal/spi.js';
import { applyThreadPriority, currentTid } from '../../loop/priority.js';
import { Ads1299Device } from './device.js';
import { conversionClockOf, SharedEdgeLine } from './fake-edges.js';
import { Ads1299RingSink } from './ring-sink.js';
import { RingWriter } from './ring.js';
import type { ReaderCommand, ReaderMessage, ReaderWorkerData } from './reader-protocol.js';

if (!isMainThread && (workerData as ReaderWorkerData | undefined)?.role === 'ads1299-reader') {
  void runReader(workerData as ReaderWorkerData);
}

/**
 * The data-ready line on a real chip: the character device (gpiomon) first, whatever the kernel
 * still offers through sysfs, because its edges carry the kernel's timestamp; onoff (sysfs) only
 * when the libgpiod v2 tools are missing. onoff's native addon (epoll) also cannot load in this
 * thread once another thread of the process has loaded it ("Module did not self-register"): that
 * error is reported with the chardev one, so the fix (install gpiod >= 2) is named.
 */
function openDataReady(ref: LineRef, sysRoot: string | undefined, log: Logger): GpioInputLine {
  const roots = sysRoot !== undefined ? { sysRoot } : {};
  try {
    return new ChardevGpioProvider({ ...roots, logger: log }).input(ref, 'falling');
  } catch (chardevErr) {
    if (listSysfsGpioChips(roots).length === 0) throw chardevErr;
    try {
      const line = new OnoffGpioProvider({ ...roots, logger: log }).input(ref, 'falling');
      log.warn(
        `ads1299 data-ready on sysfs GPIO (onoff): edges are stamped when read, not by the kernel (${(chardevErr as Error).message}). ` +
          'Install Debian package gpiod >= 2 for kernel stamps',
      );
      return line;
    } catch (onoffErr) {
      throw new ReflexError(
        GpioCodes.helper,
        `cannot watch the ADS1299 data-ready line ${ref.chip}:${ref.line}: chardev: ${(chardevErr as Error).message}; ` +
          `sysfs (onoff): ${(onoffErr as Error).message}. Install Debian package gpiod >= 2`,
        { cause: onoffErr },
      );
    }
  }
}

function post(m: ReaderMessage): void {
  parentPort!.postMessage(m);
}

async function runReader(d: ReaderWorkerData): Promise<void> {
  const cfg = d.config;
  // Lines go to the main thread's logger (its sink and format); the rate limit applies here.
  const log = new Logger({
    level: d.log.level,
    component: 'ads1299',
    sink: (level, message) => post({ type: 'log', level, key: 'ads1299-reader', message }),
  });
  let priority = 'normal (not asked)';
  if (cfg.priority) {
    const r = applyThreadPriority(cfg.priority);
    priority = r.applied.join(', ') || `normal (refused: ${r.failed.join('; ')})`;
    if (r.failed.length) log.warn(`ads1299 reader thread priority: ${r.failed.join('; ')}`);
  }
  let spi: SpiDevice | null = null;
  let line: GpioInputLine | null = null;
  let dev: Ads1299Device | null = null;
  const closeAll = (): void => {
    line?.close();
    line = null;
    try {
      spi?.close();
    } catch (err) {
      log.error(`closing ${cfg.spiPath}: ${(err as Error).message}`);
    }
    spi = null;
  };
  try {
    const ref = cfg.dataReady;
    if (cfg.edges) {
      if (!cfg.spiPath.startsWith(FAKE_SPI_PREFIX)) throw new ConfigError(CoreCodes.config, `shared fake edges need the fake SPI device, not ${cfg.spiPath}`);
      spi = new FakeAds1299({ path: cfg.spiPath, conversionClock: conversionClockOf(cfg.edges) });
      line = new SharedEdgeLine(ref, cfg.edges);
    } else {
      spi = await openSpi(cfg.spiPath, cfg.spi);
      if (ref.chip === SIM_CHIP) {
        const gpio = selectGpio({ logger: log });
        // The free-running model drives its data-ready pin on this thread's simulated chip, as the chip drives the header pin.
        if (spi instanceof FakeAds1299 && !spi.onDataReady) spi.onDataReady = (level, atMs) => gpio.sim.drive(ref, level, atMs);
        line = gpio.sim.input(ref, 'falling');
      } else {
        line = openDataReady(ref, cfg.sysRoot, log);
      }
    }
    const period = cfg.modelSignalPeriod;
    if (spi instanceof FakeAds1299 && period !== undefined) spi.signal = (n, ch) => (ch % 2 === 1 ? -1 : 1) * ((ch + 1) * 1000 + (n % period));
    const waitMs = cfg.resetWaitMs ?? 2;
    const device = new Ads1299Device({
      spi,
      dataReady: line,
      source: cfg.source,
      counters: new Float64Array(d.counters),
      resetWait: () => new Promise((r) => setTimeout(r, waitMs)),
      ...(cfg.readWindowMs !== undefined && { readWindowMs: cfg.readWindowMs }),
      ...(cfg.stallMs !== undefined && { stallMs: cfg.stallMs }),
      ...(cfg.stallCheckMs !== undefined && { stallCheckMs: cfg.stallCheckMs }),
    });
    dev = device;
    const sink = new Ads1299RingSink({
      ring: new RingWriter(d.ring),
      periodMs: 1000 / device.rate,
      count: (k, n) => device.count(k, n),
      wake: () => post({ type: 'wake' }),
    });
    device.on('samples', (b, at) => sink.block(b, at));
    device.on('gap', (g) => sink.gap(g));
    device.on('state', (state, det) => post({ type: 'state', state, ...(det.reason && { reason: det.reason }), ...(det.code && { code: det.code }) }));
    await device.start();
  } catch (err) {
    dev?.stop();
    closeAll();
    post({ type: 'failed', message: (err as Error).message, code: (err as ReflexError).code ?? CoreCodes.config });
    return;
  }
  const device = dev;
  post({ type: 'started', priority, edgeClock: line.edgeClock, tid: currentTid() });
  parentPort!.on('message', (c: ReaderCommand) => {
    const reply = (error?: string): void => post({ type: 'done', cmd: c.cmd, ...(error !== undefined && { error }) });
    if (c.cmd === 'stop') {
      device.stop();
      reply();
    } else if (c.cmd === 'resume') {
      device.resume().then(
        () => reply(),
        (err: unknown) => reply((err as Error).message),
      );
    } else {
      device.stop();
      device.removeAllListeners();
      closeAll();
      reply();
      parentPort!.close();
    }
  });
}
