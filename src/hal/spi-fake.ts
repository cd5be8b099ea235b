/**
 * An ADS1299 behind the SPI interface, modelled from TI's datasheet (SBAS499): the 24 registers
 * with their reset values, the commands (WAKEUP, STANDBY, RESET, START, STOP, RDATAC, SDATAC,
 * RDATA, RREG, WREG), and 27-byte frames (status 1100 + LOFF_STATP + LOFF_STATN + GPIO, then
 * 8 channels of 24-bit big-endian two's complement). Written apart from devices/ads1299 on
 * purpose: its register decoding uses the datasheet's numbers, not the driver's constants.
 *
 * Conversions happen when the test calls `convert()`: the frame is latched and data-ready falls
 * (`onDataReady`, with the conversion's time when the test gives one). Or they follow a clock:
 * `conversionClock` (an outside oscillator, e.g. a thread keeping the sample grid) or, with
 * `freeRun`, the host clock at the CONFIG1 rate from START. Then a read clocks out the latest
 * conversion at the moment of the read, as the chip does: one not read before the next is
 * overwritten, whether or not anyone saw its data-ready edge.
 */
import { monotonicMs } from '../time/monotonic.js';
import type { SpiDevice } from './spi-types.js';

/** Rates per CONFIG1 DR[2:0] = 0..6. */
const RATES = [16000, 8000, 4000, 2000, 1000, 500, 250];
const GAINS = [1, 2, 4, 6, 8, 12, 24];

export interface FakeAds1299Options {
  path?: string;
  /** Convert on a timer at the CONFIG1 rate once started, driving `onDataReady` (the runtime's `fake:ads1299`). */
  freeRun?: boolean;
  /** The ID register (0x3E: an 8-channel ADS1299); another value models a wrong or absent chip. */
  id?: number;
  /**
   * The number of the latest conversion since START (-1: none yet), kept by something outside
   * (bench/ads1299.ts: a thread on the sample grid, which also delivers the data-ready edges).
   */
  conversionClock?: () => number;
}

export class FakeAds1299 implements SpiDevice {
  readonly path: string;
  readonly regs = new Uint8Array(24);
  /**
   * Every command transfer's tx bytes, in order (tests check the setup sequence). Frame reads in
   * RDATAC are only counted (`reads`): logging each would grow without bound in a long run.
   */
  readonly log: number[][] = [];
  /**
   * Called with the new DRDY level: 0 when a conversion is ready, 1 once its read starts. `atMs`:
   * when the conversion happened (host clock), if the caller of `convert` or the free-running
   * timer knows; the fake GPIO passes it on as the edge's kernel time.
   */
  onDataReady: ((level: 0 | 1, atMs?: number) => void) | null = null;
  /**
   * Channel input in counts for conversion `n` of channel `ch` with MUX "normal", before gain.
   * Default: (ch + 1) * 1000 + n % 1000, negated on even channels (both signs on the wire).
   */
  signal: (n: number, ch: number) => number = (n, ch) => (ch % 2 === 1 ? -1 : 1) * ((ch + 1) * 1000 + (n % 1000));
  /** Conversions made since the last START or RESET (frames read or not). */
  conversions = 0;
  /** Frames clocked out while in RDATAC. */
  reads = 0;
  /** Commands seen, by opcode. */
  readonly commands = new Map<number, number>();
  rdatac = true;
  running = false;
  closed = false;
  readonly #frame = new Uint8Array(27);
  readonly #id: number;
  readonly #freeRun: boolean;
  readonly #outside: (() => number) | undefined;
  /** The clock conversions follow (outside, or the host clock while free-running); none: `convert()` only. */
  #clock: (() => number) | undefined;
  /** The conversion the frame holds. */
  #latched = -1;
  #timer: NodeJS.Timeout | null = null;
  #t0 = 0;
  /** Free run: the last conversion whose data-ready edge was signalled. */
  #signalled = -1;

  constructor(opts: FakeAds1299Options = {}) {
    this.path = opts.path ?? 'fake:ads1299';
    this.#id = opts.id ?? 0x3e;
    this.#freeRun = opts.freeRun === true;
    this.#outside = opts.conversionClock;
    this.#reset();
  }

  /** Current data rate from CONFIG1 DR[2:0], SPS. */
  get rate(): number {
    return RATES[this.regs[1]! & 7] ?? 250;
  }

  transfer(tx: Uint8Array, rx: Uint8Array): void {
    if (this.closed) throw new Error(`fake SPI ${this.path} is closed`);
    rx.fill(0);
    // In RDATAC the chip ignores everything but SDATAC/RESET/STOP... and shifts the latest frame out.
    if (this.rdatac && allZero(tx)) {
      if (this.#clock && this.running) {
        const n = this.#clock();
        if (n > this.#latched) {
          this.conversions = n + 1;
          this.#latch(n);
        }
      }
      this.onDataReady?.(1);
      rx.set(this.#frame.subarray(0, Math.min(rx.length, 27)));
      this.reads++;
      return;
    }
    this.log.push([...tx]);
    let i = 0;
    while (i < tx.length) {
      const op = tx[i]!;
      const key = (op & 0xe0) === 0x20 || (op & 0xe0) === 0x40 ? op & 0xe0 : op;
      this.commands.set(key, (this.commands.get(key) ?? 0) + 1);
      if ((op & 0xe0) === 0x20 || (op & 0xe0) === 0x40) {
        const addr = op & 0x1f;
        const n = (tx[i + 1] ?? 0) + 1;
        for (let k = 0; k < n; k++) {
          const a = addr + k;
          if (a >= 24) break;
          if ((op & 0xe0) === 0x20) rx[i + 2 + k] = this.regs[a]!;
          else if (!this.rdatac && a !== 0 && a !== 0x12 && a !== 0x13) this.regs[a] = tx[i + 2 + k] ?? 0;
        }
        i += 2 + n;
        continue;
      }
      if (op === 0x06) this.#reset();
      else if (op === 0x08) this.#start();
      else if (op === 0x0a) this.#stop();
      else if (op === 0x10) this.rdatac = true;
      else if (op === 0x11) this.rdatac = false;
      else if (op === 0x12) {
        rx.set(this.#frame.subarray(0, Math.min(27, rx.length - i - 1)), i + 1);
        i += 28;
        continue;
      }
      i++;
    }
  }

  /**
   * A conversion at `atMs` (host clock; the edge's time): `skipped` earlier ones were overwritten
   * unread (the host missed their edges).
   */
  convert(skipped = 0, atMs?: number): void {
    this.conversions += skipped;
    this.#latch(this.conversions++);
    // DRDY idles high and pulses high for 4 tCLK before a conversion even when the last went unread.
    this.onDataReady?.(1);
    this.onDataReady?.(0, atMs);
  }

  /** Puts conversion `n` in the output frame. */
  #latch(n: number): void {
    this.#latched = n;
    const f = this.#frame;
    f[0] = 0xc0;
    f[1] = 0;
    f[2] = 0;
    for (let ch = 0; ch < 8; ch++) {
      const set = this.regs[5 + ch]!;
      const gain = GAINS[(set >> 4) & 7] ?? 24;
      const mux = set & 7;
      let v = 0;
      if (set & 0x80) v = 0;
      else if (mux === 0) v = this.signal(n, ch) * gain;
      else if (mux === 5) v = this.#testSignal(n) * gain;
      // mux 1 (shorted): the ADC's own offset, zero in the model
      v = Math.max(-0x800000, Math.min(0x7fffff, Math.round(v)));
      f[3 + 3 * ch] = (v >> 16) & 0xff;
      f[4 + 3 * ch] = (v >> 8) & 0xff;
      f[5 + 3 * ch] = v & 0xff;
    }
  }

  /** The internal test signal (CONFIG2 INT_CAL, CAL_AMP 0): ±(VREF / 2400) = ±1.875 mV square wave at fCLK / 2^21 (~1 Hz), in counts at gain 1. */
  #testSignal(n: number): number {
    const halfPeriod = Math.round(this.rate / 2 / 0.9765625);
    const volts = Math.floor(n / halfPeriod) % 2 === 0 ? 4.5 / 2400 : -4.5 / 2400;
    return (volts * 2 ** 23) / 4.5;
  }

  close(): void {
    this.#stop();
    this.closed = true;
  }

  #reset(): void {
    this.#stop();
    // Reset values (SBAS499 register map): ID, CONFIG1 0x96, CONFIG2 0xC0, CONFIG3 0x60, LOFF 0, CHnSET 0x61, MISC1.. 0.
    this.regs.fill(0);
    this.regs[0] = this.#id;
    this.regs[1] = 0x96;
    this.regs[2] = 0xc0;
    this.regs[3] = 0x60;
    for (let ch = 0; ch < 8; ch++) this.regs[5 + ch] = 0x61;
    this.regs[0x14] = 0x0f;
    this.rdatac = true;
    this.conversions = 0;
    this.#latched = -1;
    this.#frame.fill(0);
  }

  #start(): void {
    this.running = true;
    this.conversions = 0;
    this.#latched = -1;
    if (!this.#freeRun) {
      this.#clock = this.#outside;
      return;
    }
    // START restarts conversions: conversion n at t0 + (n + 1) periods, the chip's grid on the host clock.
    if (this.#timer) clearTimeout(this.#timer);
    const t0 = (this.#t0 = monotonicMs());
    const periodMs = 1000 / this.rate;
    this.#clock = () => Math.floor((monotonicMs() - t0) / periodMs) - 1;
    this.#signalled = -1;
    this.#arm(periodMs);
  }

  /**
   * Free run: a timer to the next conversion signals every edge due since the last, each stamped
   * with its grid time. A timer wakes late (a millisecond or more): the reads it triggers get the
   * conversion of the moment, so the earlier ones are overwritten, as on a host that late.
   */
  #arm(periodMs: number): void {
    const next = this.#t0 + (this.#signalled + 2) * periodMs;
    // A driver reacting to an edge may stop or restart the model (a stall's re-init): this timer then stops.
    const timer: NodeJS.Timeout = setTimeout(
      () => {
        const due = this.#clock!();
        for (let n = this.#signalled + 1; n <= due && this.#timer === timer; n++) {
          this.#signalled = n;
          this.onDataReady?.(1);
          this.onDataReady?.(0, this.#t0 + (n + 1) * periodMs);
        }
        if (this.#timer === timer) this.#arm(periodMs);
      },
      Math.max(0, next - monotonicMs()),
    );
    this.#timer = timer;
  }

  #stop(): void {
    this.running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
