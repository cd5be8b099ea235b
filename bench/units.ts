/**
 * `npm run bench -- units [--duration SECONDS] [--chunk SAMPLES]`
 *
 * Band-pass (20-450 Hz, order 4) + mains notch (50 Hz, 3 harmonics) + envelope (rectify,
 * 5 Hz low-pass, order 2) over 16 channels at 2 kHz, fed in chunks: once through composed
 * units, once through one hand-written loop doing the same filter arithmetic per sample,
 * alternating in the same run. Reports the median real-time factor of each (seconds of signal
 * processed per second of wall time) and their ratio.
 */
import { createBlock, type SampleBlock } from '../src/core/block.js';
import { buildPipeline, butterBandpass, butterLowpass, cascade, notch, sliceBlock, type Sos } from '../src/units/index.js';
import { benchArgs, log, machine, median } from './_util.js';

const CHANNELS = 16;
const RATE = 2000;
const SIGNAL_SECONDS = 10;

const spec = [
  { unit: 'bandpass', low: 20, high: 450, order: 4 },
  { unit: 'notch', mains: 50, harmonics: 3, q: 30 },
  { unit: 'envelope', method: 'lowpass', cutoff: 5, order: 2 },
];

function synth(): SampleBlock {
  const n = RATE * SIGNAL_SECONDS;
  const b = createBlock({ stream: 'emg', channels: CHANNELS, samples: n, rate: RATE });
  let s = 0x2545f491;
  for (let c = 0; c < CHANNELS; c++) {
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const burst = Math.floor(i / 1500 + c) % 2 === 0 ? 80 : 5;
      b.data[c * n + i] = burst * ((s >>> 0) / 2 ** 32 - 0.5) + 40 * Math.sin((2 * Math.PI * 50 * i) / RATE);
    }
  }
  b.hostTimeMs = 0;
  return b;
}

/** The whole chain for one chunk, written as one loop over samples with all sections inline. */
class HandLoop {
  readonly #bp: Sos;
  readonly #notch: Sos;
  readonly #lp: Sos;
  readonly #sBp: Float64Array;
  readonly #sNotch: Float64Array;
  readonly #sLp: Float64Array;
  readonly out: Float32Array;

  constructor(maxSamples: number) {
    this.#bp = butterBandpass(20, 450, RATE, 4);
    this.#notch = cascade(notch(50, RATE, 30), notch(100, RATE, 30), notch(150, RATE, 30));
    this.#lp = butterLowpass(5, RATE, 2);
    this.#sBp = new Float64Array(CHANNELS * this.#bp.length);
    this.#sNotch = new Float64Array(CHANNELS * this.#notch.length);
    this.#sLp = new Float64Array(CHANNELS * this.#lp.length);
    this.out = new Float32Array(CHANNELS * maxSamples);
  }

  process(block: SampleBlock): Float32Array {
    const n = block.samples;
    const x = block.data;
    const y = this.out;
    for (let c = 0; c < CHANNELS; c++) {
      for (let i = c * n, end = i + n; i < end; i++) {
        let v = sections(this.#bp, this.#sBp, c, x[i]!);
        v = sections(this.#notch, this.#sNotch, c, v);
        y[i] = sections(this.#lp, this.#sLp, c, Math.abs(v));
      }
    }
    return y;
  }
}

/** One sample through a cascade; state for channel c at c * sos.length (2 values per section). */
function sections(sos: Sos, state: Float64Array, c: number, x: number): number {
  const base = c * sos.length;
  for (let k = 0; k < sos.length; k += 5) {
    const z = base + (k / 5) * 2;
    const y = sos[k]! * x + state[z]!;
    state[z] = sos[k + 1]! * x - sos[k + 3]! * y + state[z + 1]!;
    state[z + 1] = sos[k + 2]! * x - sos[k + 4]! * y;
    x = y;
  }
  return x;
}

/** `--name VALUE` or `--name=VALUE` (benchArgs only declares --duration). */
function flag(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  return undefined;
}

export function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 10 });
  const chunk = Number(flag(argv, 'chunk') ?? 40);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error('--chunk must be a positive integer');
  const signal = synth();
  const chunks: SampleBlock[] = [];
  for (let at = 0; at + chunk <= signal.samples; at += chunk) chunks.push(sliceBlock(signal, at, chunk));
  const seconds = (chunks.length * chunk) / RATE;

  const units: number[] = [];
  const hand: number[] = [];
  let maxDiff = 0;
  let sink = 0;
  const started = performance.now();
  for (let round = 0; round < 3 || (performance.now() - started) / 1000 < duration; round++) {
    const pipeline = buildPipeline(spec, { input: { rate: RATE, channels: CHANNELS } });
    const loop = new HandLoop(chunk);
    let t0 = performance.now();
    for (const b of chunks) sink += pipeline.process(b).data[0]!;
    const tUnits = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (const b of chunks) sink += loop.process(b)[0]!;
    const tHand = (performance.now() - t0) / 1000;
    if (round === 0) {
      // Warm-up round: not timed, but used to check both paths compute the same thing.
      const a = buildPipeline(spec);
      const h = new HandLoop(chunk);
      for (const b of chunks) {
        const ya = a.process(b).data;
        const yh = h.process(b);
        for (let i = 0; i < ya.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ya[i]! - yh[i]!));
      }
      continue;
    }
    units.push(seconds / tUnits);
    hand.push(seconds / tHand);
    if (round % 50 === 1) log(`round ${round}: units ${(seconds / tUnits).toFixed(1)}x, hand loop ${(seconds / tHand).toFixed(1)}x real time`);
  }
  const x = median(units);
  const h = median(hand);
  return Promise.resolve({
    x_realtime: Math.round(x * 10) / 10,
    handloop_x_realtime: Math.round(h * 10) / 10,
    ratio: Math.round((x / h) * 1000) / 1000,
    rounds: units.length,
    channels: CHANNELS,
    rate: RATE,
    chunk_samples: chunk,
    signal_seconds: seconds,
    max_abs_diff_vs_handloop: maxDiff,
    checksum: Number.isFinite(sink),
    machine: machine(),
  });
}
