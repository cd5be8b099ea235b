/**
 * The old `reflex subscribe --record` format (before XDF), read-only: `reflex export
 * --from-cbor FILE` converts such a file to XDF (docs/recording.md). Received messages as
 * length-prefixed CBOR records.
 * Each record is a 4-byte big-endian unsigned length followed by that many bytes of one
 * CBOR map. The first record is the header {format: "reflex-telemetry-record", v: 1};
 * every later one is {endpoint, recv_wall_ms, msg} where `msg` is the message's frame-2
 * map (docs/telemetry.md) exactly as decoded, typed arrays included.
 */
import { readFileSync } from 'node:fs';
import { ReflexError } from '../core/errors.js';
import { createDecoder } from './codec.js';
import { TelemetryCodes } from './codes.js';

export const RECORD_FORMAT = 'reflex-telemetry-record';
export const RECORD_VERSION = 1;

export interface RecordEntry {
  endpoint: string;
  recv_wall_ms: number;
  msg: {
    v: number;
    topic: string;
    runtime: string;
    board: string;
    seq: number;
    mono_ms: number;
    wall_ms: number;
    body: unknown;
  };
}

/** Read a whole recording (for tests and small files). Throws on a bad header or a truncated record. */
export function readRecordFile(file: string): RecordEntry[] {
  const buf = readFileSync(file);
  const decoder = createDecoder();
  const out: RecordEntry[] = [];
  let pos = 0;
  let first = true;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw new ReflexError(TelemetryCodes.record, `${file}: truncated length at byte ${pos}`);
    const len = buf.readUInt32BE(pos);
    if (pos + 4 + len > buf.length) throw new ReflexError(TelemetryCodes.record, `${file}: truncated record at byte ${pos}`);
    const value = decoder.decode(buf.subarray(pos + 4, pos + 4 + len)) as Record<string, unknown>;
    pos += 4 + len;
    if (first) {
      if (value?.format !== RECORD_FORMAT) throw new ReflexError(TelemetryCodes.record, `${file} is not a Reflex telemetry recording`);
      first = false;
      continue;
    }
    out.push(value as unknown as RecordEntry);
  }
  return out;
}
