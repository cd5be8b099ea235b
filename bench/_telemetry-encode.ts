/**
 * Part of `npm run bench -- telemetry`: the publisher's hand-written CBOR writer
 * (src/telemetry/cbor-writer.ts) against cbor-x's Encoder configured as codec.ts
 * createEncoder() does, on the same messages, in the same process, alternating.
 *
 * Cases: a packed emg.raw block of 64 B, 4 KiB and 256 KiB of samples (what the sources
 * publish at block rate), its stream descriptor (once a second), and envelopes of the
 * other topics (actuators and prediction at loop rate, loop and clock ten times a second,
 * health once a second, event rarely). Each
 * round times a batch of encodes with one encoder, then the other; reported are the median
 * ns per encode over the rounds, the ratio cbor-x / writer (above 1: the writer is faster),
 * the encoded size, and V8 heap bytes allocated per encode (from GC statistics; memory
 * outside the V8 heap, such as a large Buffer's backing store, is not in it).
 */
import { GCProfiler } from 'node:v8';
import { median } from './_util.js';
import { CborWriter } from '../src/telemetry/cbor-writer.js';
import { createEncoder } from '../src/telemetry/codec.js';
import { PACKED_LENGTH } from '../src/telemetry/blocks.js';
import { SCHEMA_VERSION, type BlockBody } from '../src/telemetry/topics.js';

export interface EncodeCase {
  name: string;
  writer: () => Uint8Array;
  cborx: () => Uint8Array;
}

function blockBody(payloadBytes: number): BlockBody {
  const channels = 8;
  const samples = Math.max(1, payloadBytes / 4 / channels);
  const data = new Float32Array(channels * samples).map((_, i) => Math.sin(i));
  return {
    stream: 'emg',
    rate: 2000,
    unit: 'uV',
    channels: Array.from({ length: channels }, (_, i) => `ch${i + 1}`),
    samples,
    first_sample: 123_456,
    block_seq: 789,
    device_time_us: 61_234_567,
    host_time_ms: 1_234_567.25,
    host_period_ms: 0.5,
    valid: true,
    data,
  };
}

export type EncoderName = 'writer' | 'cborx';

/** A packed block as the publisher encodes it (docs/telemetry.md section 4), by either encoder. */
export function packedBlockEncoder(which: EncoderName): (seq: number, monoMs: number, desc: number, b: BlockBody) => Uint8Array {
  if (which === 'writer') {
    const w = new CborWriter();
    return (seq, monoMs, desc, b) => w.encodePackedBlock(SCHEMA_VERSION, seq, monoMs, desc, b);
  }
  const x = createEncoder();
  return (seq, monoMs, desc, b) => {
    const a = new Array<unknown>(PACKED_LENGTH);
    a[0] = SCHEMA_VERSION;
    a[1] = seq;
    a[2] = monoMs;
    a[3] = desc;
    a[4] = b.samples;
    a[5] = b.first_sample;
    a[6] = b.block_seq;
    a[7] = b.device_time_us;
    a[8] = b.host_time_ms;
    a[9] = b.host_period_ms;
    a[10] = b.valid;
    a[11] = b.data;
    return x.encode(a);
  };
}

/** The messages the runtime sends, built once; the sequence numbers and times move per encode as in a real run. */
export function encodeCases(): EncodeCase[] {
  const w = new CborWriter();
  const x = createEncoder();
  const pw = packedBlockEncoder('writer');
  const px = packedBlockEncoder('cborx');
  const prefix = w.envelopePrefix(SCHEMA_VERSION);
  let seq = 1_000;
  const mono = (): number => 5_000_000.125 + seq;
  const wall = (): number => 1_765_000_000_000 + seq;
  const envelope = (name: string, body: unknown): EncodeCase => ({
    name,
    writer: () => w.encodeEnvelope(prefix, seq++, mono(), wall(), body),
    cborx: () => x.encode({ v: SCHEMA_VERSION, seq: seq++, mono_ms: mono(), wall_ms: wall(), body }),
  });
  const packed = (name: string, b: BlockBody): EncodeCase => ({
    name,
    writer: () => pw(seq++, mono(), 4242, b),
    cborx: () => px(seq++, mono(), 4242, b),
  });
  const names = ['wrist', 'grip', 'thumb', 'index'];
  const counters: Record<string, number> = {};
  for (const k of [
    'source.samples',
    'source.blocks',
    'gaps',
    'crc_errors',
    'resyncs',
    'loop.cycles',
    'loop.overruns',
    'safety.events',
    'control.requests',
    'control.refused',
    'tracker.samples',
    'tracker.stale',
    'units.windows',
    'aligner.windows',
    'aligner.late',
    'telemetry.errors',
  ]) {
    counters[k] = Math.floor(Math.random() * 1e6);
  }
  const topicStats = { sent: 123_456, dropped: 0, decimated: 0, descriptors: 12 };
  const telemetry = {
    sent: 999_999,
    dropped: 0,
    decimated: 0,
    not_running: 0,
    errors: 0,
    topics: Object.fromEntries(
      ['emg.raw', 'emg.features', 'tracker', 'prediction', 'actuators', 'loop', 'clock', 'health', 'event'].map((t) => [t, { ...topicStats }]),
    ),
  };
  return [
    packed('emg.raw 64B', blockBody(64)),
    packed('emg.raw 4KiB', blockBody(4096)),
    packed('emg.raw 256KiB', blockBody(256 * 1024)),
    envelope('descriptor', { desc: 4242, stream: 'emg', rate: 2000, unit: 'uV', channels: blockBody(64).channels }),
    envelope('actuators', {
      tick: 12_345,
      names,
      units: ['deg', 'deg', 'us', 'us'],
      requested: new Float32Array([10.5, -3, 1500, 1490]),
      applied: new Float32Array([10, -3, 1500, 1490]),
      limited: new Uint8Array([1, 0, 0, 0]),
      safe_state: false,
      cycle_ms: 1_234_570,
    }),
    envelope('prediction', {
      tick: 12_345,
      model: 'default-mlp-160-64-32-2',
      names: ['wrist', 'grip'],
      unit: 'deg',
      values: new Float32Array([12.25, -4.5]),
      window_end_ms: 1_234_567.5,
      cycle_ms: 1_234_570,
      latency_ms: 0.034,
    }),
    envelope('loop', {
      ticks: 10,
      period_ms: 10,
      missed: 0,
      lateness_p50_ms: 0.012,
      lateness_p99_ms: 0.043,
      lateness_max_ms: 0.121,
      compute_p50_ms: 0.031,
      compute_p99_ms: 0.052,
      compute_max_ms: 0.2,
    }),
    envelope('clock', { source: 'emg', state: 'locked', time_base: 'device', offset_ms: 1234.567, drift_ppm: -12.5, residual_ms: 0.21, points: 40 }),
    envelope('health', { state: 'running', uptime_s: 3600.25, counters, trackers: {}, telemetry }),
    envelope('event', {
      kind: 'safety',
      level: 'warn',
      message: 'stale input: no window for 25 ms, outputs held safe',
      data: { reason: 'stale_input', cycle: 12_345 },
    }),
  ];
}

/** Bytes allocated on the V8 heap over a profiled span: growth plus what collections freed. */
function heapAllocated(before: number, after: number, stats: ReturnType<GCProfiler['stop']>): number {
  let freed = 0;
  for (const s of stats?.statistics ?? []) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  return after - before + freed;
}

function timeBatch(f: () => Uint8Array, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / n;
}

function heapPerEncode(f: () => Uint8Array, n: number): number {
  const prof = new GCProfiler();
  const before = process.memoryUsage().heapUsed;
  prof.start();
  for (let i = 0; i < n; i++) f();
  const after = process.memoryUsage().heapUsed;
  return heapAllocated(before, after, prof.stop()) / n;
}

/**
 * Median ns per encode for each case and encoder over `rounds` alternating batches of about
 * `batchMs` each, plus size and heap bytes per encode.
 */
export function compareEncoders(seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  const cases = encodeCases();
  const perCase = (seconds * 1000) / cases.length;
  for (const c of cases) {
    // Warm both up (JIT, caches, slab growth) and size a batch to about 2 ms.
    const warm = performance.now();
    let n = 0;
    while (performance.now() - warm < 100) {
      c.writer();
      c.cborx();
      n++;
    }
    const batch = Math.max(4, Math.round((n / 100) * 2));
    const w: number[] = [];
    const x: number[] = [];
    const end = performance.now() + perCase;
    for (let r = 0; performance.now() < end || r < 20; r++) {
      if (r % 2 === 0) {
        w.push(timeBatch(c.writer, batch));
        x.push(timeBatch(c.cborx, batch));
      } else {
        x.push(timeBatch(c.cborx, batch));
        w.push(timeBatch(c.writer, batch));
      }
    }
    const key = c.name.replace(/[^A-Za-z0-9]+/g, '_');
    const wNs = median(w);
    const xNs = median(x);
    out[`encode_ns_writer_${key}`] = Number(wNs.toFixed(0));
    out[`encode_ns_cborx_${key}`] = Number(xNs.toFixed(0));
    out[`encode_ratio_cborx_over_writer_${key}`] = Number((xNs / wNs).toFixed(2));
    out[`encode_bytes_writer_${key}`] = c.writer().length;
    out[`encode_bytes_cborx_${key}`] = c.cborx().length;
    const heapN = Math.max(100, batch * 20);
    out[`encode_heap_bytes_writer_${key}`] = Math.round(heapPerEncode(c.writer, heapN));
    out[`encode_heap_bytes_cborx_${key}`] = Math.round(heapPerEncode(c.cborx, heapN));
  }
  return out;
}
