import { createBlock, type SampleBlock } from '../../core/block.js';
import { Counters } from '../../core/counters.js';
import {
  ACCEL_G_PER_COUNT,
  CYTON_CHANNELS,
  CYTON_DEFAULT_GAIN,
  CYTON_HEADER,
  CYTON_PACKET_BYTES,
  CYTON_PERIOD_US,
  CYTON_RATE_HZ,
  Footer,
  isFooter,
  microvoltsPerCount,
  readInt16BE,
  readInt24BE,
  readUint32BE,
} from './format.js';
import type { CytonAuxEvent, CytonCounterKey, CytonGapEvent } from './events.js';

export type { CytonAccelEvent, CytonAuxEvent, CytonCounterKey, CytonGapEvent, CytonRawAuxEvent, CytonTimeSyncEvent } from './events.js';

export interface CytonParserOptions {
  /** ADS1299 gain of every channel (board file `source.gain`); default 24. */
  gain?: number;
  /** Samples per emitted block; default 1 (a block per packet, no added latency). */
  blockSamples?: number;
  /** Stream id of the blocks; default "emg". */
  stream?: string;
  /** Counters to count into; default a fresh set (see `counters`). */
  counters?: Counters<CytonCounterKey>;
  /** A full block. The block object is reused: valid until the next call, copy what you keep. */
  onBlock: (block: SampleBlock, hostRxMs: number) => void;
  onAux?: (event: CytonAuxEvent) => void;
  onGap?: (event: CytonGapEvent) => void;
}

const AC_X = 0x58,
  AC_x = 0x78,
  AC_Y = 0x59,
  AC_y = 0x79,
  AC_Z = 0x5a,
  AC_z = 0x7a;

/**
 * Incremental Cyton packet parser: bytes in, sample blocks (µV, channel-major) out.
 *
 * A byte-at-a-time state machine over one preallocated 33-byte buffer, so any chunking of
 * the same bytes gives the same output, and steady-state parsing allocates nothing (blocks
 * and aux events are preallocated and reused).
 *
 * Sample index: the u8 sample number is unwrapped into a stream index starting at
 * `restart(next)`'s value (0 at construction). A step of k > 1 is a gap of k-1 samples;
 * steps of 256 or more alias (the session's stall timeout, well under 256 samples, bounds them).
 *
 * Device time (`deviceTimeUs` of a block, its first sample): the stream index x 4000 µs, i.e.
 * the ADS1299's own sample clock; when the packet starting the block has a time-stamped
 * footer (0xC3..0xC6), the board's millisecond timestamp x 1000 instead. See docs/cyton.md.
 */
export class CytonParser {
  readonly #pkt = new Uint8Array(CYTON_PACKET_BYTES);
  #fill = 0;
  readonly #scale: number;
  readonly #n: number;
  readonly #stream: string;
  readonly #counters: Counters<CytonCounterKey>;
  readonly #onBlock: CytonParserOptions['onBlock'];
  readonly #onAux: CytonParserOptions['onAux'];
  readonly #onGap: CytonParserOptions['onGap'];

  /** blocks[k] holds k+1 samples; blocks[n-1] is the full one, others only for flushes. */
  readonly #blocks: Array<SampleBlock | undefined>;
  #blockFill = 0;
  #blockFirst = 0;
  #blockSeq = 0;
  #blockTimeUs = 0;

  #lastSn = -1;
  #lastIndex = -1;
  /** Host arrival of the last packet accepted (kept across restart(): the outage gap starts there). */
  #lastRxMs = Number.NaN;
  #nextBase = 0;
  #lastBoardMs = -1;
  #boardWrapMs = 0;

  // Accelerometer assembly for time-stamped packets (one byte per packet, see docs/cyton.md).
  readonly #accHi = new Int32Array(3);
  readonly #accVal = new Int32Array(3);
  #accHiSet = 0;
  #accHave = 0;

  readonly #accel = { kind: 'accel' as const, sample: 0, x: 0, y: 0, z: 0, boardTimeMs: Number.NaN };
  readonly #raw = { kind: 'raw' as const, sample: 0, footer: 0, bytes: new Uint8Array(6), boardTimeMs: Number.NaN };
  readonly #sync = { kind: 'time_sync' as const, sample: 0, boardTimeMs: 0 };

  constructor(opts: CytonParserOptions) {
    const n = opts.blockSamples ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 250) {
      throw new RangeError(`blockSamples must be an integer in 1..250, got ${n}`);
    }
    this.#n = n;
    this.#scale = microvoltsPerCount(opts.gain ?? CYTON_DEFAULT_GAIN);
    this.#stream = opts.stream ?? 'emg';
    this.#counters = opts.counters ?? new Counters<CytonCounterKey>();
    this.#onBlock = opts.onBlock;
    this.#onAux = opts.onAux;
    this.#onGap = opts.onGap;
    this.#blocks = new Array<SampleBlock | undefined>(n).fill(undefined);
    this.#blocks[n - 1] = this.#makeBlock(n);
  }

  get stream(): string {
    return this.#stream;
  }

  get counters(): Counters<CytonCounterKey> {
    return this.#counters;
  }

  /** Stream index the next in-sequence packet will get. */
  get nextSample(): number {
    return this.#lastIndex >= 0 ? this.#lastIndex + 1 : this.#nextBase;
  }

  /** Host arrival (monotonic ms) of the last packet decoded, NaN before the first. */
  get lastPacketRxMs(): number {
    return this.#lastRxMs;
  }

  /** Feed bytes as they arrive. `hostRxMs` (monotonic ms of arrival) is passed to onBlock. */
  push(chunk: Uint8Array, hostRxMs = Number.NaN): void {
    const pkt = this.#pkt;
    let garbage = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.#fill === 0) {
        if (b === CYTON_HEADER) {
          pkt[0] = b;
          this.#fill = 1;
        } else {
          garbage++;
        }
        continue;
      }
      pkt[this.#fill++] = b;
      if (this.#fill < CYTON_PACKET_BYTES) continue;
      if (isFooter(pkt[CYTON_PACKET_BYTES - 1]!)) {
        this.#fill = 0;
        this.#packet(hostRxMs);
      } else {
        this.#counters.inc('bad_footer');
        garbage += this.#resync();
      }
    }
    if (garbage > 0) this.#counters.inc('garbage_bytes', garbage);
  }

  /** Emit a partly filled block now (at stop, before a restart). */
  flush(hostRxMs = Number.NaN): void {
    if (this.#blockFill === 0) return;
    const k = this.#blockFill;
    let block = this.#blocks[k - 1];
    if (!block) {
      block = this.#makeBlock(k);
      this.#blocks[k - 1] = block;
    }
    const full = this.#blocks[this.#n - 1]!.data;
    for (let c = 0; c < CYTON_CHANNELS; c++) {
      block.data.set(full.subarray(c * this.#n, c * this.#n + k), c * k);
    }
    this.#emit(block, hostRxMs);
  }

  /**
   * A new session (reconnect, restart): flush, forget framing and the sample-number history.
   * The next packet gets stream index `nextSample` (default: continue where the stream was).
   * The caller reports the outage as a gap; the parser cannot know its length.
   */
  restart(nextSample = this.nextSample): void {
    this.flush();
    this.#fill = 0;
    this.#lastSn = -1;
    this.#lastIndex = -1;
    this.#nextBase = nextSample;
    this.#lastBoardMs = -1;
    this.#boardWrapMs = 0;
    this.#accHiSet = 0;
    this.#accHave = 0;
  }

  /** After a bad footer: restart at the next 0xA0 inside the rejected bytes. Returns bytes dropped. */
  #resync(): number {
    const pkt = this.#pkt;
    for (let k = 1; k < CYTON_PACKET_BYTES; k++) {
      if (pkt[k] === CYTON_HEADER) {
        pkt.copyWithin(0, k, CYTON_PACKET_BYTES);
        this.#fill = CYTON_PACKET_BYTES - k;
        // The kept tail may itself end a packet only after more bytes: fill < 33 here.
        return k;
      }
    }
    this.#fill = 0;
    return CYTON_PACKET_BYTES;
  }

  #packet(hostRxMs: number): void {
    const pkt = this.#pkt;
    const sn = pkt[1]!;
    let index: number;
    if (this.#lastSn < 0) {
      index = this.#nextBase;
    } else {
      const step = (sn - this.#lastSn) & 0xff;
      if (step === 0) {
        this.#counters.inc('repeated_sample');
        return;
      }
      index = this.#lastIndex + step;
      if (step > 1) this.#gap(this.#lastIndex + 1, step - 1, hostRxMs, this.#lastSn, sn);
    }
    this.#lastSn = sn;
    this.#lastIndex = index;
    this.#lastRxMs = hostRxMs;
    this.#counters.inc('packets');

    const footer = pkt[CYTON_PACKET_BYTES - 1]!;
    const timed = footer >= Footer.TIME_SET_ACCEL && footer <= Footer.TIME_RAW_AUX;
    const boardMs = timed ? this.#unwrapBoardMs(readUint32BE(pkt, 28)) : Number.NaN;

    const n = this.#n;
    const full = this.#blocks[n - 1]!;
    if (this.#blockFill === 0) {
      this.#blockFirst = index;
      this.#blockSeq = sn;
      this.#blockTimeUs = timed ? boardMs * 1000 : index * CYTON_PERIOD_US;
    }
    const data = full.data;
    const col = this.#blockFill;
    for (let c = 0; c < CYTON_CHANNELS; c++) {
      data[c * n + col] = readInt24BE(pkt, 2 + 3 * c) * this.#scale;
    }
    this.#blockFill++;

    this.#aux(footer, index, boardMs);
    if (this.#blockFill === n) this.#emit(full, hostRxMs);
  }

  #emit(block: SampleBlock, hostRxMs: number): void {
    block.firstSample = this.#blockFirst;
    block.seq = this.#blockSeq;
    block.deviceTimeUs = this.#blockTimeUs;
    block.valid = true;
    this.#blockFill = 0;
    this.#onBlock(block, hostRxMs);
  }

  #gap(fromSample: number, missing: number, hostRxMs: number, fromSeq: number, toSeq: number): void {
    this.flush(hostRxMs);
    this.#accHiSet = 0;
    this.#accHave = 0;
    this.#counters.inc('gaps');
    this.#counters.inc('dropped_samples', missing);
    this.#onGap?.({
      stream: this.#stream,
      reason: 'dropped',
      fromSample,
      missingSamples: missing,
      deviceTimeUs: fromSample * CYTON_PERIOD_US,
      deviceSpanUs: (missing + 1) * CYTON_PERIOD_US,
      hostFromMs: this.#lastRxMs,
      hostToMs: hostRxMs,
      hostSpanMs: hostRxMs - this.#lastRxMs,
      fromSeq,
      toSeq,
    });
  }

  #unwrapBoardMs(ms: number): number {
    // u32 milliseconds wrap after 49.7 days; a large backwards step is a wrap, a small one is jitter.
    if (this.#lastBoardMs >= 0 && ms + this.#boardWrapMs < this.#lastBoardMs - 2 ** 31) {
      this.#boardWrapMs += 2 ** 32;
    }
    const t = ms + this.#boardWrapMs;
    this.#lastBoardMs = t;
    return t;
  }

  #aux(footer: number, index: number, boardMs: number): void {
    const pkt = this.#pkt;
    const onAux = this.#onAux;
    switch (footer) {
      case Footer.STANDARD_ACCEL: {
        // All-zero aux means "no new reading in this packet" (the document: unused bytes read 0).
        if ((pkt[26]! | pkt[27]! | pkt[28]! | pkt[29]! | pkt[30]! | pkt[31]!) === 0) return;
        const a = this.#accel;
        a.sample = index;
        a.x = readInt16BE(pkt, 26) * ACCEL_G_PER_COUNT;
        a.y = readInt16BE(pkt, 28) * ACCEL_G_PER_COUNT;
        a.z = readInt16BE(pkt, 30) * ACCEL_G_PER_COUNT;
        a.boardTimeMs = Number.NaN;
        onAux?.(a);
        return;
      }
      case Footer.TIME_SET_ACCEL:
      case Footer.TIME_ACCEL:
        if (footer === Footer.TIME_SET_ACCEL) this.#timeSync(index, boardMs);
        this.#accelByte(pkt[26]!, pkt[27]!, index, boardMs);
        return;
      case Footer.TIME_SET_RAW_AUX:
      case Footer.TIME_RAW_AUX:
        if (footer === Footer.TIME_SET_RAW_AUX) this.#timeSync(index, boardMs);
        this.#rawAux(footer, index, boardMs);
        return;
      case Footer.RAW_AUX:
      case Footer.USER_DEFINED:
        this.#rawAux(footer, index, Number.NaN);
        return;
      default:
        this.#counters.inc('unknown_footer');
        this.#rawAux(footer, index, Number.NaN);
    }
  }

  #timeSync(index: number, boardMs: number): void {
    const s = this.#sync;
    s.sample = index;
    s.boardTimeMs = boardMs;
    this.#onAux?.(s);
  }

  #rawAux(footer: number, index: number, boardMs: number): void {
    const r = this.#raw;
    r.sample = index;
    r.footer = footer;
    r.bytes.set(this.#pkt.subarray(26, 32));
    r.boardTimeMs = boardMs;
    this.#onAux?.(r);
  }

  /**
   * Time-stamped packets carry one accelerometer byte each: AC names it ('X' high byte of X,
   * 'x' low byte of X, ...), AV is the byte. A reading is emitted once all three axes have had
   * a high byte followed by a low byte. Other AC values mean "no accel byte here".
   */
  #accelByte(ac: number, av: number, index: number, boardMs: number): void {
    let axis: number;
    let high: boolean;
    switch (ac) {
      case AC_X:
        axis = 0;
        high = true;
        break;
      case AC_x:
        axis = 0;
        high = false;
        break;
      case AC_Y:
        axis = 1;
        high = true;
        break;
      case AC_y:
        axis = 1;
        high = false;
        break;
      case AC_Z:
        axis = 2;
        high = true;
        break;
      case AC_z:
        axis = 2;
        high = false;
        break;
      default:
        return;
    }
    const bit = 1 << axis;
    if (high) {
      this.#accHi[axis] = av;
      this.#accHiSet |= bit;
      return;
    }
    if ((this.#accHiSet & bit) === 0) return;
    this.#accHiSet &= ~bit;
    this.#accVal[axis] = (((this.#accHi[axis]! << 8) | av) << 16) >> 16;
    this.#accHave |= bit;
    if (this.#accHave !== 7) return;
    this.#accHave = 0;
    const a = this.#accel;
    a.sample = index;
    a.x = this.#accVal[0]! * ACCEL_G_PER_COUNT;
    a.y = this.#accVal[1]! * ACCEL_G_PER_COUNT;
    a.z = this.#accVal[2]! * ACCEL_G_PER_COUNT;
    a.boardTimeMs = boardMs;
    this.#onAux?.(a);
  }

  #makeBlock(samples: number): SampleBlock {
    return createBlock({ stream: this.#stream, channels: CYTON_CHANNELS, samples, rate: CYTON_RATE_HZ, unit: 'uV' });
  }
}
