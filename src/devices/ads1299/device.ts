/**
 * An ADS1299 on SPI read one frame per data-ready falling edge. Each sample is stamped on the host
 * clock at its edge; its device time is the sample counter (counter / rate), which the source's
 * clock model maps onto the host clock like a Cyton's. An edge later than 1.5 periods after the
 * previous one means conversions were overwritten unread (the status word has no sequence number):
 * the counter jumps by the missing ones and a `gap` says how many. No edge for the stall time:
 * the chip is re-initialised (SDATAC, RESET, registers, START, RDATAC) until it streams again.
 */
import { EventEmitter } from 'node:events';
import { createBlock, type SampleBlock } from '../../core/block.js';
import { ReflexError } from '../../core/errors.js';
import type { GpioInputLine } from '../../hal/gpio.js';
import type { SpiDevice } from '../../hal/spi.js';
import { Ads1299Codes } from './codes.js';
import { monotonicMs } from '../../time/monotonic.js';
import { ADS1299_8_ID, channelSettings, Cmd, FRAME_BYTES, int24, Reg, setupWrites, uvPerCount, type Ads1299SourceDef } from './registers.js';

export const ADS1299_COUNTER_KEYS = ['frames', 'samples', 'missed_edges', 'gaps', 'stalls', 'reinits', 'reinit_failures', 'bad_status', 'spi_errors'] as const;
export type Ads1299CounterKey = (typeof ADS1299_COUNTER_KEYS)[number];

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
  /** A block of µV samples; valid only during the event. `arrivalMs`: the host time of its first sample's edge. */
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
  /** Host clock, ms (CLOCK_MONOTONIC); tests inject one. */
  now?: () => number;
  /** No edge for this long is a stall (default: 100 periods, at least 500 ms). */
  stallMs?: number;
  /** Stall checks run on a timer of this period (default stallMs / 4); 0: never (tests call checkStall()). */
  stallCheckMs?: number;
  /** Waits after RESET, ms (the datasheet asks 18 tCLK; a real chip also needs its reference to settle). */
  resetWait?: () => Promise<void>;
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
  readonly #counts = new Map<Ads1299CounterKey, number>(ADS1299_COUNTER_KEYS.map((k) => [k, 0]));
  readonly #resetWait: () => Promise<void>;
  readonly #checkMs: number;
  #timer: NodeJS.Timeout | null = null;
  #streaming = false;
  #reiniting = false;
  #fill = 0;
  #blockFirstSample = 0;
  #blockFirstMs = 0;
  #blockSeq = 0;
  /** Device clock: the next sample's number. */
  #counter = 0;
  #lastEdgeMs = Number.NaN;
  #lastStallMs = 0;

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
    this.#resetWait = opts.resetWait ?? (() => new Promise((r) => setTimeout(r, 2)));
    this.#uv = Float64Array.from(channelSettings(opts.source), (c) => uvPerCount(c.gain));
    this.#stage = new Float32Array(this.channels * this.blockSamples);
    this.#line.watch((level) => {
      if (level === 0) this.onEdge();
    });
  }

  counter(key: Ads1299CounterKey): number {
    return this.#counts.get(key)!;
  }

  #inc(key: Ads1299CounterKey, n = 1): void {
    this.#counts.set(key, this.#counts.get(key)! + n);
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

  /** The data-ready falling edge: stamp, read the frame, convert, maybe emit a block. Allocates nothing. */
  onEdge(): void {
    if (!this.#streaming) return;
    const now = this.#now();
    const last = this.#lastEdgeMs;
    this.#lastEdgeMs = now;
    this.#lastStallMs = now;
    if (last === last && now - last > 1.5 * this.#periodMs) {
      const missing = Math.max(1, Math.round((now - last) / this.#periodMs) - 1);
      this.#flush();
      this.#inc('missed_edges', missing);
      this.#inc('gaps');
      const from = this.#counter - 1;
      this.#counter += missing;
      this.emit('gap', { cause: 'dropped', missingSamples: missing, hostSpanMs: now - last, fromSample: from, toSample: this.#counter, deviceReset: false });
    }
    try {
      this.#spi.transfer(this.#tx, this.#rx);
    } catch {
      // The sample is lost; the next edge shows it as a gap. A bus that keeps failing stalls and re-initialises.
      this.#inc('spi_errors');
      return;
    }
    const rx = this.#rx;
    this.#inc('frames');
    // Status: 1100 in the top nibble; anything else is a misaligned or corrupt read.
    if ((rx[0]! & 0xf0) !== 0xc0) {
      this.#inc('bad_status');
      this.#counter++;
      this.#flush();
      return;
    }
    if (this.#fill === 0) {
      this.#blockFirstSample = this.#counter;
      this.#blockFirstMs = now;
    }
    const B = this.blockSamples;
    const i = this.#fill;
    for (let c = 0; c < this.channels; c++) this.#stage[c * B + i] = int24(rx, 3 + 3 * c) * this.#uv[c]!;
    this.#counter++;
    this.#inc('samples');
    if (++this.#fill === B) this.#flush();
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
      const silentMs = Math.round(now - (this.#lastEdgeMs === this.#lastEdgeMs ? this.#lastEdgeMs : now - this.stallMs));
      const reason = `no data-ready edge for ${silentMs} ms: re-initialising the ADS1299`;
      this.emit('state', 'reconnecting', { reason, code: Ads1299Codes.stall });
      this.emit('gap', {
        cause: 'outage',
        missingSamples: Number.NaN,
        hostSpanMs: Number.NaN,
        fromSample: this.#counter - 1,
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
