/**
 * An ADS1299 on SPI read one frame per data-ready falling edge. Each sample is stamped with its
 * edge's time as the GPIO line reports it (the kernel's line-event timestamp on the chardev
 * backend), not with the time the edge was serviced; its device time is the sample counter
 * (counter / rate), which the source's clock model maps onto the host clock like a Cyton's.
 *
 * The status word has no sequence number, so conversions are counted against the sample grid:
 * the conversions from one edge to the next are round(interval / period) by their stamps (the
 * period as the stamps show it, starting from the nominal one). More
 * than one means edges never came (`missed_edges`). An edge serviced after its conversion was
 * overwritten by the next (the chip keeps only its latest) cannot be read: `late_reads`. Both are
 * lost samples; the counter moves past them, so it stays on the grid, and one `dropped` gap per
 * run of losses says how many. No edge for the stall time: the chip is re-initialised (SDATAC,
 * RESET, registers, START, RDATAC) until it streams again.
 *
 * In Reflex it runs in the reader thread (reader-worker.ts), never on the main thread: the frame
 * must be read within 0.9 periods of its edge, which no main-thread task may delay.
 */
import { EventEmitter } from 'node:events';
import { createBlock, type SampleBlock } from '../../core/block.js';
import { ReflexError } from '../../core/errors.js';
import type { GpioInputLine } from '../../hal/gpio.js';
import type { SpiDevice } from '../../hal/spi.js';
import { Ads1299Codes } from './codes.js';
import { monotonicMs } from '../../time/monotonic.js';
import { ADS1299_8_ID, channelSettings, Cmd, FRAME_BYTES, int24, Reg, setupWrites, uvPerCount, type Ads1299SourceDef } from './registers.js';

export const ADS1299_COUNTER_KEYS = [
  'frames',
  'samples',
  /** Conversions that did not become samples, for any of the reasons counted below. */
  'lost',
  'missed_edges',
  'late_reads',
  'spurious_edges',
  'gaps',
  'stalls',
  'reinits',
  'reinit_failures',
  'bad_status',
  'spi_errors',
  /**
   * Samples read but dropped because the ring to the main thread was full (the main thread did
   * not drain it for the ring's length): also counted in `lost`, and reported as a gap.
   */
  'ring_overflows',
] as const;
export type Ads1299CounterKey = (typeof ADS1299_COUNTER_KEYS)[number];
/** Each counter's index in the counters array. */
export const COUNTER_INDEX = Object.fromEntries(ADS1299_COUNTER_KEYS.map((k, i) => [k, i])) as Record<Ads1299CounterKey, number>;

export interface Ads1299Gap {
  cause: 'dropped' | 'outage';
  missingSamples: number;
  hostSpanMs: number;
  /** Counter (device clock) of the sample before and after. */
  fromSample: number;
  toSample: number;
  deviceReset: boolean;
}

export interface Ads1299DeviceEvents {
  /** A block of µV samples; valid only during the event. `arrivalMs`: its first sample's edge time (host clock, ms). */
  samples: [block: SampleBlock, arrivalMs: number];
  gap: [gap: Ads1299Gap];
  /** 'streaming', 'reconnecting' (stalled, re-initialising), 'stopped'. */
  state: [state: string, detail: { reason?: string; code?: string }];
}

export interface Ads1299DeviceOptions {
  spi: SpiDevice;
  /** The data-ready line, opened for falling edges. */
  dataReady: GpioInputLine;
  source: Ads1299SourceDef;
  /** Host clock, ms (CLOCK_MONOTONIC, the edge stamps' clock): when an edge is serviced and a read ends. Tests inject one. */
  now?: () => number;
  /**
   * A frame whose read ends later than this after its edge may already hold the next conversion:
   * it is counted lost (`late_reads`) instead of being given the wrong sample number. Default
   * 0.9 periods: the edge's stamp is a little after the chip's conversion (interrupt latency).
   */
  readWindowMs?: number;
  /** No edge for this long is a stall (default: 100 periods, at least 500 ms). */
  stallMs?: number;
  /** Stall checks run on a timer of this period (default stallMs / 4); 0: never (tests call checkStall()). */
  stallCheckMs?: number;
  /** Waits after RESET, ms (the datasheet asks 18 tCLK; a real chip also needs its reference to settle). */
  resetWait?: () => Promise<void>;
  /**
   * Where the counters live, one per ADS1299_COUNTER_KEYS entry in that order (default: a new
   * array). The reader thread passes a view over shared memory, so the main thread reads them.
   */
  counters?: Float64Array;
}

export class Ads1299Device extends EventEmitter<Ads1299DeviceEvents> {
  readonly rate: number;
  readonly channels: number;
  readonly blockSamples: number;
  readonly stallMs: number;
  readonly #spi: SpiDevice;
  readonly #line: GpioInputLine;
  readonly #src: Ads1299SourceDef;
  readonly #now: () => number;
  readonly #periodMs: number;
  readonly #uv: Float64Array;
  readonly #tx = new Uint8Array(FRAME_BYTES);
  readonly #rx = new Uint8Array(FRAME_BYTES);
  readonly #stage: Float32Array;
  /** Blocks by sample count: the full one, and shorter ones flushed before a gap (made once per size). */
  readonly #blocks = new Map<number, SampleBlock>();
  readonly #counts: Float64Array;
  readonly #resetWait: () => Promise<void>;
  readonly #checkMs: number;
  readonly #windowMs: number;
  #timer: NodeJS.Timeout | null = null;
  #streaming = false;
  #reiniting = false;
  #fill = 0;
  #blockFirstSample = 0;
  #blockFirstMs = 0;
  #blockSeq = 0;
  /** Device clock: the next conversion's number. */
  #counter = 0;
  /** Stamp of the last accepted edge (read or not), and of the last conversion that became a sample. */
  #lastEdgeMs = Number.NaN;
  #lastGoodMs = Number.NaN;
  #lastStallMs = 0;
  /**
   * The chip's period as its stamps show it. Its oscillator is off nominal by its tolerance, and
   * counting a long gap with the nominal period would be off by one past about 0.5 / tolerance
   * periods; single-period intervals keep this estimate, clamped to ±5 % of nominal.
   */
  #periodEstMs = 0;
  /** Losses since the last sample, reported as one gap when the next sample comes. */
  #pendingLost = 0;
  #pendingFrom = -1;

  constructor(opts: Ads1299DeviceOptions) {
    super();
    this.#spi = opts.spi;
    this.#line = opts.dataReady;
    this.#src = opts.source;
    this.#now = opts.now ?? monotonicMs;
    this.rate = opts.source.rate;
    this.channels = opts.source.channels;
    this.#periodMs = 1000 / this.rate;
    this.blockSamples = opts.source.blockSamples ?? Math.max(1, Math.round(this.rate / 250));
    this.stallMs = opts.stallMs ?? Math.max(500, 100 * this.#periodMs);
    this.#checkMs = opts.stallCheckMs ?? this.stallMs / 4;
    this.#windowMs = opts.readWindowMs ?? 0.9 * this.#periodMs;
    this.#resetWait = opts.resetWait ?? (() => new Promise((r) => setTimeout(r, 2)));
    this.#counts = opts.counters ?? new Float64Array(ADS1299_COUNTER_KEYS.length);
    this.#uv = Float64Array.from(channelSettings(opts.source), (c) => uvPerCount(c.gain));
    this.#stage = new Float32Array(this.channels * this.blockSamples);
    this.#line.watch((level, timeMs) => {
      if (level === 0) this.onEdge(timeMs);
    });
  }

  counter(key: Ads1299CounterKey): number {
    return this.#counts[COUNTER_INDEX[key]]!;
  }

  /** Adds to a counter: the reader thread counts what it drops after the device (ring overflows). */
  count(key: Ads1299CounterKey, n = 1): void {
    this.#counts[COUNTER_INDEX[key]]! += n;
  }

  #inc(key: Ads1299CounterKey, n = 1): void {
    this.#counts[COUNTER_INDEX[key]]! += n;
  }

  /** Configures the chip and starts continuous conversions; throws E_ADS1299_ID if no ADS1299-8 answers. */
  async start(): Promise<void> {
    await this.#init();
    if (this.#checkMs > 0 && !this.#timer) this.#timer = setInterval(() => this.checkStall(), this.#checkMs);
  }

  async #init(): Promise<void> {
    this.#streaming = false;
    this.#command(Cmd.SDATAC);
    this.#command(Cmd.RESET);
    await this.#resetWait();
    // The chip wakes in RDATAC, where it ignores register commands.
    this.#command(Cmd.SDATAC);
    const id = this.readRegister(Reg.ID);
    if (id !== ADS1299_8_ID) {
      throw new ReflexError(
        Ads1299Codes.id,
        `${this.#spi.path}: ID register reads 0x${id.toString(16).padStart(2, '0')}, expected 0x3e (an 8-channel ADS1299). ` +
          'Check the SPI wiring, mode 1, power and the chip select',
      );
    }
    for (const w of setupWrites(this.#src)) this.writeRegisters(w.reg, w.values);
    this.#fill = 0;
    this.#counter = 0;
    this.#lastEdgeMs = Number.NaN;
    this.#lastGoodMs = Number.NaN;
    this.#pendingLost = 0;
    this.#periodEstMs = this.#periodMs;
    this.#lastStallMs = this.#now();
    this.#command(Cmd.START);
    this.#command(Cmd.RDATAC);
    this.#streaming = true;
    this.emit('state', 'streaming', {});
  }

  #command(op: number): void {
    const b = new Uint8Array([op]);
    this.#spi.transfer(b, new Uint8Array(1));
  }

  readRegister(reg: number): number {
    const tx = new Uint8Array([Cmd.RREG | reg, 0, 0]);
    const rx = new Uint8Array(3);
    this.#spi.transfer(tx, rx);
    return rx[2]!;
  }

  writeRegisters(reg: number, values: number[]): void {
    this.#spi.transfer(new Uint8Array([Cmd.WREG | reg, values.length - 1, ...values]), new Uint8Array(values.length + 2));
  }

  /**
   * A data-ready falling edge that happened at `stampMs` (host clock): place it on the grid,
   * read the frame if it is still the chip's, convert, maybe emit a block. Allocates nothing.
   */
  onEdge(stampMs: number): void {
    if (!this.#streaming) return;
    const last = this.#lastEdgeMs;
    if (last === last) {
      const interval = stampMs - last;
      const n = Math.round(interval / this.#periodEstMs);
      // Less than half a period after the last: not a conversion (a glitch, or an edge given twice).
      if (n < 1) {
        this.#inc('spurious_edges');
        return;
      }
      if (n > 1) {
        this.#inc('missed_edges', n - 1);
        this.#lose(n - 1);
      } else {
        const p = this.#periodEstMs + (interval - this.#periodEstMs) / 256;
        this.#periodEstMs = Math.min(1.05 * this.#periodMs, Math.max(0.95 * this.#periodMs, p));
      }
    }
    this.#lastEdgeMs = stampMs;
    this.#lastStallMs = this.#now();
    // Serviced after the next conversion: the frame is already overwritten; do not read it.
    if (this.#lastStallMs - stampMs > this.#windowMs) return this.#lateRead();
    const rx = this.#rx;
    try {
      this.#spi.transfer(this.#tx, rx);
    } catch {
      // That sample is lost; a bus that keeps failing stalls and re-initialises.
      this.#inc('spi_errors');
      return this.#lose(1);
    }
    this.#inc('frames');
    // The read must end before the next conversion, or it may have clocked out part of that one.
    if (this.#now() - stampMs > this.#windowMs) return this.#lateRead();
    // Status: 1100 in the top nibble; anything else is a misaligned or corrupt read.
    if ((rx[0]! & 0xf0) !== 0xc0) {
      this.#inc('bad_status');
      return this.#lose(1);
    }
    if (this.#pendingLost > 0) this.#emitGap(stampMs);
    if (this.#fill === 0) {
      this.#blockFirstSample = this.#counter;
      this.#blockFirstMs = stampMs;
    }
    const B = this.blockSamples;
    const i = this.#fill;
    for (let c = 0; c < this.channels; c++) this.#stage[c * B + i] = int24(rx, 3 + 3 * c) * this.#uv[c]!;
    this.#counter++;
    this.#lastGoodMs = stampMs;
    this.#inc('samples');
    if (++this.#fill === B) this.#flush();
  }

  #lateRead(): void {
    this.#inc('late_reads');
    this.#lose(1);
  }

  /** `n` conversions that will not be samples: the counter moves past them, the block so far goes out. */
  #lose(n: number): void {
    if (this.#pendingLost === 0) {
      this.#flush();
      this.#pendingFrom = this.#counter - 1;
    }
    this.#pendingLost += n;
    this.#counter += n;
    this.#inc('lost', n);
  }

  #emitGap(nextStampMs: number): void {
    const missing = this.#pendingLost;
    this.#pendingLost = 0;
    this.#inc('gaps');
    const span = this.#lastGoodMs === this.#lastGoodMs ? nextStampMs - this.#lastGoodMs : (missing + 1) * this.#periodMs;
    this.emit('gap', {
      cause: 'dropped',
      missingSamples: missing,
      hostSpanMs: span,
      fromSample: this.#pendingFrom,
      toSample: this.#counter,
      deviceReset: false,
    });
  }

  /** Emits the samples staged so far (a short block before a gap, so blocks stay contiguous). */
  #flush(): void {
    const n = this.#fill;
    if (n === 0) return;
    this.#fill = 0;
    let block = this.#blocks.get(n);
    if (!block) {
      block = createBlock({ stream: 'emg', channels: this.channels, samples: n, rate: this.rate, unit: 'uV' });
      this.#blocks.set(n, block);
    }
    const B = this.blockSamples;
    if (n === B) block.data.set(this.#stage);
    else for (let c = 0; c < this.channels; c++) block.data.set(this.#stage.subarray(c * B, c * B + n), c * n);
    block.firstSample = this.#blockFirstSample;
    block.seq = this.#blockSeq++;
    block.deviceTimeUs = (this.#blockFirstSample * 1e6) / this.rate;
    block.hostTimeMs = Number.NaN;
    block.valid = true;
    this.emit('samples', block, this.#blockFirstMs);
  }

  /** A stall check: no edge for stallMs re-initialises the chip (retried every stallMs while it fails). */
  checkStall(): void {
    if (this.#reiniting || !this.#timerWanted()) return;
    const now = this.#now();
    if (now - this.#lastStallMs < this.stallMs) return;
    this.#lastStallMs = now;
    const wasStreaming = this.#streaming;
    if (wasStreaming) {
      this.#inc('stalls');
      this.#flush();
      // The outage gap covers losses not yet reported: it starts at the last sample delivered.
      const from = this.#pendingLost > 0 ? this.#pendingFrom : this.#counter - 1;
      this.#pendingLost = 0;
      const silentMs = Math.round(now - (this.#lastEdgeMs === this.#lastEdgeMs ? this.#lastEdgeMs : now - this.stallMs));
      const reason = `no data-ready edge for ${silentMs} ms: re-initialising the ADS1299`;
      this.emit('state', 'reconnecting', { reason, code: Ads1299Codes.stall });
      this.emit('gap', {
        cause: 'outage',
        missingSamples: Number.NaN,
        hostSpanMs: Number.NaN,
        fromSample: from,
        toSample: 0,
        deviceReset: true,
      });
    }
    this.#reiniting = true;
    this.#inc('reinits');
    this.#init()
      .catch((err: unknown) => {
        this.#inc('reinit_failures');
        this.#streaming = false;
        this.emit('state', 'reconnecting', { reason: (err as Error).message, code: (err as ReflexError).code ?? Ads1299Codes.stall });
      })
      .finally(() => {
        this.#reiniting = false;
      });
  }

  #timerWanted(): boolean {
    return this.#started;
  }

  #started = true;

  /** Stops conversions (SDATAC, STOP) and the stall timer; the line and bus stay open. */
  stop(): void {
    this.#started = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#flush();
    if (this.#streaming) {
      this.#streaming = false;
      try {
        this.#command(Cmd.SDATAC);
        this.#command(Cmd.STOP);
      } catch {
        this.#inc('spi_errors');
      }
    }
    this.emit('state', 'stopped', {});
  }

  /** Re-arms after stop(). */
  resume(): Promise<void> {
    this.#started = true;
    return this.start();
  }
}
