/**
 * A Reflex recording as the XDF reader returns it and replay, train and export consume it.
 * The file format is XDF 1.0 (docs/recording.md); this is its decoded, Reflex-shaped view.
 *
 * Contract between src/record (writer, reader, recorder) and its consumers (replay, train,
 * calibrate, export): change it here first, then in every consumer.
 */

/** XDF channel formats Reflex writes. */
export type XdfFormat = 'float32' | 'double64' | 'int32' | 'string';

/** Reflex's metadata kept in each stream header's `<desc><reflex>` element, as parsed JSON. */
export interface ReflexStreamMeta {
  /** The telemetry topic the stream came from, e.g. "emg.raw", "tracker", "prediction". */
  topic: string;
  /** Block streams: the source stream id ("emg", "tracker"). */
  stream?: string;
  /** Runtime id and board id of the run that produced it. */
  runtime: string;
  board: string;
  /** Anything else Reflex records about the stream (clock model, model id, run configuration...), JSON-safe. */
  [key: string]: unknown;
}

export interface RecordedStream {
  /** XDF stream id (1-based, as in the file). */
  id: number;
  /** XDF `name`, e.g. "reflex emg.raw emg". */
  name: string;
  /** XDF content `type`, e.g. "EMG", "Mocap", "Prediction", "Markers". */
  type: string;
  /** Nominal rate, Hz; 0 for irregular streams. */
  rate: number;
  format: XdfFormat;
  /** Channel labels, one per channel. */
  channels: string[];
  /** Channel units, one per channel. */
  units: string[];
  meta: ReflexStreamMeta;
  /** Per-sample host time, SECONDS on the host CLOCK_MONOTONIC (XDF convention). */
  timestamps: Float64Array;
  /** samples x channels, SAMPLE-MAJOR (XDF order); empty for string streams. */
  data: Float32Array | Float64Array | Int32Array;
  /** String streams: one entry per sample (single channel). */
  strings: string[];
  samples: number;
  /** XDF ClockOffset chunks: collection time (s) and offset (s) to add to this stream's stamps. */
  clockOffsets: { time: number; value: number }[];
}

export interface Recording {
  path: string;
  /** The file header's `<info>` fields as parsed (version, datetime, reflex JSON when present). */
  header: Record<string, unknown>;
  streams: RecordedStream[];
  /** Set when the file ends inside a chunk (for example after kill -9): bytes ignored at the end. */
  truncatedBytes: number;
}
