/**
 * Decoder throughput: 16-channel int24 SAMPLES frames (20 samples each, the most a
 * frame holds) through the full BridgeDecoder (COBS, CRC, classification, resync
 * bookkeeping, gap tracking, unpack to µV), fed in chunks of realistic USB-serial sizes.
 *
 * Baseline in the same run: a minimal loop written here (find delimiter, COBS into a
 * scratch buffer, CRC, unpack), with none of the decoder's checks or bookkeeping.
 * Units: a *sample* is one channel's value at one instant (16 channels at 2 kHz make 32,000
 * samples/s), the usual count for multichannel ADC throughput and the one the reference
 * point uses ("a plain-JS sketch of COBS + CRC-16 + 24-bit unpacking reached 40 million": only
 * possible per channel value, since 40 M sixteen-channel sets/s would be 1.9 GB/s of CRC'd
 * bytes). `sample_sets_per_s` counts whole 16-channel time steps.
 */
import { crc16 } from '../src/bridge/crc16.js';
import { BridgeDecoder } from '../src/bridge/decoder.js';
import { FrameWriter } from '../src/bridge/encode.js';
import { log, machine, median } from './_util.js';
import os from 'node:os';
import { parseArgs } from 'node:util';

const CHANNELS = 16;
const SAMPLES = 20;

function buildStream(frames: number): Uint8Array {
  const w = new FrameWriter();
  const counts = new Int32Array(CHANNELS * SAMPLES);
  // EMG-like: a few thousand counts of noise around zero, so the int24 top bytes are
  // mostly 0x00/0xFF and COBS has realistic block lengths.
  let x = 12345;
  const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
  const out = new Uint8Array(frames * 1040);
  let o = 0;
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < counts.length; k++) counts[k] = Math.round((rand() + rand() + rand()) * 4000);
    const bytes = w.samples({
      seq: f,
      firstSample: f * SAMPLES,
      tUs: 1_000_000 + f * SAMPLES * 250,
      uvPerLsb: Math.fround(0.02235174),
      channels: CHANNELS,
      samples: SAMPLES,
      format: 0,
      counts,
    });
    out.set(bytes, o);
    o += bytes.length;
  }
  return out.subarray(0, o);
}

/** The minimal loop: no chunking, no validation beyond CRC, no gap tracking. */
function plainDecode(stream: Uint8Array, scratch: Uint8Array, out: Float32Array): number {
  let samples = 0;
  let i = 0;
  const n = stream.length;
  while (i < n) {
    const z = stream.indexOf(0, i);
    if (z < 0) break;
    // COBS
    let w = 0;
    let r = i;
    while (r < z) {
      const code = stream[r++]!;
      const end = r + code - 1;
      while (r < end) scratch[w++] = stream[r++]!;
      if (code < 255 && r < z) scratch[w++] = 0;
    }
    i = z + 1;
    const len = w;
    if (crc16(scratch, 0, len - 2) !== (scratch[len - 2]! | (scratch[len - 1]! << 8))) continue;
    const C = scratch[22]!;
    const N = scratch[23]!;
    const scale = new DataView(scratch.buffer).getFloat32(18, true);
    let p = 26;
    for (let s = 0; s < N; s++)
      for (let c = 0; c < C; c++, p += 3) out[c * N + s] = (((scratch[p]! | (scratch[p + 1]! << 8) | (scratch[p + 2]! << 16)) << 8) >> 8) * scale;
    samples += N;
  }
  return samples;
}

export function main(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: { frames: { type: 'string' }, runs: { type: 'string' }, chunk: { type: 'string' }, duration: { type: 'string' } },
    strict: false,
  });
  const frames = Number(values.frames ?? 20000);
  const runs = Number(values.runs ?? 7);
  const chunk = Number(values.chunk ?? 4096);
  const stream = buildStream(frames);
  log(`decode: ${frames} frames of ${CHANNELS}ch x ${SAMPLES} samples, ${(stream.length / 1e6).toFixed(1)} MB, chunks of ${chunk} B, ${runs} runs`);

  let sink = 0;
  const dec = new BridgeDecoder({ onSamples: (b) => (sink += b.data[0]!) }, { rate: 4000 });
  const full: number[] = [];
  const plain: number[] = [];
  // Per CPU-second too: on a shared, loaded machine wall time includes time we were not running.
  const fullCpu: number[] = [];
  const plainCpu: number[] = [];
  const cpuS = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;
  const scratch = new Uint8Array(1100);
  const out = new Float32Array(CHANNELS * SAMPLES);
  let delivered: number;
  for (let run = 0; run < runs + 1; run++) {
    // Alternate to share the machine's noise fairly; run 0 is warm-up for both.
    dec.reset();
    const before = dec.stats().samples;
    let c0 = process.cpuUsage();
    let t0 = process.hrtime.bigint();
    for (let o = 0; o < stream.length; o += chunk) dec.push(stream.subarray(o, Math.min(o + chunk, stream.length)));
    let sec = Number(process.hrtime.bigint() - t0) / 1e9;
    let cpu = cpuS(process.cpuUsage(c0));
    delivered = dec.stats().samples - before;
    if (run > 0) {
      full.push(delivered / sec);
      fullCpu.push(delivered / cpu);
    }
    c0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    const got = plainDecode(stream, scratch, out);
    sec = Number(process.hrtime.bigint() - t0) / 1e9;
    cpu = cpuS(process.cpuUsage(c0));
    if (got !== delivered) throw new Error(`baseline decoded ${got} samples, decoder ${delivered}: the bench is wrong`);
    if (run > 0) {
      plain.push(got / sec);
      plainCpu.push(got / cpu);
    }
  }
  // The same decoder fed USB full-speed packet sized chunks (64 B): more calls, same bytes.
  const small: number[] = [];
  for (let run = 0; run < runs; run++) {
    dec.reset();
    const before = dec.stats().samples;
    const t0 = process.hrtime.bigint();
    for (let o = 0; o < stream.length; o += 64) dec.push(stream.subarray(o, Math.min(o + 64, stream.length)));
    small.push((dec.stats().samples - before) / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  const s = dec.stats();
  if (s.bad !== 0) throw new Error(`decoder counted ${s.bad} bad frames in a clean stream`);
  const samplesPerS = median(full);
  const plainPerS = median(plain);
  return Promise.resolve({
    samples_per_s: Math.round(samplesPerS * CHANNELS),
    sample_sets_per_s: Math.round(samplesPerS),
    mb_per_s: +(((samplesPerS / SAMPLES) * (stream.length / frames)) / 1e6).toFixed(1),
    plain_samples_per_s: Math.round(plainPerS * CHANNELS),
    ratio_to_plain: +(samplesPerS / plainPerS).toFixed(3),
    samples_per_cpu_s: Math.round(median(fullCpu) * CHANNELS),
    plain_samples_per_cpu_s: Math.round(median(plainCpu) * CHANNELS),
    samples_per_s_chunk64: Math.round(median(small) * CHANNELS),
    target_samples_per_s: 50_000_000,
    channels: CHANNELS,
    samples_per_frame: SAMPLES,
    chunk_bytes: chunk,
    frames,
    runs,
    runs_sample_sets_per_s: full.map(Math.round),
    runs_plain_sample_sets_per_s: plain.map(Math.round),
    checksum: sink === sink ? 'ok' : 'nan',
    loadavg_1m: +os.loadavg()[0]!.toFixed(2),
    machine: machine(),
  });
}
