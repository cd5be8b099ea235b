/**
 * A full-duplex SPI device (spidev): what the ads1299 source needs from the bus. Transfers are
 * synchronous on purpose: one ADS1299 frame is 27 bytes (54 µs at 4 MHz), read inside the
 * data-ready edge callback so the sample is stamped and read before the next conversion. That
 * callback runs in the ADS1299 reader thread (devices/ads1299/reader-worker.ts), which opens the
 * device itself: a handle does not cross threads.
 *
 * Backends: the `spi-device` npm package (an optional dependency, loaded only when a board opens a
 * real bus) and the in-process ADS1299 model (`fake:` devices, spi-fake.ts).
 */
import { ConfigError, ReflexError } from '../core/errors.js';
import { SpiCodes } from './codes.js';
import { FakeAds1299 } from './spi-fake.js';
import type { SpiDevice, SpiOptions } from './spi-types.js';

export type { SpiDevice, SpiOptions } from './spi-types.js';

export type SpiOpener = (path: string, opts: SpiOptions) => Promise<SpiDevice>;

/** The subset of spi-device's API this backend uses (its README: openSync, transferSync, closeSync). */
interface SpiDeviceModule {
  openSync(
    bus: number,
    device: number,
    options?: Record<string, unknown>,
  ): {
    transferSync(messages: Array<{ sendBuffer: Buffer; receiveBuffer: Buffer; byteLength: number; speedHz?: number }>): unknown;
    closeSync(): unknown;
  };
}

/** Prefix of the simulated devices: "fake:ads1299" is the in-process ADS1299 model. */
export const FAKE_SPI_PREFIX = 'fake:';

/** Opens `fake:ads1299` as the model, anything else through spi-device. */
export const openSpi: SpiOpener = async (path, opts) => {
  if (path.startsWith(FAKE_SPI_PREFIX)) {
    const model = path.slice(FAKE_SPI_PREFIX.length);
    if (model !== 'ads1299') throw new ConfigError(SpiCodes.io, `unknown fake SPI device "${path}": the only one is "fake:ads1299"`);
    return new FakeAds1299({ path, freeRun: true });
  }
  return openSpiDevice(path, opts);
};

async function openSpiDevice(path: string, opts: SpiOptions): Promise<SpiDevice> {
  let mod: SpiDeviceModule;
  try {
    // A variable specifier: tsc must not resolve a package that is deliberately not installed.
    const name = 'spi-device';
    const imported = (await import(name)) as SpiDeviceModule & { default?: SpiDeviceModule };
    mod = typeof imported.openSync === 'function' ? imported : imported.default!;
  } catch (err) {
    throw new ReflexError(
      SpiCodes.unavailable,
      `cannot open ${path}: the SPI backend package is not installed. Run: npm install spi-device (an optional dependency; it builds a small native addon)`,
      { cause: err },
    );
  }
  let dev: ReturnType<SpiDeviceModule['openSync']>;
  try {
    dev = mod.openSync(opts.bus, opts.chipSelect, { mode: opts.mode, maxSpeedHz: opts.speedHz });
  } catch (err) {
    throw new ReflexError(
      SpiCodes.io,
      `cannot open SPI ${path} (bus ${opts.bus}, chip select ${opts.chipSelect}): ${(err as Error).message}. ` +
        'Enable SPI (dtparam=spi=on) and join the spi group',
      { cause: err },
    );
  }
  // spi-device wants Buffers; views over the caller's arrays avoid a copy per frame.
  const msg: Array<{ sendBuffer: Buffer; receiveBuffer: Buffer; byteLength: number; speedHz: number }> = [
    { sendBuffer: Buffer.alloc(0), receiveBuffer: Buffer.alloc(0), byteLength: 0, speedHz: opts.speedHz },
  ];
  return {
    path,
    transfer(tx, rx) {
      const m = msg[0]!;
      if (m.sendBuffer.buffer !== tx.buffer || m.sendBuffer.byteOffset !== tx.byteOffset || m.byteLength !== tx.length) {
        m.sendBuffer = Buffer.from(tx.buffer, tx.byteOffset, tx.length);
        m.byteLength = tx.length;
      }
      if (m.receiveBuffer.buffer !== rx.buffer || m.receiveBuffer.byteOffset !== rx.byteOffset)
        m.receiveBuffer = Buffer.from(rx.buffer, rx.byteOffset, rx.length);
      try {
        dev.transferSync(msg);
      } catch (err) {
        throw new ReflexError(SpiCodes.io, `SPI transfer on ${path} failed: ${(err as Error).message}`, { cause: err });
      }
    },
    close() {
      dev.closeSync();
    },
  };
}
