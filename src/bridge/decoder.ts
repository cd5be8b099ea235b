/**
 * Incremental decoder for the device-to-host byte stream (docs/protocol.md).
 *
 * Feed it chunks of any size with `push`; it calls the handlers once per good frame, in
 * stream order, and counts every bad frame under exactly one `BadKind`. Any chunking of
 * the same bytes gives the same calls. It never throws on input (a handler that throws
 * is a bug in the handler: the error propagates after the decoder has finished the
 * frame, and the rest of that chunk is dropped).
 *
 * Steady state allocates nothing: bytes go into one preallocated 1030-byte accumulator,
 * COBS is undone in place, and SAMPLES are unpacked straight into a SampleBlock reused
 * per (channels, samples) shape. That block, the header and the TRACKER structure passed
 * to handlers are ONLY VALID DURING THE CALL: copy what you keep.
 */
import { createBlock, type SampleBlock } from '../core/block.js';
import { Counters } from '../core/counters.js';
import { nullLogger, type Logger } from '../core/log.js';
import { cobsDecodeInPlace } from './cobs.js';
import { crc16 } from './crc16.js';
import {
  FrameType,
  MAX_ENCODED,
  PACKET_OVERHEAD,
  PROTO_MAJOR,
  SAMPLES_FIXED,
  parseAck,
  parseError,
  parseHeartbeat,
  parseHello,
  parseHelloVersion,
  parsePong,
  parseSamplesHeader,
  parseTracker,
  BAD_KINDS,
  type Ack,
  type BadKind,
  type DeviceError,
  type Heartbeat,
  type Hello,
  type Pong,
  type SamplesHeader,
  type TrackerFrame,
} from './frames.js';

/** A jump in the SAMPLES sequence other than +1 frame / +N samples. */
export interface SampleGap {
  /** seq of the last block received before the gap (u32 as sent). */
  fromSeq: number;
  /** seq of the first block after it. */
  toSeq: number;
  /** Frames missing between them: toSeq - fromSeq - 1 (negative if the device went backwards). */
  missingFrames: number;
  /** Samples missing: first_sample after the gap minus the one expected. */
  missingSamples: number;
  /** Device time between the first samples of the blocks either side of the gap, µs. */
  deviceSpanUs: number;
}

/** `seq` returned to 0: the device restarted its stream (START or a reset). */
export interface StreamRestart {
  lastSeq: number;
  lastFirstSample: number;
  lastTUs: number;
  /** t_us of the new stream's first block. */
  tUs: number;
}

export interface ForeignHello {
  /** The packet's version byte. */
  version: number;
  protoMajor: number;
  protoMinor: number;
}

export interface BridgeDecoderHandlers {
  /** `block` and `header` are reused: valid only during the call. */
  onSamples?(block: SampleBlock, header: Readonly<SamplesHeader>): void;
  onHello?(hello: Hello): void;
  /** A HELLO from a protocol major this host does not speak (section 5). */
  onForeignHello?(v: ForeignHello): void;
  onAck?(ack: Ack): void;
  onError?(err: DeviceError): void;
  onPong?(pong: Pong): void;
  onHeartbeat?(hb: Heartbeat): void;
  /** `frame.values` is reused: valid only during the call. */
  onTracker?(frame: TrackerFrame): void;
  onGap?(gap: SampleGap): void;
  onRestart?(r: StreamRestart): void;
  onBad?(kind: BadKind): void;
}

export interface BridgeDecoderOptions {
  /** Nominal sample rate for the blocks, Hz (NaN until known; see `setRate`). */
  rate?: number;
  /** Stream id of the blocks. */
  stream?: string;
  logger?: Logger;
}

/** Rate-limit keys, made once so a bad frame costs no string building for the key. */
const LOG_KEYS: Record<BadKind, string> = Object.fromEntries(BAD_KINDS.map((k) => [k, `bridge.${k}`])) as Record<BadKind, string>;

export type DecoderCounterKey = BadKind | 'gaps' | 'restarts' | 'missing_frames' | 'missing_samples' | 'hello_foreign';

export interface DecoderStats {
  /** Good frames of any type. */
  frames: number;
  samplesFrames: number;
  /** Samples (not samples x channels) passed on. */
  samples: number;
  bytes: number;
  /** Frames counted bad, all kinds. */
  bad: number;
  counters: Record<string, number>;
}

export class BridgeDecoder {
  readonly counters = new Counters<DecoderCounterKey>();
  readonly #h: BridgeDecoderHandlers;
  readonly #log: Logger;
  readonly #stream: string;
  readonly #acc = new Uint8Array(MAX_ENCODED);
  readonly #dv = new DataView(this.#acc.buffer);
  #accLen = 0;
  /** Past MAX_ENCODED without a delimiter: drop bytes until the next 0x00. */
  #skipping = false;
  #rate: number;
  readonly #blocks = new Map<number, SampleBlock>();
  readonly #trackers = new Map<number, TrackerFrame>();
  readonly #header: SamplesHeader = { seq: 0, firstSample: 0, tUs: 0, uvPerLsb: 0, channels: 0, samples: 0, format: 0 };
  readonly #reuseTracker = (dims: number): TrackerFrame => {
    let t = this.#trackers.get(dims);
    if (!t) {
      t = { seq: 0, tUs: 0, values: new Float32Array(dims) };
      this.#trackers.set(dims, t);
    }
    return t;
  };

  // Gap tracking: the previous SAMPLES frame, and 53-bit extensions of seq / first_sample.
  #hasPrev = false;
  #prevSeq = 0;
  #prevFirst = 0;
  #prevN = 0;
  #prevTUs = 0;
  #extSeq = 0;
  #extFirst = 0;

  #frames = 0;
  #samplesFrames = 0;
  #samples = 0;
  #bytes = 0;
  #bad = 0;

  constructor(handlers: BridgeDecoderHandlers = {}, opts: BridgeDecoderOptions = {}) {
    this.#h = handlers;
    this.#log = opts.logger ?? nullLogger();
    this.#stream = opts.stream ?? 'emg';
    this.#rate = opts.rate ?? Number.NaN;
  }

  get rate(): number {
    return this.#rate;
  }

  /** Nominal rate for blocks from now on (from HELLO / CONFIG). */
  setRate(hz: number): void {
    if (hz === this.#rate) return;
    this.#rate = hz;
    this.#blocks.clear();
  }

  /**
   * Forget any partial frame and the gap tracking: for a new connection, where the
   * first bytes may be the tail of a frame and sequence numbers start afresh.
   */
  reset(): void {
    this.#accLen = 0;
    this.#skipping = false;
    this.#hasPrev = false;
  }

  push(chunk: Uint8Array): void {
    const len = chunk.length;
    this.#bytes += len;
    const acc = this.#acc;
    let i = 0;
    while (i < len) {
      if (this.#skipping) {
        const z = chunk.indexOf(0, i);
        if (z < 0) return;
        this.#skipping = false;
        i = z + 1;
        continue;
      }
      // Copy up to the delimiter, the end of the chunk, or the accumulator's limit,
      // whichever comes first: one pass that both scans and copies.
      let a = this.#accLen;
      let k = i;
      const stop = Math.min(len, i + (MAX_ENCODED - a));
      // Four bytes per step while none is the delimiter (a third faster in V8), then bytewise.
      while (k + 4 <= stop) {
        const b0 = chunk[k]!;
        const b1 = chunk[k + 1]!;
        const b2 = chunk[k + 2]!;
        const b3 = chunk[k + 3]!;
        if (b0 === 0 || b1 === 0 || b2 === 0 || b3 === 0) break;
        acc[a] = b0;
        acc[a + 1] = b1;
        acc[a + 2] = b2;
        acc[a + 3] = b3;
        a += 4;
        k += 4;
      }
      let b: number;
      while (k < stop && (b = chunk[k]!) !== 0) {
        acc[a++] = b;
        k++;
      }
      if (k < len && chunk[k] === 0) {
        this.#accLen = 0;
        i = k + 1;
        if (a > 0) this.#frame(a);
      } else if (k === len) {
        this.#accLen = a;
        return;
      } else {
        // A non-zero byte past MAX_ENCODED: drop this frame up to the next delimiter.
        this.#accLen = 0;
        this.#skipping = true;
        i = k;
        this.#badFrame('oversize');
      }
    }
  }

  stats(): DecoderStats {
    return {
      frames: this.#frames,
      samplesFrames: this.#samplesFrames,
      samples: this.#samples,
      bytes: this.#bytes,
      bad: this.#bad,
      counters: this.counters.snapshot(),
    };
  }

  #badFrame(kind: BadKind): void {
    this.#bad++;
    this.counters.inc(kind);
    this.#log.limited(
      'warn',
      LOG_KEYS[kind],
      `firmware-bridge: dropped a frame (${kind}), ${this.counters.get(kind)} so far; check the cable, baud rate and firmware version if this keeps happening`,
    );
    this.#h.onBad?.(kind);
  }

  /** One COBS frame is in acc[0, encLen). */
  #frame(encLen: number): void {
    const acc = this.#acc;
    const n = cobsDecodeInPlace(acc, 0, encLen);
    if (n < 0) return this.#badFrame('bad_cobs');
    if (n < PACKET_OVERHEAD) return this.#badFrame('truncated');
    // The packet is at acc[1, 1 + n).
    const crcAt = n - 1;
    if (crc16(acc, 1, crcAt) !== (acc[crcAt]! | (acc[crcAt + 1]! << 8))) return this.#badFrame('bad_crc');
    const version = acc[1]!;
    const type = acc[2]!;
    const off = 3;
    const plen = n - PACKET_OVERHEAD;
    const dv = this.#dv;
    if (version !== PROTO_MAJOR) {
      if (type !== FrameType.HELLO) return this.#badFrame('wrong_version');
      const v = parseHelloVersion(dv, off, plen);
      if (typeof v === 'string') return this.#badFrame(v);
      this.#frames++;
      this.counters.inc('hello_foreign');
      this.#h.onForeignHello?.({ version, protoMajor: v.protoMajor, protoMinor: v.protoMinor });
      return;
    }
    switch (type) {
      case FrameType.SAMPLES:
        return this.#samplesFrame(off, plen);
      case FrameType.HELLO: {
        const r = parseHello(dv, off, plen);
        if (typeof r === 'string') return this.#badFrame(r);
        this.#frames++;
        this.#h.onHello?.(r);
        return;
      }
      case FrameType.ACK: {
        const r = parseAck(dv, off, plen);
        if (typeof r === 'string') return this.#badFrame(r);
        this.#frames++;
        this.#h.onAck?.(r);
        return;
      }
      case FrameType.ERROR: {
        const r = parseError(dv, off, plen);
        if (typeof r === 'string') return this.#badFrame(r);
        this.#frames++;
        this.#h.onError?.(r);
        return;
      }
      case FrameType.PONG: {
        const r = parsePong(dv, off, plen);
        if (typeof r === 'string') return this.#badFrame(r);
        this.#frames++;
        this.#h.onPong?.(r);
        return;
      }
      case FrameType.HEARTBEAT: {
        const r = parseHeartbeat(dv, off, plen);
        if (typeof r === 'string') return this.#badFrame(r);
        this.#frames++;
        this.#h.onHeartbeat?.(r);
        return;
      }
      case FrameType.TRACKER: {
        const r = parseTracker(dv, off, plen, this.#reuseTracker);
        if (typeof r === 'string') return this.#badFrame(r);
        this.#frames++;
        this.#h.onTracker?.(r);
        return;
      }
      default:
        return this.#badFrame('unknown_type');
    }
  }

  #samplesFrame(off: number, plen: number): void {
    const h = this.#header;
    const fault = parseSamplesHeader(this.#dv, off, plen, h);
    if (fault) return this.#badFrame(fault);
    const C = h.channels;
    const N = h.samples;
    this.#track(h);
    const key = C | (N << 8);
    let block = this.#blocks.get(key);
    if (!block) {
      block = createBlock({ stream: this.#stream, channels: C, samples: N, rate: this.#rate, unit: 'uV' });
      this.#blocks.set(key, block);
    }
    const acc = this.#acc;
    const data = block.data;
    const scale = h.uvPerLsb;
    let p = off + SAMPLES_FIXED;
    if ((C & 3) === 0) {
      // Four int24 values from three little-endian u32 loads (all in one sample, as C % 4 == 0).
      const dv = this.#dv;
      for (let i = 0; i < N; i++) {
        for (let q = i, c = 0; c < C; c += 4, q += 4 * N, p += 12) {
          const w0 = dv.getUint32(p, true);
          const w1 = dv.getUint32(p + 4, true);
          const w2 = dv.getUint32(p + 8, true);
          data[q] = ((w0 << 8) >> 8) * scale;
          data[q + N] = ((((w0 >>> 24) | (w1 << 8)) << 8) >> 8) * scale;
          data[q + 2 * N] = ((((w1 >>> 16) | (w2 << 16)) << 8) >> 8) * scale;
          data[q + 3 * N] = (w2 >> 8) * scale;
        }
      }
    } else {
      for (let i = 0; i < N; i++) {
        for (let c = 0, q = i; c < C; c++, q += N, p += 3) {
          data[q] = (((acc[p]! | (acc[p + 1]! << 8) | (acc[p + 2]! << 16)) << 8) >> 8) * scale;
        }
      }
    }
    block.seq = this.#extSeq;
    block.firstSample = this.#extFirst;
    block.deviceTimeUs = h.tUs;
    block.hostTimeMs = Number.NaN;
    block.hostPeriodMs = 1000 / this.#rate;
    block.valid = true;
    this.#frames++;
    this.#samplesFrames++;
    this.#samples += N;
    this.#h.onSamples?.(block, h);
  }

  /** Compare with the previous SAMPLES frame: report gaps and restarts, extend counters. */
  #track(h: SamplesHeader): void {
    if (this.#hasPrev) {
      const expSeq = (this.#prevSeq + 1) >>> 0;
      const expFirst = (this.#prevFirst + this.#prevN) >>> 0;
      if (h.seq === expSeq && h.firstSample === expFirst) {
        this.#extSeq += 1;
        this.#extFirst += this.#prevN;
      } else if (h.seq === 0) {
        this.counters.inc('restarts');
        this.#h.onRestart?.({ lastSeq: this.#prevSeq, lastFirstSample: this.#prevFirst, lastTUs: this.#prevTUs, tUs: h.tUs });
        this.#extSeq = 0;
        this.#extFirst = h.firstSample;
      } else {
        const dSeq = (h.seq - this.#prevSeq) | 0;
        const dFirst = (h.firstSample - expFirst) | 0;
        const gap: SampleGap = {
          fromSeq: this.#prevSeq,
          toSeq: h.seq,
          missingFrames: dSeq - 1,
          missingSamples: dFirst,
          deviceSpanUs: h.tUs - this.#prevTUs,
        };
        this.counters.inc('gaps');
        if (gap.missingFrames > 0) this.counters.inc('missing_frames', gap.missingFrames);
        if (gap.missingSamples > 0) this.counters.inc('missing_samples', gap.missingSamples);
        this.#log.limited(
          'warn',
          'bridge.gap',
          `firmware-bridge: ${gap.missingFrames} SAMPLES frames (${gap.missingSamples} samples) missing after seq ${gap.fromSeq}`,
        );
        this.#extSeq += dSeq;
        this.#extFirst += this.#prevN + dFirst;
        this.#h.onGap?.(gap);
      }
    } else {
      this.#hasPrev = true;
      this.#extSeq = h.seq;
      this.#extFirst = h.firstSample;
    }
    this.#prevSeq = h.seq;
    this.#prevFirst = h.firstSample;
    this.#prevN = h.samples;
    this.#prevTUs = h.tUs;
  }
}
