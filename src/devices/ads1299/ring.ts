/**
 * The shared-memory ring between the ADS1299 reader thread (one writer) and the main thread (one
 * reader): fixed-size records, each a block of samples or a gap, in a SharedArrayBuffer allocated
 * once. The writer publishes a record by storing the head after the record's contents; the reader
 * copies a record out before storing the tail, so the writer never overwrites what is being read.
 * Head and tail are int32 counters that wrap; the slot count is a power of two so `index & mask`
 * stays continuous across the wrap (2^31 records is 99 days at 250 blocks/s).
 *
 * Nothing is posted per record: the reader arms a flag when it has found the ring empty, and the
 * writer posts one wake-up when it takes that flag (edge-triggered, like epoll), so a busy main
 * thread finds many records at once and an idle one is woken once per record.
 */

/** ctl (Int32Array) indices. */
const HEAD = 0;
const TAIL = 1;
const ARMED = 2;
const CTL_INTS = 4;
/** Float64 header per slot: kind, then the record's fields. */
const HDR = 8;

export const RecordKind = { block: 1, gap: 2 } as const;

/** Plain data: what both threads need to map the ring (structured-cloneable, goes in workerData). */
export interface RingBuffers {
  ctl: SharedArrayBuffer;
  headers: SharedArrayBuffer;
  data: SharedArrayBuffer;
  slots: number;
  /** Floats per slot: channels x block samples. */
  slotFloats: number;
}

export function allocRing(minSlots: number, slotFloats: number): RingBuffers {
  let slots = 2;
  while (slots < minSlots) slots *= 2;
  return {
    ctl: new SharedArrayBuffer(4 * CTL_INTS),
    headers: new SharedArrayBuffer(8 * HDR * slots),
    data: new SharedArrayBuffer(4 * slotFloats * slots),
    slots,
    slotFloats,
  };
}

/** A gap as the ring carries it (the fields of devices/ads1299 Ads1299Gap, in numbers). */
export interface RingGap {
  outage: boolean;
  missingSamples: number;
  hostSpanMs: number;
  fromSample: number;
  toSample: number;
  deviceReset: boolean;
}

class RingView {
  protected readonly ctl: Int32Array;
  protected readonly hdr: Float64Array;
  protected readonly data: Float32Array;
  protected readonly mask: number;
  readonly slotFloats: number;
  readonly slots: number;

  constructor(b: RingBuffers) {
    this.ctl = new Int32Array(b.ctl);
    this.hdr = new Float64Array(b.headers);
    this.data = new Float32Array(b.data);
    this.mask = b.slots - 1;
    this.slots = b.slots;
    this.slotFloats = b.slotFloats;
  }

  /** Records written and not yet read. */
  used(): number {
    return (Atomics.load(this.ctl, HEAD) - Atomics.load(this.ctl, TAIL)) | 0;
  }
}

/** The reader thread's side. */
export class RingWriter extends RingView {
  free(): number {
    return this.slots - this.used();
  }

  /**
   * A block of `samples` samples (channel-major in `src`, `samples` per channel) whose first
   * sample is `firstSample`, stamped `arrivalMs`. False (nothing written) when the ring is full.
   */
  writeBlock(firstSample: number, samples: number, channels: number, arrivalMs: number, src: Float32Array): boolean {
    const head = Atomics.load(this.ctl, HEAD);
    if (((head - Atomics.load(this.ctl, TAIL)) | 0) >= this.slots) return false;
    const slot = head & this.mask;
    const h = slot * HDR;
    this.hdr[h] = RecordKind.block;
    this.hdr[h + 1] = firstSample;
    this.hdr[h + 2] = samples;
    this.hdr[h + 3] = arrivalMs;
    this.hdr[h + 4] = channels;
    const off = slot * this.slotFloats;
    const d = this.data;
    for (let i = 0, n = samples * channels; i < n; i++) d[off + i] = src[i]!;
    this.#publish(head);
    return true;
  }

  writeGap(g: RingGap): boolean {
    const head = Atomics.load(this.ctl, HEAD);
    if (((head - Atomics.load(this.ctl, TAIL)) | 0) >= this.slots) return false;
    const h = (head & this.mask) * HDR;
    this.hdr[h] = RecordKind.gap;
    this.hdr[h + 1] = g.outage ? 1 : 0;
    this.hdr[h + 2] = g.missingSamples;
    this.hdr[h + 3] = g.hostSpanMs;
    this.hdr[h + 4] = g.fromSample;
    this.hdr[h + 5] = g.toSample;
    this.hdr[h + 6] = g.deviceReset ? 1 : 0;
    this.#publish(head);
    return true;
  }

  /** True when the reader armed the wake-up and this call took it: post one message. */
  takeWake(): boolean {
    return Atomics.compareExchange(this.ctl, ARMED, 1, 0) === 1;
  }

  #publish(head: number): void {
    // Atomics.store is sequentially consistent: the record's contents are visible before the head.
    Atomics.store(this.ctl, HEAD, (head + 1) | 0);
  }
}

/** What the main thread's callbacks get for one record; the views are valid only during the call. */
export interface RingRecordSink {
  /** The block's channel-major samples are `data[offset .. offset + samples * channels)`. */
  block(firstSample: number, samples: number, channels: number, arrivalMs: number, data: Float32Array, offset: number): void;
  gap(g: RingGap): void;
}

/** The main thread's side. */
export class RingReader extends RingView {
  readonly #gap: RingGap = { outage: false, missingSamples: 0, hostSpanMs: 0, fromSample: 0, toSample: 0, deviceReset: false };

  /**
   * Hands every record written so far to `sink`, in order, then arms the writer's wake-up; loops
   * if records came in meanwhile and the writer has not taken the arm (it posted a wake-up then).
   * Returns the number of records read.
   */
  drain(sink: RingRecordSink): number {
    let n = 0;
    for (;;) {
      let tail = Atomics.load(this.ctl, TAIL);
      while (tail !== Atomics.load(this.ctl, HEAD)) {
        this.#one(tail & this.mask, sink);
        tail = (tail + 1) | 0;
        Atomics.store(this.ctl, TAIL, tail);
        n++;
      }
      Atomics.store(this.ctl, ARMED, 1);
      if (Atomics.load(this.ctl, HEAD) === tail) return n;
      if (Atomics.compareExchange(this.ctl, ARMED, 1, 0) !== 1) return n;
    }
  }

  #one(slot: number, sink: RingRecordSink): void {
    const h = slot * HDR;
    const hdr = this.hdr;
    if (hdr[h] === RecordKind.block) {
      sink.block(hdr[h + 1]!, hdr[h + 2]!, hdr[h + 4]!, hdr[h + 3]!, this.data, slot * this.slotFloats);
      return;
    }
    const g = this.#gap;
    g.outage = hdr[h + 1] === 1;
    g.missingSamples = hdr[h + 2]!;
    g.hostSpanMs = hdr[h + 3]!;
    g.fromSample = hdr[h + 4]!;
    g.toSample = hdr[h + 5]!;
    g.deviceReset = hdr[h + 6] === 1;
    sink.gap(g);
  }
}
