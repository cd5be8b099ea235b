/**
 * readRecording: an XDF 1.0 file (docs/recording.md) decoded into a Recording (types.ts).
 *
 * Tolerant of exactly one kind of damage, the one a crash leaves: a last chunk cut short (or
 * trailing zero bytes a power cut can leave) is ignored and counted in `truncatedBytes`.
 * Anything else that is not well-formed XDF is refused with a ConfigError (bad input: the CLI
 * exits 2) naming the file, the byte offset and what is wrong.
 *
 * Two passes over the bytes: the first finds the chunks and counts each stream's samples,
 * the second decodes into typed arrays allocated once at their final size.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, type ReflexError } from '../core/errors.js';
import { RecordCodes } from './codes.js';
import type { RecordedStream, Recording, ReflexStreamMeta, XdfFormat } from './types.js';
import { XDF_MAGIC, XdfTag } from './xdf-writer.js';
import { child, childText, parseXml, XmlSyntaxError, type XmlElement } from './xml.js';

const FORMATS: readonly string[] = ['float32', 'double64', 'int32', 'string'];
const BYTES: Record<XdfFormat, number> = { float32: 4, double64: 8, int32: 4, string: 0 };
/**
 * Channel names are built per channel before any sample is read, so a header claiming 1e9
 * channels would allocate gigabytes from a few bytes of XML; no rig records anywhere near this.
 */
const MAX_CHANNELS = 65536;

interface Chunk {
  tag: number;
  /** Content start (after the tag) and end. */
  start: number;
  end: number;
}

interface Building {
  stream: RecordedStream;
  bytesPerValue: number;
  /** Samples counted in pass 1, then the fill position in pass 2. */
  count: number;
  filled: number;
}

/** Read and decode a whole XDF file. */
export function readRecording(path: string): Recording {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new ConfigError(RecordCodes.read, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseXdf(buf, path);
}

/** Decode XDF bytes; `path` names the file in errors and in the result. */
export function parseXdf(buf: Uint8Array, path: string): Recording {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (at: number, what: string): ReflexError =>
    new ConfigError(RecordCodes.xdfCorrupt, `${path} is damaged at byte ${at}: ${what}; it cannot be read as XDF (only a cut last chunk is tolerated)`);
  if (buf.length === 0) throw new ConfigError(RecordCodes.xdfEmpty, `${path} is empty: no recording was written to it`);
  const magic = Buffer.from(buf.buffer, buf.byteOffset, Math.min(4, buf.length)).toString('latin1');
  if (magic !== XDF_MAGIC.slice(0, magic.length) || buf.length < 4) {
    if (buf.length < 4 && magic === XDF_MAGIC.slice(0, magic.length)) throw fail(buf.length, 'the file ends before its file header');
    throw new ConfigError(
      RecordCodes.xdfForeign,
      `${path} is not an XDF recording: it does not start with "XDF:" (is it another format, e.g. CSV, CBOR or EDF?)`,
    );
  }

  // Pass 1: chunk boundaries.
  const chunks: Chunk[] = [];
  let pos = 4;
  let truncatedBytes = 0;
  while (pos < buf.length) {
    const len = varLen(view, pos);
    const cut = (): void => {
      truncatedBytes = buf.length - pos;
    };
    if (len === undefined) {
      cut();
      break;
    }
    if (len === null) {
      if (allZero(buf, pos)) {
        cut();
        break;
      }
      throw fail(pos, `chunk length has ${buf[pos]} bytes (XDF allows 1, 4 or 8)`);
    }
    const start = len.next + 2;
    const end = len.next + len.value;
    if (end > buf.length || start > buf.length) {
      cut();
      break;
    }
    if (len.value < 2) throw fail(pos, `chunk length ${len.value} is shorter than its tag`);
    const tag = view.getUint16(len.next, true);
    if (tag < XdfTag.fileHeader || tag > XdfTag.streamFooter) throw fail(pos, `unknown chunk tag ${tag}`);
    if (chunks.length === 0 && tag !== XdfTag.fileHeader) throw fail(pos, `the first chunk is tag ${tag}, not a FileHeader`);
    chunks.push({ tag, start, end });
    pos = end;
  }
  if (chunks.length === 0) throw fail(4, 'the file ends inside its file header');

  const text = (c: Chunk, from: number, what: string): XmlElement => {
    try {
      return parseXml(Buffer.from(buf.buffer, buf.byteOffset + from, c.end - from).toString('utf8'));
    } catch (err) {
      if (err instanceof XmlSyntaxError) throw fail(from, `${what} XML is malformed (${err.message})`);
      throw err;
    }
  };
  const header = fileHeader(text(chunks[0]!, chunks[0]!.start, 'file header'), (what) => fail(chunks[0]!.start, what));

  const streams = new Map<number, Building>();
  const get = (c: Chunk): Building => {
    if (c.end - c.start < 4) throw fail(c.start, 'chunk too short for its stream id');
    const id = view.getUint32(c.start, true);
    const b = streams.get(id);
    if (!b) throw fail(c.start, `chunk for stream ${id} before its StreamHeader`);
    return b;
  };
  for (const c of chunks) {
    if (c.tag === XdfTag.streamHeader) {
      if (c.end - c.start < 4) throw fail(c.start, 'StreamHeader too short');
      const id = view.getUint32(c.start, true);
      if (streams.has(id)) throw fail(c.start, `stream ${id} declared twice`);
      const s = streamHeader(path, id, text(c, c.start + 4, `stream ${id} header`), (what) => fail(c.start, what));
      streams.set(id, { stream: s, bytesPerValue: BYTES[s.format], count: 0, filled: 0 });
    } else if (c.tag === XdfTag.samples) {
      const b = get(c);
      const n = varLen(view, c.start + 4);
      if (!n || n.next > c.end) throw fail(c.start + 4, `stream ${b.stream.id}: bad sample count`);
      // Arrays are sized from the counts, so a count must be backed by bytes actually present:
      // each sample takes at least a timestamp byte plus its values (a string at least 2 bytes).
      const ch = b.stream.channels.length;
      const least = 1 + ch * (b.bytesPerValue || 2);
      if (n.value > (c.end - n.next) / least) {
        throw fail(
          c.start + 4,
          `stream ${b.stream.id}: sample count ${n.value} needs at least ${n.value * least} bytes but its Samples chunk holds ${c.end - n.next}`,
        );
      }
      b.count += n.value;
    }
  }
  for (const b of streams.values()) {
    const s = b.stream;
    const ch = s.channels.length;
    s.timestamps = new Float64Array(b.count);
    if (s.format === 'float32') s.data = new Float32Array(b.count * ch);
    else if (s.format === 'double64') s.data = new Float64Array(b.count * ch);
    else if (s.format === 'int32') s.data = new Int32Array(b.count * ch);
  }

  // Pass 2: decode.
  for (const c of chunks) {
    if (c.tag === XdfTag.samples) decodeSamples(view, buf, c, get(c), fail);
    else if (c.tag === XdfTag.clockOffset) {
      const b = get(c);
      if (c.end - c.start !== 20) throw fail(c.start, `stream ${b.stream.id}: ClockOffset chunk is ${c.end - c.start} bytes, not 20`);
      b.stream.clockOffsets.push({ time: view.getFloat64(c.start + 4, true), value: view.getFloat64(c.start + 12, true) });
    } else if (c.tag === XdfTag.streamFooter) get(c);
  }
  const out: RecordedStream[] = [];
  for (const b of streams.values()) {
    b.stream.samples = b.filled;
    out.push(b.stream);
  }
  return { path, header, streams: out, truncatedBytes };
}

function decodeSamples(view: DataView, buf: Uint8Array, c: Chunk, b: Building, fail: (at: number, what: string) => ReflexError): void {
  const s = b.stream;
  const ch = s.channels.length;
  const n = varLen(view, c.start + 4)!;
  if (n === null) throw fail(c.start + 4, 'bad sample count');
  const interval = s.rate > 0 ? 1 / s.rate : 0;
  let p = n.next;
  const need = (bytes: number): void => {
    if (p + bytes > c.end) throw fail(p, `stream ${s.id}: a sample runs past the end of its Samples chunk`);
  };
  const data = s.data;
  const fmt = s.format;
  for (let i = 0; i < n.value; i++) {
    need(1);
    const tsBytes = view.getUint8(p++);
    const k = b.filled;
    if (tsBytes === 8) {
      need(8);
      s.timestamps[k] = view.getFloat64(p, true);
      p += 8;
    } else if (tsBytes === 0) {
      s.timestamps[k] = k > 0 ? s.timestamps[k - 1]! + interval : NaN;
    } else throw fail(p - 1, `stream ${s.id}: timestamp has ${tsBytes} bytes (XDF allows 0 or 8)`);
    if (fmt === 'string') {
      for (let v = 0; v < ch; v++) {
        const len = varLen(view, p);
        if (!len || len.next + len.value > c.end) throw fail(p, `stream ${s.id}: a string runs past the end of its Samples chunk`);
        s.strings.push(Buffer.from(buf.buffer, buf.byteOffset + len.next, len.value).toString('utf8'));
        p = len.next + len.value;
      }
    } else {
      need(ch * b.bytesPerValue);
      const base = k * ch;
      for (let v = 0; v < ch; v++) {
        if (fmt === 'float32') data[base + v] = view.getFloat32(p, true);
        else if (fmt === 'double64') data[base + v] = view.getFloat64(p, true);
        else data[base + v] = view.getInt32(p, true);
        p += b.bytesPerValue;
      }
    }
    b.filled++;
  }
  if (p !== c.end) throw fail(p, `stream ${s.id}: ${c.end - p} bytes left over after ${n.value} samples in a Samples chunk`);
}

/** A variable-length integer at `pos`: undefined when the file ends inside it, null when its byte count is not 1, 4 or 8. */
function varLen(view: DataView, pos: number): { value: number; next: number } | undefined | null {
  if (pos >= view.byteLength) return undefined;
  const bytes = view.getUint8(pos);
  if (bytes !== 1 && bytes !== 4 && bytes !== 8) return null;
  if (pos + 1 + bytes > view.byteLength) return undefined;
  let value: number;
  if (bytes === 1) value = view.getUint8(pos + 1);
  else if (bytes === 4) value = view.getUint32(pos + 1, true);
  else value = Number(view.getBigUint64(pos + 1, true));
  return { value, next: pos + 1 + bytes };
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

function fileHeader(info: XmlElement, fail: (what: string) => ReflexError): Record<string, unknown> {
  if (info.name !== 'info') throw fail(`file header root is <${info.name}>, not <info>`);
  const out: Record<string, unknown> = {};
  for (const c of info.children) out[c.name] = c.name === 'reflex' ? json(c.text, () => fail('file header <reflex> is not JSON')) : c.text.trim();
  return out;
}

function streamHeader(path: string, id: number, info: XmlElement, fail: (what: string) => ReflexError): RecordedStream {
  if (info.name !== 'info') throw fail(`stream ${id} header root is <${info.name}>, not <info>`);
  const count = Number(childText(info, 'channel_count'));
  if (!Number.isInteger(count) || count < 1) throw fail(`stream ${id}: channel_count "${childText(info, 'channel_count') ?? ''}" is not a positive integer`);
  if (count > MAX_CHANNELS) throw fail(`stream ${id}: channel_count ${count} is more than the ${MAX_CHANNELS} channels Reflex reads`);
  const rate = Number(childText(info, 'nominal_srate') ?? '0');
  if (!Number.isFinite(rate) || rate < 0) throw fail(`stream ${id}: nominal_srate "${childText(info, 'nominal_srate') ?? ''}" is not a rate`);
  const format = childText(info, 'channel_format') ?? '';
  if (!FORMATS.includes(format)) {
    throw new ConfigError(
      RecordCodes.xdfFormat,
      `${path}: stream ${id} ("${childText(info, 'name') ?? ''}") has channel_format "${format}"; ` +
        `Reflex reads ${FORMATS.join(', ')}; convert it with pyxdf first`,
    );
  }
  const desc = child(info, 'desc');
  const chans = child(desc, 'channels')?.children.filter((c) => c.name === 'channel') ?? [];
  const channels: string[] = [];
  const units: string[] = [];
  for (let i = 0; i < count; i++) {
    channels.push(childText(chans[i], 'label') ?? String(i + 1));
    units.push(childText(chans[i], 'unit') ?? '');
  }
  const reflex = child(desc, 'reflex');
  let meta: ReflexStreamMeta = { topic: '', runtime: '', board: '' };
  if (reflex) {
    const parsed = json(reflex.text, () => fail(`stream ${id}: <desc><reflex> is not JSON`));
    // Readers index meta.topic etc. directly: null, a number or an array would crash them later.
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fail(`stream ${id}: <desc><reflex> is not a JSON object`);
    meta = parsed as ReflexStreamMeta;
  }
  return {
    id,
    name: childText(info, 'name') ?? '',
    type: childText(info, 'type') ?? '',
    rate,
    format: format as XdfFormat,
    channels,
    units,
    meta,
    timestamps: new Float64Array(0),
    data: new Float32Array(0),
    strings: [],
    samples: 0,
    clockOffsets: [],
  };
}

function json(text: string, fail: () => ReflexError): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw fail();
  }
}
