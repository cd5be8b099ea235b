/**
 * The sample block: the one currency every source produces and every unit consumes.
 *
 * Layout is CHANNEL-MAJOR: sample `i` of channel `c` is `data[c * samples + i]`.
 * Channel-major keeps each channel's history contiguous, which is what filters
 * (one delay line per channel) and window extraction want.
 *
 * Times:
 * - `deviceTimeUs`: the source's own clock at the first sample, microseconds (NaN if the
 *   source has no clock of its own).
 * - `hostTimeMs`: the first sample mapped onto the host's CLOCK_MONOTONIC, milliseconds
 *   (see `time/monotonic.ts`); NaN until a clock model has mapped it.
 * Sample `i` is at `t0 + i / rate` on either clock (the device clock for device time,
 * the mapped clock for host time, which already includes the drift correction via
 * `hostPeriodMs`).
 */
export interface SampleBlock {
  /** Stream id, e.g. "emg" or "tracker". */
  readonly stream: string;
  readonly channels: number;
  readonly samples: number;
  /** Nominal sample rate, Hz. */
  readonly rate: number;
  /** channels x samples, channel-major. */
  readonly data: Float32Array;
  readonly channelNames: readonly string[];
  /** Physical unit of `data`, e.g. "uV" or "deg". */
  readonly unit: string;
  /** Index of the first sample since the stream (re)started; gaps show as jumps. */
  firstSample: number;
  /** Device (or frame) sequence number this block came from. */
  seq: number;
  deviceTimeUs: number;
  hostTimeMs: number;
  /** Host-clock duration of one sample period after drift correction, ms (1000/rate until mapped). */
  hostPeriodMs: number;
  /** False when the block is known to be incomplete or untrustworthy; never silently filled. */
  valid: boolean;
}

export function createBlock(init: {
  stream: string;
  channels: number;
  samples: number;
  rate: number;
  channelNames?: readonly string[];
  unit?: string;
  data?: Float32Array;
}): SampleBlock {
  const { stream, channels, samples, rate } = init;
  const data = init.data ?? new Float32Array(channels * samples);
  if (data.length !== channels * samples) {
    throw new RangeError(`block data has ${data.length} values, expected channels*samples = ${channels * samples}`);
  }
  return {
    stream,
    channels,
    samples,
    rate,
    data,
    channelNames: init.channelNames ?? defaultChannelNames(channels),
    unit: init.unit ?? 'uV',
    firstSample: 0,
    seq: 0,
    deviceTimeUs: Number.NaN,
    hostTimeMs: Number.NaN,
    hostPeriodMs: 1000 / rate,
    valid: true,
  };
}

const nameCache = new Map<number, readonly string[]>();
/** "ch1".."chN", shared per channel count so blocks do not allocate name arrays. */
export function defaultChannelNames(channels: number): readonly string[] {
  let names = nameCache.get(channels);
  if (!names) {
    names = Object.freeze(Array.from({ length: channels }, (_, i) => `ch${i + 1}`));
    nameCache.set(channels, names);
  }
  return names;
}
