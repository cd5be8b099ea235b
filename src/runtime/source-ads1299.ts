/** An ADS1299 on the board's SPI bus as a Source (docs/ads1299.md). */
import { EventEmitter } from 'node:events';
import type { BoardDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import { ADS1299_COUNTER_KEYS, type Ads1299Gap } from '../devices/ads1299/device.js';
import { Ads1299Reader, type Ads1299ReaderConfig } from '../devices/ads1299/reader.js';
import type { Ads1299SourceDef } from '../devices/ads1299/registers.js';
import type { ThreadPriority } from '../loop/priority.js';
import { ClockModel } from '../time/clock-model.js';
import { CoreCodes } from '../core/codes.js';
import type { Source, SourceDevice, SourceEvents, SourceGap, SourceOptions } from './source.js';

/** Options of the reader thread; plain data, since that thread opens the bus and the line itself. */
export interface Ads1299SourceOptions extends SourceOptions {
  /** sysfs root for the GPIO backend choice (tests: a fake tree). */
  sysRoot?: string;
  stallMs?: number;
  stallCheckMs?: number;
  /** How long the ring to the main thread holds when the main thread is busy, ms (default 2000). */
  ringMs?: number;
  /**
   * Scheduling of the reader thread only. Default: SCHED_FIFO 40 at 1000 SPS and above (below the
   * loop's 50, docs/realtime.md), none below; a refusal (no root or CAP_SYS_NICE) is logged and
   * shown in describe() as `reader_priority`, and the source runs at normal priority.
   */
  readerPriority?: ThreadPriority | null;
  /** Test and benchmark hooks passed to the reader thread (fake edges from shared memory...). */
  reader?: Partial<Pick<Ads1299ReaderConfig, 'edges' | 'modelSignalPeriod' | 'readWindowMs' | 'resetWaitMs'>>;
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
  #reader: Ads1299Reader | null = null;
  #streaming = false;
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
    const t = this.#streaming ? this.#reader?.thread : undefined;
    return {
      device: 'ADS1299',
      path: this.#board.spi!.device,
      link: this.#state,
      rate: this.#src.rate,
      channels: this.#src.channels,
      // kernel: samples stamped at the data-ready edge; read: at the time the backend read it (onoff, no kernel stamp).
      ...(t && { edge_clock: t.edgeClock, reader_thread: t.tid, reader_priority: t.priority }),
      ...(this.#reader && { ring_slots: this.#reader.ringSlots }),
      ...(this.#lastError && { last_error: this.#lastError.message, last_error_code: this.#lastError.code }),
    };
  }

  device(): SourceDevice | null {
    return this.#streaming ? { name: 'ADS1299', maxChannels: 8, actuatorChannels: 0 } : null;
  }

  async start(): Promise<void> {
    const spiDef = this.#board.spi!;
    const o = this.#opts;
    const priority = o.readerPriority === undefined ? (this.#src.rate >= 1000 ? { fifo: 40 } : null) : o.readerPriority;
    const reader = new Ads1299Reader({
      log: o.log,
      ...(o.ringMs !== undefined && { ringMs: o.ringMs }),
      config: {
        spiPath: spiDef.device,
        spi: { mode: spiDef.mode, speedHz: spiDef.maxSpeedHz, bus: spiDef.bus, chipSelect: spiDef.chipSelect },
        dataReady: this.#board.pins![spiDef.dataReady]!,
        source: this.#src,
        ...(o.sysRoot !== undefined && { sysRoot: o.sysRoot }),
        ...(o.stallMs !== undefined && { stallMs: o.stallMs }),
        ...(o.stallCheckMs !== undefined && { stallCheckMs: o.stallCheckMs }),
        ...(priority && { priority }),
        ...o.reader,
      },
    });
    reader.on('samples', (block, arrivalMs) => {
      this.clock.ingestBlock(block, arrivalMs);
      this.emit('samples', block, arrivalMs);
    });
    reader.on('gap', (g) => {
      // A re-initialised chip starts its counter over: the model re-seeds rather than reject it.
      if (g.deviceReset) this.clock.reseed();
      this.emit('gap', ads1299SourceGap(g));
    });
    reader.on('state', (s, d) => {
      this.#state = s;
      if (d.reason && d.code) {
        this.#lastError = { message: d.reason, code: d.code };
        o.log.limited('warn', 'ads1299-state', `ads1299: ${d.reason}`);
      }
      this.emit('state', s, { ...(d.reason && { reason: d.reason }), ...(d.code && { code: d.code }) });
    });
    this.#reader = reader;
    await reader.start();
    this.#streaming = true;
  }

  pause(): Promise<void> {
    return this.#reader?.stop() ?? Promise.resolve();
  }

  async resume(): Promise<void> {
    await this.#reader?.resume();
  }

  async stop(): Promise<void> {
    const r = this.#reader;
    this.#streaming = false;
    if (!r) return;
    // Kept: its counters stay readable for the last health report.
    await r.close();
    r.removeAllListeners();
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of ADS1299_COUNTER_KEYS) out[k] = this.#reader?.counter(k) ?? 0;
    return out;
  }
}
