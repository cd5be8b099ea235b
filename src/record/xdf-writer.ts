/**
 * XdfWriter: an XDF 1.0 file (the format LabRecorder writes; docs/recording.md) written as
 * whole chunks. Chunks are composed in one reused buffer and reach the file only whole, with
 * one write() per flush, so a process killed at any instant leaves complete chunks plus at
 * most a cut last one (which the reader ignores). Pending bytes are written at least every
 * `flushEveryMs` and fsync'd about every `fsyncEveryMs`, so kill -9 or a power cut loses at
 * most about the last second.
 *
 * Every length is written as a 4-byte variable-length integer (NumLengthBytes = 4): chunks
 * stay below 4 GiB by construction and readers (libxdf, pyxdf) accept 1, 4 or 8.
 */
import { closeSync, constants, fsync, fsyncSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError, ReflexError } from '../core/errors.js';
import { monotonicMs } from '../time/monotonic.js';
import { RecordCodes } from './codes.js';
import type { ReflexStreamMeta, XdfFormat } from './types.js';
import { xmlEscape } from './xml.js';

export const XDF_MAGIC = 'XDF:';
export const XdfTag = { fileHeader: 1, streamHeader: 2, samples: 3, clockOffset: 4, boundary: 5, streamFooter: 6 } as const;
/** Content of every Boundary chunk (XDF specification). */
export const BOUNDARY_UUID = Uint8Array.of(0x43, 0xa5, 0x46, 0xdc, 0xcb, 0xf5, 0x41, 0x0f, 0xb3, 0x0e, 0xd5, 0x46, 0x73, 0x83, 0xcb, 0xe4);

export interface XdfChannel {
  label: string;
  unit: string;
  /** Channel content type, e.g. "EMG", "Position", "Misc". */
  type: string;
}

export interface XdfStreamSpec {
  name: string;
  /** Content type, e.g. "EMG", "Mocap", "Markers". */
  type: string;
  format: XdfFormat;
  /** Hz; 0 for irregular streams. */
  nominalSrate: number;
  sourceId: string;
  channels: readonly XdfChannel[];
  /** Written as JSON in `<desc><reflex>`. */
  meta: ReflexStreamMeta;
}

export interface XdfWriterOptions {
  /** Replace an existing file (default: refuse with E_RECORD_EXISTS). */
  overwrite?: boolean;
  /** JSON written in the file header's `<info><reflex>`. */
  header?: Record<string, unknown>;
  /** Longest time composed chunks wait before being written, ms (default 250). */
  flushEveryMs?: number;
  /** Time between fsyncs while data arrives, ms (default 1000). */
  fsyncEveryMs?: number;
  /** Pending bytes that trigger a write at once (default 256 KiB). */
  flushBytes?: number;
  /** Clock for created_at and flush timing, ms (default CLOCK_MONOTONIC). */
  now?: () => number;
}

interface StreamState {
  spec: XdfStreamSpec;
  bytesPerValue: number;
  samples: number;
  first: number;
  last: number;
  offsets: { time: number; value: number }[];
}

const BYTES: Record<XdfFormat, number> = { float32: 4, double64: 8, int32: 4, string: 0 };

/** A number as XML text that reads back to the same double. */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : 'NaN';
}

export class XdfWriter {
  readonly path: string;
  #fd: number;
  #buf: Buffer;
  #view: DataView;
  #pos = 0;
  readonly #streams: StreamState[] = [];
  readonly #flushBytes: number;
  readonly #now: () => number;
  readonly #fsyncEveryMs: number;
  readonly #timer: NodeJS.Timeout;
  #lastSyncMs: number;
  #dirty = false;
  #syncing = false;
  #error: Error | undefined;
  #closed = false;
  /** Bytes written to the file so far. */
  bytes = 0;
  /** Time spent in write() calls so far, ms (the recorder's own I/O cost on this thread). */
  writeMs = 0;

  constructor(path: string, opts: XdfWriterOptions = {}) {
    this.path = path;
    this.#now = opts.now ?? monotonicMs;
    this.#flushBytes = opts.flushBytes ?? 256 * 1024;
    this.#fsyncEveryMs = opts.fsyncEveryMs ?? 1000;
    this.#buf = Buffer.allocUnsafe(Math.max(64 * 1024, this.#flushBytes * 2));
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    const flags = constants.O_WRONLY | constants.O_CREAT | (opts.overwrite ? constants.O_TRUNC : constants.O_EXCL);
    try {
      this.#fd = openSync(path, flags, 0o644);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST')
        throw new ConfigError(RecordCodes.exists, `${path} already exists; choose another name or pass --force to replace it`, { cause: err });
      throw new ConfigError(RecordCodes.output, `cannot create ${path}: ${e.message}; check the directory exists and is writable`, { cause: err });
    }
    this.#lastSyncMs = this.#now();
    this.#bytes(Buffer.from(XDF_MAGIC, 'latin1'));
    const header = opts.header === undefined ? '' : `<reflex>${xmlEscape(JSON.stringify(opts.header))}</reflex>`;
    this.#xmlChunk(
      XdfTag.fileHeader,
      undefined,
      `<?xml version="1.0"?><info><version>1.0</version><datetime>${new Date().toISOString()}</datetime>${header}</info>`,
    );
    this.flush();
    this.#timer = setInterval(() => this.#tick(), opts.flushEveryMs ?? 250);
    this.#timer.unref();
  }

  get streamCount(): number {
    return this.#streams.length;
  }

  /** Declare a stream (writes its StreamHeader chunk); returns its XDF stream id (1-based). */
  addStream(spec: XdfStreamSpec): number {
    this.#check();
    if (spec.channels.length < 1) throw new TypeError(`XDF stream "${spec.name}" needs at least one channel`);
    const id = this.#streams.length + 1;
    this.#streams.push({ spec, bytesPerValue: BYTES[spec.format], samples: 0, first: NaN, last: NaN, offsets: [] });
    const chans = spec.channels
      .map((c) => `<channel><label>${xmlEscape(c.label)}</label><unit>${xmlEscape(c.unit)}</unit><type>${xmlEscape(c.type)}</type></channel>`)
      .join('');
    const xml =
      `<?xml version="1.0"?><info><name>${xmlEscape(spec.name)}</name><type>${xmlEscape(spec.type)}</type>` +
      `<channel_count>${spec.channels.length}</channel_count><nominal_srate>${num(spec.nominalSrate)}</nominal_srate>` +
      `<channel_format>${spec.format}</channel_format><source_id>${xmlEscape(spec.sourceId)}</source_id>` +
      `<version>1.1</version><created_at>${num(this.#now() / 1000)}</created_at><hostname>${xmlEscape(hostname())}</hostname>` +
      `<desc><channels>${chans}</channels><reflex>${xmlEscape(JSON.stringify(spec.meta))}</reflex></desc></info>`;
    this.#xmlChunk(XdfTag.streamHeader, id, xml);
    return id;
  }

  /**
   * One Samples chunk of `samples` samples from `data`. `channelMajor` says `data` holds
   * channel c's sample i at [c * samples + i] (a SampleBlock); otherwise sample-major.
   * Sample i is stamped (firstMs + i * periodMs) / 1000 s; NaN `firstMs` writes them all
   * without stamps (XDF "deduced": previous stamp + 1 / nominal rate).
   */
  writeBlock(id: number, data: ArrayLike<number>, samples: number, channelMajor: boolean, firstMs: number, periodMs: number): void {
    this.#numeric(id, data, samples, channelMajor, firstMs, periodMs, 1000);
  }

  /** One sample of an irregular numeric stream, stamped `timeS` seconds (NaN: no stamp). */
  writeSample(id: number, values: ArrayLike<number>, timeS: number): void {
    this.#numeric(id, values, 1, false, timeS, 0, 1);
  }

  #numeric(id: number, data: ArrayLike<number>, samples: number, channelMajor: boolean, first: number, period: number, perSecond: number): void {
    const st = this.#stream(id);
    const ch = st.spec.channels.length;
    if (st.spec.format === 'string') throw new TypeError(`stream ${id} holds strings; use writeString()`);
    if (data.length < samples * ch) throw new TypeError(`stream ${id}: ${samples} samples of ${ch} channels need ${samples * ch} values, got ${data.length}`);
    if (samples === 0) return;
    const stamped = !Number.isNaN(first);
    const start = this.#begin(XdfTag.samples, id, 5 + samples * (1 + (stamped ? 8 : 0) + ch * st.bytesPerValue));
    const v = this.#view;
    let p = this.#pos;
    v.setUint8(p, 4);
    v.setUint32(p + 1, samples, true);
    p += 5;
    const fmt = st.spec.format;
    for (let i = 0; i < samples; i++) {
      if (stamped) {
        const ts = (first + i * period) / perSecond;
        v.setUint8(p, 8);
        v.setFloat64(p + 1, ts, true);
        p += 9;
        if (st.samples === 0 && i === 0) st.first = ts;
        st.last = ts;
      } else {
        v.setUint8(p, 0);
        p += 1;
        st.last = Number.isNaN(st.last) ? NaN : st.last + (st.spec.nominalSrate > 0 ? 1 / st.spec.nominalSrate : 0);
      }
      for (let c = 0; c < ch; c++) {
        const x = data[channelMajor ? c * samples + i : i * ch + c]!;
        if (fmt === 'float32') {
          v.setFloat32(p, x, true);
          p += 4;
        } else if (fmt === 'double64') {
          v.setFloat64(p, x, true);
          p += 8;
        } else {
          v.setInt32(p, x, true);
          p += 4;
        }
      }
    }
    this.#pos = p;
    st.samples += samples;
    this.#end(start);
  }

  /** One sample of a string stream (single channel), stamped `timeS` seconds. */
  writeString(id: number, text: string, timeS: number): void {
    const st = this.#stream(id);
    if (st.spec.format !== 'string') throw new TypeError(`stream ${id} is numeric; use writeBlock() or writeSample()`);
    const len = Buffer.byteLength(text);
    const start = this.#begin(XdfTag.samples, id, 5 + 9 + 5 + len);
    const v = this.#view;
    let p = this.#pos;
    v.setUint8(p, 4);
    v.setUint32(p + 1, 1, true);
    v.setUint8(p + 5, 8);
    v.setFloat64(p + 6, timeS, true);
    v.setUint8(p + 14, 4);
    v.setUint32(p + 15, len, true);
    p += 19;
    this.#pos = p + this.#buf.write(text, p, 'utf8');
    if (st.samples === 0) st.first = timeS;
    st.last = timeS;
    st.samples++;
    this.#end(start);
  }

  /** A ClockOffset chunk: at collection time `timeS`, add `valueS` to this stream's stamps to reach the recorder's clock. */
  clockOffset(id: number, timeS: number, valueS: number): void {
    const st = this.#stream(id);
    const start = this.#begin(XdfTag.clockOffset, id, 16);
    this.#view.setFloat64(this.#pos, timeS, true);
    this.#view.setFloat64(this.#pos + 8, valueS, true);
    this.#pos += 16;
    st.offsets.push({ time: timeS, value: valueS });
    this.#end(start);
  }

  /** A Boundary chunk: lets a reader resynchronise after damage in the middle of the file. */
  boundary(): void {
    this.#check();
    const start = this.#begin(XdfTag.boundary, undefined, 16);
    this.#buf.set(BOUNDARY_UUID, this.#pos);
    this.#pos += 16;
    this.#end(start);
  }

  /** Samples written so far to stream `id`. */
  samplesOf(id: number): number {
    return this.#stream(id).samples;
  }

  /** Write every composed chunk to the file now (one write() call). */
  flush(): void {
    if (this.#pos === 0 || this.#error) return;
    const t0 = performance.now();
    try {
      let off = 0;
      while (off < this.#pos) off += writeSync(this.#fd, this.#buf, off, this.#pos - off);
      this.bytes += this.#pos;
      this.#pos = 0;
      this.#dirty = true;
    } catch (err) {
      this.#error = err as Error;
    }
    this.writeMs += performance.now() - t0;
  }

  /** Write the stream footers, flush, fsync and close. Throws when any write failed. */
  close(): void {
    if (this.#closed) return;
    clearInterval(this.#timer);
    if (!this.#error) {
      for (let i = 0; i < this.#streams.length; i++) this.#footer(i + 1, this.#streams[i]!);
      this.flush();
    }
    this.#closed = true;
    try {
      if (!this.#error) fsyncSync(this.#fd);
    } catch (err) {
      this.#error = err as Error;
    }
    closeSync(this.#fd);
    if (this.#error) throw this.#failure();
  }

  #footer(id: number, st: StreamState): void {
    const times = st.samples > 0 ? `<first_timestamp>${num(st.first)}</first_timestamp><last_timestamp>${num(st.last)}</last_timestamp>` : '';
    const offs = st.offsets.map((o) => `<offset><time>${num(o.time)}</time><value>${num(o.value)}</value></offset>`).join('');
    this.#xmlChunk(
      XdfTag.streamFooter,
      id,
      `<?xml version="1.0"?><info><writer>reflex</writer>${times}<sample_count>${st.samples}</sample_count><clock_offsets>${offs}</clock_offsets></info>`,
    );
  }

  #tick(): void {
    this.flush();
    const now = this.#now();
    if (this.#dirty && !this.#syncing && now - this.#lastSyncMs >= this.#fsyncEveryMs) {
      this.#dirty = false;
      this.#syncing = true;
      this.#lastSyncMs = now;
      // On the thread pool: the event loop (telemetry, the runtime) never waits for the disk.
      fsync(this.#fd, (err) => {
        this.#syncing = false;
        if (err && !this.#closed) this.#error ??= err;
      });
    }
  }

  #stream(id: number): StreamState {
    this.#check();
    const st = this.#streams[id - 1];
    if (!st) throw new TypeError(`no XDF stream ${id} (have ${this.#streams.length})`);
    return st;
  }

  #check(): void {
    if (this.#closed) throw new ReflexError(RecordCodes.write, `${this.path} is closed; open a new XdfWriter`);
    if (this.#error) throw this.#failure();
  }

  #failure(): ReflexError {
    return new ReflexError(RecordCodes.write, `writing ${this.path} failed: ${this.#error!.message}; check free space and permissions`, { cause: this.#error });
  }

  /** Reserve a chunk of `content` bytes after its header; returns the chunk's start. */
  #begin(tag: number, id: number | undefined, content: number): number {
    const total = 1 + 4 + 2 + (id === undefined ? 0 : 4) + content;
    if (this.#pos + total > this.#buf.length) {
      this.flush();
      if (total > this.#buf.length) this.#grow(total);
    }
    const start = this.#pos;
    const v = this.#view;
    v.setUint8(start, 4);
    v.setUint16(start + 5, tag, true);
    this.#pos = start + 7;
    if (id !== undefined) {
      v.setUint32(this.#pos, id, true);
      this.#pos += 4;
    }
    return start;
  }

  /**
   * Patch the chunk's length (tag + content) and write when enough is pending, after Samples
   * chunks only: a stream header then reaches the file together with its first samples, so a
   * crash never leaves a numeric stream without samples (libxdf 0.99.8 crashes on one).
   */
  #end(start: number): void {
    this.#view.setUint32(start + 1, this.#pos - start - 5, true);
    if (this.#pos >= this.#flushBytes && this.#view.getUint16(start + 5, true) === XdfTag.samples) this.flush();
  }

  #grow(min: number): void {
    // Only a chunk larger than any before (a huge block): the buffer is empty here.
    this.#buf = Buffer.allocUnsafe(Math.max(min, this.#buf.length * 2));
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  }

  #bytes(b: Uint8Array): void {
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  #xmlChunk(tag: number, id: number | undefined, xml: string): void {
    const len = Buffer.byteLength(xml);
    const start = this.#begin(tag, id, len);
    this.#pos += this.#buf.write(xml, this.#pos, 'utf8');
    this.#end(start);
  }
}
