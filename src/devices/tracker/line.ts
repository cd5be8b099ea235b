/**
 * Parser for the line-based tracker format (docs/tracker.md, "Serial lines"):
 *
 *     <t_us> <v1> <v2> ... <vD>\n
 *
 * Fields are separated by spaces, tabs or commas; `\r` is ignored; lines starting with `#` and
 * blank lines are skipped. `t_us` is the sender's clock in microseconds, or `-` for "no
 * timestamp". Values are decimal numbers; `nan` marks the sample invalid.
 *
 * Works on bytes with a preallocated line buffer: no strings, no allocation per line. A chunk may
 * hold several lines or part of one.
 */

import { TRACKER_MAX_DIMS } from './types.js';

export interface TrackerLineOptions {
  /** Values per line after the timestamp, 1..TRACKER_MAX_DIMS. */
  dims: number;
  /** Longer lines are dropped (counted `oversize`). Default `defaultMaxLineBytes(dims)`. */
  maxLineBytes?: number;
}

/** 1024 bytes, or 16 per field when that is more: room for D values of a dozen characters each. */
export function defaultMaxLineBytes(dims: number): number {
  return Math.max(1024, 16 * (dims + 1));
}

export interface TrackerLineCounters {
  lines: number;
  comments: number;
  /** Wrong number of fields or a field that is not a number. */
  badLine: number;
  oversize: number;
}

/** Called per good line; `values` is reused for the next line. `timeUs` is NaN for `-`. */
export type TrackerLineHandler = (timeUs: number, values: Float32Array, valid: boolean) => void;

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const HASH = 0x23;
const MINUS = 0x2d;

export class TrackerLineParser {
  readonly dims: number;
  readonly counters: TrackerLineCounters = { lines: 0, comments: 0, badLine: 0, oversize: 0 };
  readonly #line: Uint8Array;
  readonly #values: Float32Array;
  #len = 0;
  #skipping = false;

  constructor(opts: TrackerLineOptions) {
    if (!Number.isInteger(opts.dims) || opts.dims < 1 || opts.dims > TRACKER_MAX_DIMS)
      throw new RangeError(`"dims" must be an integer in 1..${TRACKER_MAX_DIMS}`);
    const max = opts.maxLineBytes ?? defaultMaxLineBytes(opts.dims);
    if (!Number.isInteger(max) || max < 8) throw new RangeError('"maxLineBytes" must be an integer >= 8');
    this.dims = opts.dims;
    this.#line = new Uint8Array(max);
    this.#values = new Float32Array(opts.dims);
  }

  push(chunk: Uint8Array, onLine: TrackerLineHandler): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF) {
        if (this.#skipping) this.#skipping = false;
        else this.#parse(onLine);
        this.#len = 0;
      } else if (this.#skipping || b === CR) {
        continue;
      } else if (this.#len === this.#line.length) {
        this.counters.oversize++;
        this.#skipping = true;
        this.#len = 0;
      } else {
        this.#line[this.#len++] = b;
      }
    }
  }

  /** Drop a partial line (the port was reopened). */
  reset(): void {
    this.#len = 0;
    this.#skipping = false;
  }

  #parse(onLine: TrackerLineHandler): void {
    const line = this.#line;
    const end = this.#len;
    let p = skipSeparators(line, 0, end);
    if (p === end) return;
    if (line[p] === HASH) {
      this.counters.comments++;
      return;
    }
    let q = fieldEnd(line, p, end);
    let timeUs: number;
    if (q - p === 1 && line[p] === MINUS) timeUs = Number.NaN;
    else {
      timeUs = parseDecimal(line, p, q);
      if (!Number.isFinite(timeUs)) {
        this.counters.badLine++;
        return;
      }
    }
    let valid = true;
    for (let d = 0; d < this.dims; d++) {
      p = skipSeparators(line, q, end);
      if (p === end) {
        this.counters.badLine++;
        return;
      }
      q = fieldEnd(line, p, end);
      const v = parseDecimal(line, p, q);
      if (Number.isNaN(v) && !isNanWord(line, p, q)) {
        this.counters.badLine++;
        return;
      }
      if (!Number.isFinite(v)) valid = false;
      this.#values[d] = v;
    }
    if (skipSeparators(line, q, end) !== end) {
      this.counters.badLine++;
      return;
    }
    this.counters.lines++;
    onLine(timeUs, this.#values, valid);
  }
}

function isSeparator(b: number): boolean {
  return b === SPACE || b === TAB || b === COMMA;
}

function skipSeparators(buf: Uint8Array, p: number, end: number): number {
  while (p < end && isSeparator(buf[p]!)) p++;
  return p;
}

function fieldEnd(buf: Uint8Array, p: number, end: number): number {
  while (p < end && !isSeparator(buf[p]!)) p++;
  return p;
}

function isNanWord(buf: Uint8Array, p: number, q: number): boolean {
  return q - p === 3 && (buf[p]! | 0x20) === 0x6e && (buf[p + 1]! | 0x20) === 0x61 && (buf[p + 2]! | 0x20) === 0x6e;
}

/**
 * Decimal number from ASCII bytes [p, q): optional sign, digits, optional fraction, optional
 * exponent; also `inf`/`infinity` and `nan` (case-insensitive). NaN if malformed.
 */
export function parseDecimal(buf: Uint8Array, p: number, q: number): number {
  if (p >= q) return Number.NaN;
  let sign = 1;
  if (buf[p] === 0x2b || buf[p] === MINUS) {
    if (buf[p] === MINUS) sign = -1;
    p++;
  }
  if (p < q && (buf[p]! | 0x20) === 0x69) {
    // inf / infinity
    const n = q - p;
    if ((n === 3 || n === 8) && (buf[p + 1]! | 0x20) === 0x6e && (buf[p + 2]! | 0x20) === 0x66) return sign * Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  let mant = 0;
  let digits = 0;
  let exp10 = 0;
  let any = false;
  while (p < q && buf[p]! >= 0x30 && buf[p]! <= 0x39) {
    if (digits < 17) {
      mant = mant * 10 + (buf[p]! - 0x30);
      if (mant > 0) digits++;
    } else exp10++;
    any = true;
    p++;
  }
  if (p < q && buf[p] === 0x2e) {
    p++;
    while (p < q && buf[p]! >= 0x30 && buf[p]! <= 0x39) {
      if (digits < 17) {
        mant = mant * 10 + (buf[p]! - 0x30);
        if (mant > 0) digits++;
        exp10--;
      }
      any = true;
      p++;
    }
  }
  if (!any) return Number.NaN;
  if (p < q && (buf[p]! | 0x20) === 0x65) {
    p++;
    let es = 1;
    if (p < q && (buf[p] === 0x2b || buf[p] === MINUS)) {
      if (buf[p] === MINUS) es = -1;
      p++;
    }
    let e = 0;
    let eany = false;
    while (p < q && buf[p]! >= 0x30 && buf[p]! <= 0x39) {
      if (e < 10000) e = e * 10 + (buf[p]! - 0x30);
      eany = true;
      p++;
    }
    if (!eany) return Number.NaN;
    exp10 += es * e;
  }
  if (p !== q) return Number.NaN;
  // Dividing by an exact power of ten rounds once, so short decimals come out exact.
  const v = exp10 >= 0 ? mant * 10 ** exp10 : mant / 10 ** -exp10;
  return sign * v;
}
