import { createBlock, type SampleBlock } from '../../core/block.js';
import { Counters } from '../../core/counters.js';
import { CytonAuxDecoder } from './aux.js';
import {
  CYTON_CHANNELS,
  CYTON_DEFAULT_GAIN,
  CYTON_HEADER,
  CYTON_PACKET_BYTES,
  CYTON_PERIOD_US,
  CYTON_RATE_HZ,
  DAISY_CHANNELS,
  DAISY_PERIOD_US,
  DAISY_RATE_HZ,
  Footer,
  isFooter,
  microvoltsPerCount,
  readInt24BE,
  readUint32BE,
} from './format.js';
import type { CytonAuxEvent, CytonCounterKey, CytonGapEvent } from './events.js';

export type { CytonAccelEvent, CytonAuxEvent, CytonCounterKey, CytonGapEvent, CytonRawAuxEvent, CytonTimeSyncEvent } from './events.js';

export interface CytonParserOptions {
  /** ADS1299 gain of every channel (board file `source.gain`); default 24. */
  gain?: number;
  /**
   * 8 (default): the Cyton alone, a sample per packet at 250 Hz. 16: Cyton + Daisy, an odd
   * packet (board channels 1..8) and the even packet after it (Daisy channels 9..16) make one
   * sample at 125 Hz; a pair missing either half is a dropped sample.
   */
  channels?: 8 | 16;
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
 * Device time (`deviceTimeUs` of a block, its first sample): the stream index x the sample
 * period (4000 µs, 8000 with a Daisy), i.e. the ADS1299's own sample clock; when the packet
 * starting the block has a time-stamped footer (0xC3..0xC6), the board's millisecond
 * timestamp x 1000 instead. See docs/cyton.md.
 *
 * With a Daisy (`channels: 16`) the u8 sample number counts packets, two per sample: it is
 * unwrapped into a packet count whose parity is the sample number's (256 is even), odd
 * packet 2k+1 and even packet 2k+2 being the halves of sample k (document, "16 Channel Data
 * with Daisy Module": odd numbers carry the board's channels, even ones the Daisy's).
 */
export class CytonParser {
  readonly #pkt = new Uint8Array(CYTON_PACKET_BYTES);
  #fill = 0;
  readonly #scale: number;
  readonly #n: number;
  readonly #nch: number;
  readonly #periodUs: number;
  /** Cyton + Daisy: packets are paired into samples. */
  readonly #pairs: boolean;
  readonly #stream: string;
  readonly #counters: Counters<CytonCounterKey>;
  readonly #onBlock: CytonParserOptions['onBlock'];
  readonly #onGap: CytonParserOptions['onGap'];
  readonly #aux: CytonAuxDecoder;

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

  // Cyton + Daisy pairing (unused with 8 channels).
  /** Unwrapped packet count of the last packet; its parity is the u8 sample number's. */
  #lastPacket = 0;
  /** Unwrapped packet count minus the u8 sample number, fixed at a (re)start: raw numbers from counts. */
  #packetOffset = 0;
  /** Stream index of the sample whose board half waits in #half; NaN when none waits. */
  #pendingSample = Number.NaN;
  readonly #half = new Float32Array(CYTON_CHANNELS);
  #halfTimeUs = 0;
  /** Stream index the next sample should have: a higher one means samples were lost. */
  #expected = 0;
  /** Host arrival of the first packet since the (re)start: where a gap before any sample begins. */
  #firstRxMs = Number.NaN;
  #sinceRestart = 0;

  constructor(opts: CytonParserOptions) {
    const n = opts.blockSamples ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 250) {
      throw new RangeError(`blockSamples must be an integer in 1..250, got ${n}`);
    }
    this.#n = n;
    const channels = opts.channels ?? CYTON_CHANNELS;
    if (channels !== CYTON_CHANNELS && channels !== DAISY_CHANNELS) {
      throw new RangeError(`channels must be 8 (Cyton) or 16 (Cyton + Daisy), got ${String(channels)}`);
    }
    this.#pairs = channels === DAISY_CHANNELS;
    this.#nch = channels;
    this.#periodUs = this.#pairs ? DAISY_PERIOD_US : CYTON_PERIOD_US;
    this.#scale = microvoltsPerCount(opts.gain ?? CYTON_DEFAULT_GAIN);
    this.#stream = opts.stream ?? 'emg';
    this.#counters = opts.counters ?? new Counters<CytonCounterKey>();
    this.#onBlock = opts.onBlock;
    this.#onGap = opts.onGap;
    this.#aux = new CytonAuxDecoder(this.#counters, opts.onAux);
    this.#blocks = new Array<SampleBlock | undefined>(n).fill(undefined);
    this.#blocks[n - 1] = this.#makeBlock(n);
  }

  get stream(): string {
    return this.#stream;
  }

  get counters(): Counters<CytonCounterKey> {
    return this.#counters;
  }

  /** Channels per sample: 8, or 16 with a Daisy. */
  get channels(): number {
    return this.#nch;
  }

  /** One sample period in µs: 4000, or 8000 with a Daisy. */
  get periodUs(): number {
    return this.#periodUs;
  }

  /** Stream index the next in-sequence sample will get. */
  get nextSample(): number {
    return this.#lastIndex >= 0 ? this.#lastIndex + 1 : this.#nextBase;
  }

  /** Host arrival (monotonic ms) of the last sample decoded (with a Daisy: of its second half), NaN before the first. */
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
    for (let c = 0; c < this.#nch; c++) {
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
    this.#aux.clearPartial();
    this.#pendingSample = Number.NaN;
    this.#expected = nextSample;
    this.#sinceRestart = 0;
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
    const step = this.#lastSn < 0 ? 0 : (sn - this.#lastSn) & 0xff;
    if (this.#lastSn >= 0 && step === 0) {
      this.#counters.inc('repeated_sample');
      return;
    }
    const footer = pkt[CYTON_PACKET_BYTES - 1]!;
    const timed = footer >= Footer.TIME_SET_ACCEL && footer <= Footer.TIME_RAW_AUX;
    if (this.#pairs) {
      this.#counters.inc('packets');
      this.#daisyPacket(sn, step, hostRxMs, timed ? this.#unwrapBoardMs(readUint32BE(pkt, 28)) : Number.NaN, footer);
      return;
    }
    let index: number;
    if (this.#lastSn < 0) {
      index = this.#nextBase;
    } else {
      index = this.#lastIndex + step;
      if (step > 1) this.#gap(this.#lastIndex + 1, step - 1, this.#lastRxMs, hostRxMs, this.#lastSn, sn);
    }
    this.#lastSn = sn;
    this.#lastIndex = index;
    this.#lastRxMs = hostRxMs;
    this.#counters.inc('packets');

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

    this.#aux.decode(pkt, footer, index, boardMs);
    if (this.#blockFill === n) this.#emit(full, hostRxMs);
  }

  /**
   * One packet of a Cyton + Daisy stream. An odd packet's channels wait for the even packet
   * after it; together they are one sample. A half whose partner never came is dropped, and
   * the sample it belonged to reported as a `dropped` gap when the next sample completes.
   */
  #daisyPacket(sn: number, step: number, hostRxMs: number, boardMs: number, footer: number): void {
    let p: number;
    if (this.#lastSn < 0) {
      // Anchor so that the first odd packet is sample #nextBase: p = 2 * nextBase + 1.
      p = 2 * this.#nextBase + (sn & 1 ? 1 : 0);
      this.#packetOffset = p - sn;
      this.#firstRxMs = hostRxMs;
    } else {
      p = this.#lastPacket + step;
      // Accelerometer bytes from either side of a hole must not be combined.
      if (step > 1) this.#aux.clearPartial();
    }
    this.#lastSn = sn;
    this.#lastPacket = p;
    const sample = Math.floor((p - 1) / 2);
    // Only an even packet before the first odd one falls below: the document's "first sample
    // sent will be invalid" (a Daisy average with nothing before it). Not part of the stream.
    if (sample < this.#expected) return;
    this.#aux.decode(this.#pkt, footer, sample, boardMs);
    const pkt = this.#pkt;
    if (p % 2 === 1) {
      for (let c = 0; c < CYTON_CHANNELS; c++) this.#half[c] = readInt24BE(pkt, 2 + 3 * c) * this.#scale;
      this.#pendingSample = sample;
      this.#halfTimeUs = Number.isNaN(boardMs) ? sample * DAISY_PERIOD_US : boardMs * 1000;
      return;
    }
    if (this.#pendingSample !== sample) return; // its board half was lost: the sample is missing
    this.#pendingSample = Number.NaN;
    if (sample > this.#expected) {
      const missing = sample - this.#expected;
      const from = this.#sinceRestart > 0 ? this.#lastRxMs : this.#firstRxMs;
      this.#gap(this.#expected, missing, from, hostRxMs, this.#seqOf(this.#expected - 1), this.#seqOf(sample));
    }
    this.#expected = sample + 1;
    this.#sinceRestart++;
    this.#lastIndex = sample;
    this.#lastRxMs = hostRxMs;

    const n = this.#n;
    const full = this.#blocks[n - 1]!;
    if (this.#blockFill === 0) {
      this.#blockFirst = sample;
      this.#blockSeq = this.#seqOf(sample);
      this.#blockTimeUs = this.#halfTimeUs;
    }
    const data = full.data;
    const col = this.#blockFill;
    for (let c = 0; c < CYTON_CHANNELS; c++) {
      data[c * n + col] = this.#half[c]!;
      data[(c + CYTON_CHANNELS) * n + col] = readInt24BE(pkt, 2 + 3 * c) * this.#scale;
    }
    this.#blockFill++;
    if (this.#blockFill === n) this.#emit(full, hostRxMs);
  }

  /** The u8 sample number of sample `k`'s first (board) packet. */
  #seqOf(k: number): number {
    return (2 * k + 1 - this.#packetOffset) & 0xff;
  }

  #emit(block: SampleBlock, hostRxMs: number): void {
    block.firstSample = this.#blockFirst;
    block.seq = this.#blockSeq;
    block.deviceTimeUs = this.#blockTimeUs;
    block.valid = true;
    this.#blockFill = 0;
    this.#onBlock(block, hostRxMs);
  }

  #gap(fromSample: number, missing: number, hostFromMs: number, hostRxMs: number, fromSeq: number, toSeq: number): void {
    this.flush(hostRxMs);
    this.#aux.clearPartial();
    this.#counters.inc('gaps');
    this.#counters.inc('dropped_samples', missing);
    this.#onGap?.({
      stream: this.#stream,
      reason: 'dropped',
      fromSample,
      missingSamples: missing,
      deviceTimeUs: fromSample * this.#periodUs,
      deviceSpanUs: (missing + 1) * this.#periodUs,
      hostFromMs,
      hostToMs: hostRxMs,
      hostSpanMs: hostRxMs - hostFromMs,
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

  #makeBlock(samples: number): SampleBlock {
    return createBlock({ stream: this.#stream, channels: this.#nch, samples, rate: this.#pairs ? DAISY_RATE_HZ : CYTON_RATE_HZ, unit: 'uV' });
  }
}
