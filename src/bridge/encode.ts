/**
 * Frame encoders for both directions, writing into buffers owned by a `FrameWriter`.
 *
 * Each method returns a view of the writer's wire buffer holding one complete frame
 * (COBS-encoded packet plus the 0x00 delimiter). The view is valid until the next call
 * on the same writer: write it (serial backends copy) or copy it before encoding again.
 */
import { cobsEncode } from './cobs.js';
import { crc16 } from './crc16.js';
import {
  ActuatorKind,
  FrameType,
  MAX_ENCODED,
  MAX_PACKET,
  MAX_PAYLOAD,
  PROTO_MAJOR,
  SAMPLES_FIXED,
  TRACKER_FIXED,
  type Ack,
  type ActuateEntry,
  type DeviceError,
  type Heartbeat,
  type Hello,
  type Pong,
  type SamplesFrame,
} from './frames.js';

const TWO32 = 4294967296;
/** (1020 - 6) / 8: what fits in one ACTUATE payload. */
export const MAX_ACTUATE_ENTRIES = 126;

export class FrameWriter {
  readonly #packet = new Uint8Array(MAX_PACKET);
  readonly #dv = new DataView(this.#packet.buffer);
  readonly #wire = new Uint8Array(MAX_ENCODED + 1);
  /** Sender's major version written into every packet; tests change it to make foreign frames. */
  version = PROTO_MAJOR;

  // ---- host to device ----

  helloReq(reqId: number, minMajor: number, maxMajor: number): Uint8Array {
    this.#u16(2, reqId);
    this.#packet[4] = minMajor;
    this.#packet[5] = maxMajor;
    return this.#finish(FrameType.HELLO_REQ, 4);
  }

  start(reqId: number): Uint8Array {
    this.#u16(2, reqId);
    return this.#finish(FrameType.START, 2);
  }

  stop(reqId: number): Uint8Array {
    this.#u16(2, reqId);
    return this.#finish(FrameType.STOP, 2);
  }

  /** 0 for any field means "unchanged" (rate, channels) or "automatic" (block). */
  config(reqId: number, rateHz: number, channels: number, blockSamples: number): Uint8Array {
    this.#u16(2, reqId);
    this.#dv.setUint32(4, rateHz, true);
    this.#packet[8] = channels;
    this.#packet[9] = blockSamples;
    return this.#finish(FrameType.CONFIG, 8);
  }

  actuate(reqId: number, entries: readonly ActuateEntry[]): Uint8Array {
    return this.#actuate(reqId, entries, kindCode);
  }

  /** The raw-kind form of ACTUATE, for sending deliberately invalid kinds in tests. */
  actuateRaw(reqId: number, entries: readonly { channel: number; kind: number; value: number }[]): Uint8Array {
    return this.#actuate(reqId, entries, rawKind);
  }

  /** One encoder for both forms; `kindOf` is a module-level function, so no closure per frame. */
  #actuate<E extends { channel: number; value: number }>(reqId: number, entries: readonly E[], kindOf: (e: E) => number): Uint8Array {
    if (entries.length > MAX_ACTUATE_ENTRIES)
      throw new RangeError(`ACTUATE takes at most ${MAX_ACTUATE_ENTRIES} entries per frame, got ${entries.length}: split the command`);
    this.#u16(2, reqId);
    this.#packet[4] = entries.length;
    this.#packet.fill(0, 5, 8);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const p = 8 + 8 * i;
      this.#packet[p] = e.channel;
      this.#packet[p + 1] = kindOf(e);
      this.#dv.setUint16(p + 2, 0, true);
      this.#dv.setInt32(p + 4, e.value, true);
    }
    return this.#finish(FrameType.ACTUATE, 6 + 8 * entries.length);
  }

  ping(pingId: number, hostToken: bigint | number): Uint8Array {
    this.#dv.setUint32(2, pingId, true);
    this.#u64(6, hostToken);
    return this.#finish(FrameType.PING, 12);
  }

  fault(reqId: number, kind: number, param: number): Uint8Array {
    this.#u16(2, reqId);
    this.#packet[4] = kind;
    this.#packet.fill(0, 5, 8);
    this.#dv.setInt32(8, param, true);
    return this.#finish(FrameType.FAULT, 10);
  }

  // ---- device to host (fakes, tests, benchmarks) ----

  hello(h: Hello): Uint8Array {
    const p = this.#packet;
    p[2] = h.protoMajor;
    p[3] = h.protoMinor;
    p[4] = h.fwMajor;
    p[5] = h.fwMinor;
    p[6] = h.fwPatch;
    p[7] = h.maxChannels;
    p[8] = h.adcBits;
    p[9] = h.nActuators;
    this.#dv.setUint32(10, h.bootId, true);
    this.#dv.setUint32(14, h.rateHz, true);
    p[18] = h.channels;
    p[19] = h.blockSamples;
    p[20] = h.flags;
    p.fill(0, 21, 24);
    const n = this.#ascii(25, h.name, 32);
    p[24] = n;
    return this.#finish(FrameType.HELLO, 23 + n);
  }

  samples(f: SamplesFrame): Uint8Array {
    const n = f.channels * f.samples;
    if (f.counts.length !== n) throw new RangeError(`SAMPLES needs channels*samples = ${n} counts, got ${f.counts.length}`);
    const len = SAMPLES_FIXED + 3 * n;
    if (len > MAX_PAYLOAD) throw new RangeError(`SAMPLES payload of ${len} bytes exceeds ${MAX_PAYLOAD}: use fewer samples per block`);
    const p = this.#packet;
    this.#dv.setUint32(2, f.seq, true);
    this.#dv.setUint32(6, f.firstSample, true);
    this.#u64(10, f.tUs);
    this.#dv.setFloat32(18, f.uvPerLsb, true);
    p[22] = f.channels;
    p[23] = f.samples;
    p[24] = f.format;
    p[25] = 0;
    for (let k = 0, q = 26; k < n; k++, q += 3) {
      const v = f.counts[k]!;
      p[q] = v & 0xff;
      p[q + 1] = (v >> 8) & 0xff;
      p[q + 2] = (v >> 16) & 0xff;
    }
    return this.#finish(FrameType.SAMPLES, len);
  }

  ack(a: Ack): Uint8Array {
    this.#u16(2, a.reqId);
    this.#packet[4] = a.commandType;
    this.#packet[5] = 0;
    return this.#finish(FrameType.ACK, 4);
  }

  error(e: DeviceError): Uint8Array {
    this.#u16(2, e.reqId);
    this.#packet[4] = e.commandType;
    this.#packet[5] = e.code;
    this.#packet[6] = 0;
    const n = this.#ascii(8, e.message, 64);
    this.#packet[7] = n;
    return this.#finish(FrameType.ERROR, 6 + n);
  }

  pong(p: Pong): Uint8Array {
    this.#dv.setUint32(2, p.pingId, true);
    this.#u64(6, p.hostToken);
    this.#u64(14, p.tRxUs);
    this.#u64(22, p.tTxUs);
    return this.#finish(FrameType.PONG, 28);
  }

  heartbeat(h: Heartbeat): Uint8Array {
    this.#u64(2, h.tUs);
    this.#dv.setUint32(10, h.framesSent, true);
    this.#dv.setUint32(14, h.framesDropped, true);
    this.#dv.setUint32(18, h.rxBad, true);
    this.#packet[22] = h.state;
    this.#packet.fill(0, 23, 26);
    return this.#finish(FrameType.HEARTBEAT, 24);
  }

  tracker(seq: number, tUs: number, values: ArrayLike<number>): Uint8Array {
    this.#dv.setUint32(2, seq, true);
    this.#u64(6, tUs);
    this.#packet[14] = values.length;
    this.#packet.fill(0, 15, 18);
    for (let i = 0; i < values.length; i++) this.#dv.setFloat32(2 + TRACKER_FIXED + 4 * i, values[i]!, true);
    return this.#finish(FrameType.TRACKER, TRACKER_FIXED + 4 * values.length);
  }

  /** Any type with a raw payload: for tests that need frames the typed encoders refuse to make. */
  raw(type: number, payload: Uint8Array): Uint8Array {
    if (payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
    this.#packet.set(payload, 2);
    return this.#finish(type, payload.length);
  }

  #u16(off: number, v: number): void {
    this.#dv.setUint16(off, v, true);
  }

  #u64(off: number, v: number | bigint): void {
    if (typeof v === 'bigint') {
      this.#dv.setBigUint64(off, v, true);
    } else {
      if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v))) throw new RangeError(`u64 field needs a non-negative safe integer, got ${v}`);
      this.#dv.setUint32(off, v % TWO32, true);
      this.#dv.setUint32(off + 4, Math.floor(v / TWO32), true);
    }
  }

  #ascii(off: number, s: string, max: number): number {
    const n = Math.min(s.length, max);
    for (let i = 0; i < n; i++) this.#packet[off + i] = s.charCodeAt(i) & 0x7f;
    return n;
  }

  #finish(type: number, payloadLen: number): Uint8Array {
    const p = this.#packet;
    p[0] = this.version;
    p[1] = type;
    const end = 2 + payloadLen;
    const crc = crc16(p, 0, end);
    p[end] = crc & 0xff;
    p[end + 1] = crc >>> 8;
    const n = cobsEncode(p, 0, end + 2, this.#wire, 0);
    this.#wire[n] = 0;
    return this.#wire.subarray(0, n + 1);
  }
}

const kindCode = (e: ActuateEntry): number => ActuatorKind[e.kind];
const rawKind = (e: { kind: number }): number => e.kind;
