/**
 * firmware-bridge protocol v1 (docs/protocol.md): constants, the frame structures of
 * both directions, and their payload parsers. Encoders are in `encode.ts`.
 *
 * Parsers read a payload in place through a DataView over the receive buffer and return
 * either the structure or the name of the bad-frame kind it falls under (section 1).
 */

export const PROTO_MAJOR = 1;
export const PROTO_MINOR = 0;
/** Largest packet: version + type + payload + CRC. */
export const MAX_PACKET = 1024;
export const MAX_PAYLOAD = 1020;
/** Largest COBS-encoded packet, delimiter excluded. */
export const MAX_ENCODED = 1030;
/** version, type, CRC. */
export const PACKET_OVERHEAD = 4;
/** req_id of an unsolicited ERROR. */
export const UNSOLICITED_REQ_ID = 0xffff;
export const MAX_CHANNELS = 16;
export const MAX_TRACKER_DIMS = 32;
export const MAX_ACTUATORS = 32;

export const FrameType = {
  HELLO: 0x01,
  SAMPLES: 0x02,
  ACK: 0x03,
  ERROR: 0x04,
  PONG: 0x05,
  HEARTBEAT: 0x06,
  TRACKER: 0x07,
  HELLO_REQ: 0x40,
  START: 0x41,
  STOP: 0x42,
  CONFIG: 0x43,
  ACTUATE: 0x44,
  PING: 0x45,
  FAULT: 0x46,
} as const;
export type FrameTypeName = keyof typeof FrameType;

/** Device ERROR codes (section 3, ERROR). */
export const DeviceErrorCode = {
  UNKNOWN_TYPE: 1,
  BAD_ARG: 2,
  UNSUPPORTED: 3,
  BUSY: 4,
  BAD_VERSION: 5,
  RX_ERROR: 6,
  OVERFLOW: 7,
} as const;
export type DeviceErrorName = keyof typeof DeviceErrorCode;

export function deviceErrorName(code: number): string {
  for (const [name, c] of Object.entries(DeviceErrorCode)) if (c === code) return name;
  return `code ${code}`;
}

/** FAULT kinds, simulating devices only. */
export const FaultKind = {
  CORRUPT: 1,
  DROP: 2,
  STALL: 3,
  DISCONNECT: 4,
  DRIFT: 5,
  JITTER: 6,
  GARBAGE: 7,
} as const;
export type FaultKindName = keyof typeof FaultKind;

export const ActuatorKind = { digital: 0, pwm: 1, servo: 2 } as const;
export type ActuatorKindName = keyof typeof ActuatorKind;

/** HELLO flag bits. */
export const HelloFlag = { STREAMING: 1, FAULT_INJECTION: 2, TRACKER: 4 } as const;
/** HEARTBEAT state bits. */
export const HeartbeatState = { STREAMING: 1, SAFE_STATE: 2 } as const;

/** The receiver's names for bad input, in the order the protocol's table lists them. */
export const BAD_KINDS = ['bad_cobs', 'oversize', 'truncated', 'bad_crc', 'wrong_version', 'unknown_type', 'bad_payload'] as const;
export type BadKind = (typeof BAD_KINDS)[number];
/** What a payload parser can object to; the framing kinds are decided before parsing. */
export type PayloadFault = 'truncated' | 'bad_payload';

// ---- device to host ------------------------------------------------------------

export interface Hello {
  protoMajor: number;
  protoMinor: number;
  fwMajor: number;
  fwMinor: number;
  fwPatch: number;
  maxChannels: number;
  adcBits: number;
  nActuators: number;
  /** u32, changes on every device reset. */
  bootId: number;
  rateHz: number;
  channels: number;
  blockSamples: number;
  flags: number;
  name: string;
}

/** SAMPLES header; the data stays in the receive buffer (see decoder.ts). */
export interface SamplesHeader {
  seq: number;
  firstSample: number;
  /** Device time of the first sample, µs (exact below 2^53). */
  tUs: number;
  /** f32 as sent. */
  uvPerLsb: number;
  channels: number;
  samples: number;
  /** 0 = int24 LE. */
  format: number;
}

/** A whole SAMPLES frame with raw counts, sample-major (s0c0 s0c1 .. s1c0 ..). For encoders and tests. */
export interface SamplesFrame extends SamplesHeader {
  counts: ArrayLike<number>;
}

export interface Ack {
  reqId: number;
  commandType: number;
}

export interface DeviceError {
  reqId: number;
  commandType: number;
  code: number;
  message: string;
}

export interface Pong {
  pingId: number;
  /** Echoed unchanged: u64. */
  hostToken: bigint;
  tRxUs: number;
  tTxUs: number;
}

export interface Heartbeat {
  tUs: number;
  framesSent: number;
  framesDropped: number;
  rxBad: number;
  state: number;
}

export interface TrackerFrame {
  seq: number;
  tUs: number;
  values: Float32Array;
}

// ---- host to device ------------------------------------------------------------

export interface ActuateEntry {
  channel: number;
  kind: ActuatorKindName;
  value: number;
}

export type HostCommand =
  | { type: typeof FrameType.HELLO_REQ; reqId: number; minMajor: number; maxMajor: number }
  | { type: typeof FrameType.START; reqId: number }
  | { type: typeof FrameType.STOP; reqId: number }
  | { type: typeof FrameType.CONFIG; reqId: number; rateHz: number; channels: number; blockSamples: number }
  | { type: typeof FrameType.ACTUATE; reqId: number; entries: { channel: number; kind: number; value: number }[] }
  | { type: typeof FrameType.PING; pingId: number; hostToken: bigint }
  | { type: typeof FrameType.FAULT; reqId: number; kind: number; param: number };

// ---- parsers -------------------------------------------------------------------

const TWO32 = 4294967296;

/** u64 little-endian as a number: exact below 2^53 (285 years of microseconds). */
export function readU64(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * TWO32;
}

function ascii(dv: DataView, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(dv.getUint8(off + i));
  return s;
}

export const HELLO_FIXED = 23;
export const SAMPLES_FIXED = 24;
export const ACK_LEN = 4;
export const ERROR_FIXED = 6;
export const PONG_LEN = 28;
export const HEARTBEAT_LEN = 24;
export const TRACKER_FIXED = 16;
export const MAX_NAME = 32;
export const MAX_ERROR_MSG = 64;

/** proto_major and proto_minor, readable from a HELLO of any version (section 5). */
export function parseHelloVersion(dv: DataView, off: number, len: number): { protoMajor: number; protoMinor: number } | PayloadFault {
  if (len < 2) return 'truncated';
  return { protoMajor: dv.getUint8(off), protoMinor: dv.getUint8(off + 1) };
}

export function parseHello(dv: DataView, off: number, len: number): Hello | PayloadFault {
  if (len < HELLO_FIXED) return 'truncated';
  const nameLen = dv.getUint8(off + 22);
  if (nameLen > MAX_NAME) return 'bad_payload';
  if (len < HELLO_FIXED + nameLen) return 'truncated';
  const h: Hello = {
    protoMajor: dv.getUint8(off),
    protoMinor: dv.getUint8(off + 1),
    fwMajor: dv.getUint8(off + 2),
    fwMinor: dv.getUint8(off + 3),
    fwPatch: dv.getUint8(off + 4),
    maxChannels: dv.getUint8(off + 5),
    adcBits: dv.getUint8(off + 6),
    nActuators: dv.getUint8(off + 7),
    bootId: dv.getUint32(off + 8, true),
    rateHz: dv.getUint32(off + 12, true),
    channels: dv.getUint8(off + 16),
    blockSamples: dv.getUint8(off + 17),
    flags: dv.getUint8(off + 18),
    name: ascii(dv, off + 23, nameLen),
  };
  if (h.maxChannels < 1 || h.maxChannels > MAX_CHANNELS || h.nActuators > MAX_ACTUATORS) return 'bad_payload';
  if (h.channels < 1 || h.channels > h.maxChannels) return 'bad_payload';
  return h;
}

/**
 * Validate a SAMPLES header in place and fill `out` (reused by the decoder so the hot
 * path allocates nothing). Returns null when the frame is good.
 */
export function parseSamplesHeader(dv: DataView, off: number, len: number, out: SamplesHeader): PayloadFault | null {
  if (len < SAMPLES_FIXED) return 'truncated';
  const channels = dv.getUint8(off + 20);
  const samples = dv.getUint8(off + 21);
  const format = dv.getUint8(off + 22);
  if (channels < 1 || channels > MAX_CHANNELS || samples < 1 || format !== 0) return 'bad_payload';
  const need = SAMPLES_FIXED + samples * channels * 3;
  if (len < need) return 'truncated';
  if (len > need) return 'bad_payload';
  const uv = dv.getFloat32(off + 16, true);
  if (!Number.isFinite(uv)) return 'bad_payload';
  out.seq = dv.getUint32(off, true);
  out.firstSample = dv.getUint32(off + 4, true);
  out.tUs = readU64(dv, off + 8);
  out.uvPerLsb = uv;
  out.channels = channels;
  out.samples = samples;
  out.format = format;
  return null;
}

/** A whole SAMPLES frame with its raw counts (allocates: for tests and tools, not the hot path). */
export function parseSamples(dv: DataView, off: number, len: number): SamplesFrame | PayloadFault {
  const h: SamplesHeader = { seq: 0, firstSample: 0, tUs: 0, uvPerLsb: 0, channels: 0, samples: 0, format: 0 };
  const fault = parseSamplesHeader(dv, off, len, h);
  if (fault) return fault;
  const n = h.channels * h.samples;
  const counts = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const p = off + SAMPLES_FIXED + 3 * k;
    counts[k] = ((dv.getUint8(p) | (dv.getUint8(p + 1) << 8) | (dv.getUint8(p + 2) << 16)) << 8) >> 8;
  }
  return { ...h, counts };
}

export function parseAck(dv: DataView, off: number, len: number): Ack | PayloadFault {
  if (len < ACK_LEN) return 'truncated';
  return { reqId: dv.getUint16(off, true), commandType: dv.getUint8(off + 2) };
}

export function parseError(dv: DataView, off: number, len: number): DeviceError | PayloadFault {
  if (len < ERROR_FIXED) return 'truncated';
  const msgLen = dv.getUint8(off + 5);
  if (msgLen > MAX_ERROR_MSG) return 'bad_payload';
  if (len < ERROR_FIXED + msgLen) return 'truncated';
  return {
    reqId: dv.getUint16(off, true),
    commandType: dv.getUint8(off + 2),
    code: dv.getUint8(off + 3),
    message: ascii(dv, off + 6, msgLen),
  };
}

export function parsePong(dv: DataView, off: number, len: number): Pong | PayloadFault {
  if (len < PONG_LEN) return 'truncated';
  return {
    pingId: dv.getUint32(off, true),
    hostToken: dv.getBigUint64(off + 4, true),
    tRxUs: readU64(dv, off + 12),
    tTxUs: readU64(dv, off + 20),
  };
}

export function parseHeartbeat(dv: DataView, off: number, len: number): Heartbeat | PayloadFault {
  if (len < HEARTBEAT_LEN) return 'truncated';
  return {
    tUs: readU64(dv, off),
    framesSent: dv.getUint32(off + 8, true),
    framesDropped: dv.getUint32(off + 12, true),
    rxBad: dv.getUint32(off + 16, true),
    state: dv.getUint8(off + 20),
  };
}

/**
 * TRACKER into `out` when given one with the right number of values (the decoder reuses
 * one per dimension count), otherwise into a new structure.
 */
export function parseTracker(dv: DataView, off: number, len: number, reuse?: (dims: number) => TrackerFrame): TrackerFrame | PayloadFault {
  if (len < TRACKER_FIXED) return 'truncated';
  const dims = dv.getUint8(off + 12);
  if (dims < 1 || dims > MAX_TRACKER_DIMS) return 'bad_payload';
  const need = TRACKER_FIXED + 4 * dims;
  if (len < need) return 'truncated';
  if (len > need) return 'bad_payload';
  const out = reuse ? reuse(dims) : { seq: 0, tUs: 0, values: new Float32Array(dims) };
  out.seq = dv.getUint32(off, true);
  out.tUs = readU64(dv, off + 4);
  for (let i = 0; i < dims; i++) out.values[i] = dv.getFloat32(off + TRACKER_FIXED + 4 * i, true);
  return out;
}

/** Payload lengths of host commands (req_id included); ACTUATE is 6 + 8*count exactly. */
const COMMAND_FIXED: Record<number, number> = {
  [FrameType.HELLO_REQ]: 4,
  [FrameType.START]: 2,
  [FrameType.STOP]: 2,
  [FrameType.CONFIG]: 8,
  [FrameType.ACTUATE]: 6,
  [FrameType.PING]: 12,
  [FrameType.FAULT]: 10,
};

/** Parse a host-to-device command payload (the device side, fakes and tests use it). */
export function parseCommand(type: number, dv: DataView, off: number, len: number): HostCommand | PayloadFault | 'unknown_type' {
  const fixed = COMMAND_FIXED[type];
  if (fixed === undefined) return 'unknown_type';
  if (len < fixed) return 'truncated';
  const reqId = dv.getUint16(off, true);
  switch (type) {
    case FrameType.HELLO_REQ:
      return { type, reqId, minMajor: dv.getUint8(off + 2), maxMajor: dv.getUint8(off + 3) };
    case FrameType.START:
      return { type, reqId };
    case FrameType.STOP:
      return { type, reqId };
    case FrameType.CONFIG:
      return { type, reqId, rateHz: dv.getUint32(off + 2, true), channels: dv.getUint8(off + 6), blockSamples: dv.getUint8(off + 7) };
    case FrameType.ACTUATE: {
      const count = dv.getUint8(off + 2);
      const need = 6 + 8 * count;
      if (len < need) return 'truncated';
      if (len > need) return 'bad_payload';
      const entries: { channel: number; kind: number; value: number }[] = [];
      for (let i = 0; i < count; i++) {
        const p = off + 6 + 8 * i;
        entries.push({ channel: dv.getUint8(p), kind: dv.getUint8(p + 1), value: dv.getInt32(p + 4, true) });
      }
      return { type, reqId, entries };
    }
    case FrameType.PING:
      return { type, pingId: dv.getUint32(off, true), hostToken: dv.getBigUint64(off + 4, true) };
    case FrameType.FAULT:
      return { type, reqId, kind: dv.getUint8(off + 2), param: dv.getInt32(off + 6, true) };
    default:
      return 'unknown_type';
  }
}
