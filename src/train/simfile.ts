import { readFileSync } from 'node:fs';
import { ReflexError } from '../core/errors.js';
import { TrainCodes } from './codes.js';

/**
 * Used to make recordings without waiting on clocks (tests, benchmarks): the sim firmware's
 * synthetic EMG and poses, written as XDF by test/_sim-run.ts. Training itself reads recordings
 * only (reflex train, docs/training.md).
 *
 * The firmware-bridge host's offline output (`reflex-bridge-host --offline S --out FILE`):
 * a 64-byte header ("RFXSIM1\0", u32 rate, u32 channels, u32 tracker rate, u32 dims,
 * f32 µV per count, u32 mains, u64 samples, u64 tracker poses, u64 seed), then the EMG
 * as int32 counts sample-major, then the tracker poses as f32, pose-major. EMG and poses
 * come from the same hidden muscle activations, so the poses are ground truth.
 */
export interface SimRecording {
  rate: number;
  channels: number;
  trackerRate: number;
  dims: number;
  uvPerLsb: number;
  mainsHz: number;
  seed: number;
  /** channels x samples, channel-major, µV. */
  emg: Float32Array;
  samples: number;
  /** poses x dims, pose-major. */
  tracker: Float32Array;
  poses: number;
}

const HEADER = 64;

export function readSimRecording(path: string): SimRecording {
  const buf = readFileSync(path);
  const bad = (why: string): never => {
    throw new ReflexError(
      TrainCodes.simfile,
      `${path} is not a reflex-bridge-host offline file: ${why}; regenerate it with reflex-bridge-host --offline SECONDS --out FILE`,
    );
  };
  if (buf.length < HEADER || buf.toString('latin1', 0, 7) !== 'RFXSIM1') bad('bad magic');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const rate = v.getUint32(8, true);
  const channels = v.getUint32(12, true);
  const trackerRate = v.getUint32(16, true);
  const dims = v.getUint32(20, true);
  const uvPerLsb = v.getFloat32(24, true);
  const mainsHz = v.getUint32(28, true);
  const samples = Number(v.getBigUint64(32, true));
  const poses = Number(v.getBigUint64(40, true));
  const seed = Number(v.getBigUint64(48, true));
  const want = HEADER + samples * channels * 4 + poses * dims * 4;
  if (buf.length !== want) bad(`size ${buf.length} bytes, header promises ${want}`);
  const emg = new Float32Array(channels * samples);
  let at = HEADER;
  for (let i = 0; i < samples; i++) {
    for (let c = 0; c < channels; c++, at += 4) emg[c * samples + i] = v.getInt32(at, true) * uvPerLsb;
  }
  const tracker = new Float32Array(poses * dims);
  for (let j = 0; j < poses * dims; j++, at += 4) tracker[j] = v.getFloat32(at, true);
  return { rate, channels, trackerRate, dims, uvPerLsb, mainsHz, seed, emg, samples, tracker, poses };
}
