/**
 * `reflex subscribe --record FILE`: received messages as length-prefixed CBOR records.
 * Each record is a 4-byte big-endian unsigned length followed by that many bytes of one
 * CBOR map. The first record is the header {format: "reflex-telemetry-record", v: 1};
 * every later one is {endpoint, recv_wall_ms, msg} where `msg` is the message's frame-2
 * map (docs/telemetry.md) exactly as decoded, typed arrays included.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { ReflexError } from '../core/errors.js';
import { createDecoder, createEncoder } from './codec.js';
import type { TelemetryMessage } from './topics.js';
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

export class RecordWriter {
  readonly #stream: WriteStream;
  readonly #encoder = createEncoder();
  #error: Error | undefined;
  records = 0;

  constructor(file: string) {
    this.#stream = createWriteStream(file, { flags: 'w', mode: 0o600 });
    this.#stream.on('error', (err) => {
      this.#error = err;
    });
    this.#write({ format: RECORD_FORMAT, v: RECORD_VERSION });
  }

  #write(value: unknown): boolean {
    if (this.#error) throw new ReflexError(TelemetryCodes.record, `recording failed: ${this.#error.message}`, { cause: this.#error });
    const body = this.#encoder.encode(value);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(body.length, 0);
    this.#stream.write(head);
    return this.#stream.write(body);
  }

  /** Append one message; resolves at once unless the file is behind (then when it has drained). */
  async write(msg: TelemetryMessage): Promise<void> {
    const entry: RecordEntry = {
      endpoint: msg.source.endpoint,
      recv_wall_ms: Date.now(),
      msg: {
        v: msg.v,
        topic: msg.topic,
        runtime: msg.source.runtime,
        board: msg.source.board,
        seq: msg.seq,
        mono_ms: msg.mono_ms,
        wall_ms: msg.wall_ms,
        body: msg.body,
      },
    };
    this.records++;
    if (!this.#write(entry)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'close');
    if (this.#error) throw new ReflexError(TelemetryCodes.record, `recording failed: ${this.#error.message}`, { cause: this.#error });
  }
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
