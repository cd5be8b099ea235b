/** ADS1299 reader set-ups shared by the reader tests: the in-process model's config, a quiet reader, a wait for its conversions. */
import { nullLogger } from '../src/core/log.js';
import { Ads1299Reader } from '../src/devices/ads1299/reader.js';
import type { Ads1299ReaderConfig } from '../src/devices/ads1299/reader-protocol.js';
import type { Ads1299SourceDef } from '../src/devices/ads1299/registers.js';
import { monotonicMs } from '../src/time/monotonic.js';

/**
 * The datasheet model (`fake:ads1299`, SPI mode 1 at 4 MHz) with 8 channels at gain 24 and 250 SPS
 * unless `source` says otherwise, its data-ready on line 25 of `chip`. Spread it to add options.
 */
export function modelReaderConfig(chip: string, source: Omit<Partial<Ads1299SourceDef>, 'kind'> = {}): Ads1299ReaderConfig {
  return {
    spiPath: 'fake:ads1299',
    spi: { mode: 1, speedHz: 4_000_000, bus: 0, chipSelect: 0 },
    dataReady: { chip, line: 25 },
    source: { kind: 'ads1299', rate: 250, channels: 8, gain: 24, ...source },
  };
}

/** A reader that logs nothing (its errors reach the test through start() and its events). */
export function quietReader(config: Ads1299ReaderConfig, ringMs?: number): Ads1299Reader {
  return new Ads1299Reader({ log: nullLogger(), config, ...(ringMs !== undefined && { ringMs }) });
}

/** Resolves once the reader thread has taken `count` conversions (read or counted lost), or after 10 s: the caller's checks then fail. */
export async function conversionsTaken(reader: Ads1299Reader, count: number): Promise<void> {
  const deadline = monotonicMs() + 10_000;
  while (reader.counter('samples') + reader.counter('lost') < count && monotonicMs() < deadline) await new Promise((res) => setTimeout(res, 10));
}
