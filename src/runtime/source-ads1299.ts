/** An ADS1299 on the board's SPI bus as a Source (docs/ads1299.md). */
import { EventEmitter } from 'node:events';
import type { BoardDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import { ADS1299_COUNTER_KEYS, Ads1299Device, type Ads1299Gap } from '../devices/ads1299/device.js';
import type { Ads1299SourceDef } from '../devices/ads1299/registers.js';
import { selectGpio, SIM_CHIP, type GpioSelection } from '../hal/gpio-select.js';
import type { GpioInputLine } from '../hal/gpio.js';
import { FakeAds1299 } from '../hal/spi-fake.js';
import { openSpi, type SpiDevice, type SpiOpener } from '../hal/spi.js';
import { ClockModel } from '../time/clock-model.js';
import { CoreCodes } from '../core/codes.js';
import type { Source, SourceDevice, SourceEvents, SourceGap, SourceOptions } from './source.js';

export interface Ads1299SourceOptions extends SourceOptions {
  /** SPI backend (default: spi-device, or the model for `fake:` devices). */
  spi?: SpiOpener;
  /** GPIO backends for the data-ready line (default: hal/gpio-select.ts). */
  gpio?: GpioSelection;
  /** Passed to the device (tests). */
  now?: () => number;
  stallMs?: number;
  stallCheckMs?: number;
}

export function ads1299SourceGap(g: Ads1299Gap): SourceGap {
  return {
    cause: g.cause,
    missingSamples: g.missingSamples,
    missingFrames: g.missingSamples,
    hostSpanMs: g.hostSpanMs,
    deviceReset: g.deviceReset,
    fromSeq: g.fromSample,
    toSeq: g.toSample,
    ...(g.cause === 'dropped' && { deviceSpanUs: 0 }),
  };
}

export class Ads1299Source extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'ads1299';
  readonly clock = new ClockModel({ name: 'ads1299' });
  readonly tracker = null;
  readonly actuatorSink = null;
  readonly #board: BoardDef;
  readonly #src: Ads1299SourceDef;
  readonly #opts: Ads1299SourceOptions;
  #spi: SpiDevice | null = null;
  #line: GpioInputLine | null = null;
  #dev: Ads1299Device | null = null;
  #state = 'idle';
  #lastError: { message: string; code: string } | null = null;

  constructor(board: BoardDef, opts: Ads1299SourceOptions) {
    super();
    if (board.source.kind !== 'ads1299' || !board.spi)
      throw new ConfigError(CoreCodes.config, `board ${board.id}: an ads1299 source needs source.kind "ads1299" and "spi"`);
    this.#board = board;
    this.#src = board.source;
    this.#opts = opts;
  }

  describe(): Record<string, string | number> {
    return {
      device: 'ADS1299',
      path: this.#board.spi!.device,
      link: this.#state,
      rate: this.#src.rate,
      channels: this.#src.channels,
      ...(this.#lastError && { last_error: this.#lastError.message, last_error_code: this.#lastError.code }),
    };
  }

  device(): SourceDevice | null {
    return this.#dev ? { name: 'ADS1299', maxChannels: 8, actuatorChannels: 0 } : null;
  }

  async start(): Promise<void> {
    const spiDef = this.#board.spi!;
    const ref = this.#board.pins![spiDef.dataReady]!;
    this.#spi ??= await (this.#opts.spi ?? openSpi)(spiDef.device, {
      mode: spiDef.mode,
      speedHz: spiDef.maxSpeedHz,
      bus: spiDef.bus,
      chipSelect: spiDef.chipSelect,
    });
    const gpio = this.#opts.gpio ?? selectGpio({ logger: this.#opts.log });
    // The model drives its data-ready pin on the simulated chip, as the chip drives the header pin.
    const spi = this.#spi;
    if (spi instanceof FakeAds1299 && ref.chip === SIM_CHIP && !spi.onDataReady) spi.onDataReady = (level) => gpio.sim.drive(ref, level);
    this.#line ??= gpio.providerFor(ref).input(ref, 'falling');
    const dev = new Ads1299Device({
      spi,
      dataReady: this.#line,
      source: this.#src,
      ...(this.#opts.now && { now: this.#opts.now }),
      ...(this.#opts.stallMs !== undefined && { stallMs: this.#opts.stallMs }),
      ...(this.#opts.stallCheckMs !== undefined && { stallCheckMs: this.#opts.stallCheckMs }),
    });
    dev.on('samples', (block, arrivalMs) => {
      this.clock.ingestBlock(block, arrivalMs);
      this.emit('samples', block, arrivalMs);
    });
    dev.on('gap', (g) => {
      // A re-initialised chip starts its counter over: the model re-seeds rather than reject it.
      if (g.deviceReset) this.clock.reseed();
      this.emit('gap', ads1299SourceGap(g));
    });
    dev.on('state', (s, d) => {
      this.#state = s;
      if (d.reason && d.code) {
        this.#lastError = { message: d.reason, code: d.code };
        this.#opts.log.limited('warn', 'ads1299-state', `ads1299: ${d.reason}`);
      }
      this.emit('state', s, { ...(d.reason && { reason: d.reason }), ...(d.code && { code: d.code }) });
    });
    this.#dev = dev;
    await dev.start();
  }

  pause(): Promise<void> {
    this.#dev?.stop();
    return Promise.resolve();
  }

  async resume(): Promise<void> {
    await this.#dev?.resume();
  }

  stop(): Promise<void> {
    this.#dev?.stop();
    this.#dev?.removeAllListeners();
    this.#line?.close();
    this.#line = null;
    this.#spi?.close();
    this.#spi = null;
    return Promise.resolve();
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of ADS1299_COUNTER_KEYS) out[k] = this.#dev?.counter(k) ?? 0;
    return out;
  }
}
