/**
 * Telemetry topics and their bodies: the types ARE the wire format (docs/telemetry.md).
 * Field names are the CBOR map keys, hence snake_case. Typed arrays travel as RFC 8746
 * typed-array tags and decode back to the same typed array class.
 */
import { ConfigError } from '../core/errors.js';
import { TelemetryCodes } from './codes.js';

/**
 * Wire schema version, the `v` key of every message. Bump on incompatible changes.
 * 2: the envelope no longer repeats topic, runtime and board; frame 1 carries them.
 * 3: block topics send stream descriptors and packed blocks (blocks.ts).
 */
export const SCHEMA_VERSION = 3;

export const TOPICS = ['emg.raw', 'emg.features', 'tracker', 'prediction', 'actuators', 'loop', 'clock', 'health', 'event'] as const;
export type Topic = (typeof TOPICS)[number];

export function isTopic(value: unknown): value is Topic {
  return typeof value === 'string' && (TOPICS as readonly string[]).includes(value);
}

/** What each block of a stream carries anew; shared by BlockBody and the packed wire form (blocks.ts). */
export interface BlockSamples {
  samples: number;
  /** Index of the first sample since the stream (re)started. */
  first_sample: number;
  /** Device (or frame) sequence number the block came from. */
  block_seq: number;
  /** Device clock at the first sample, microseconds; NaN when the source has no clock. */
  device_time_us: number;
  /** First sample on the host CLOCK_MONOTONIC, ms; NaN until a clock model has mapped it. */
  host_time_ms: number;
  /** Host-clock duration of one sample period, ms. */
  host_period_ms: number;
  valid: boolean;
  /** channels x samples, CHANNEL-MAJOR: sample i of channel c at [c * samples + i]. */
  data: Float32Array;
}

/** A block of samples (raw EMG, filtered features, tracker samples): mirrors core/block.ts SampleBlock. */
export interface BlockBody extends BlockSamples {
  /** Stream id, e.g. "emg" or "tracker". */
  stream: string;
  /** Nominal sample rate, Hz. */
  rate: number;
  /** Physical unit of `data`, e.g. "uV" or "deg". */
  unit: string;
  /** Channel names; their count is the channel count. */
  channels: readonly string[];
}

export interface PredictionBody {
  /** Loop tick that produced the prediction. */
  tick: number;
  /** Model id (directory name or manifest id). */
  model: string;
  /** Output names, one per value. */
  names: readonly string[];
  unit: string;
  values: Float32Array;
  /** Host monotonic ms of the end of the input window. */
  window_end_ms: number;
  /** Host monotonic ms at the start of the loop cycle that produced it (a recording's stamp). */
  cycle_ms: number;
  /** Inference time, ms. */
  latency_ms: number;
}

export interface ActuatorsBody {
  tick: number;
  names: readonly string[];
  /** Unit per actuator, e.g. "deg" or "us". */
  units: readonly string[];
  /** What the predictor asked for. */
  requested: Float32Array;
  /** What was driven after limits and slew. */
  applied: Float32Array;
  /** 1 where a limit changed the request, else 0. */
  limited: Uint8Array;
  /** True while the outputs are held in their safe state (e-stop, stop, fault). */
  safe_state: boolean;
  /** Host monotonic ms at the start of the loop cycle that drove them (a recording's stamp). */
  cycle_ms: number;
}

/** Loop timing over the ticks since the previous `loop` message. */
export interface LoopBody {
  ticks: number;
  period_ms: number;
  /** Ticks whose work did not finish before the next deadline. */
  missed: number;
  lateness_p50_ms: number;
  lateness_p99_ms: number;
  lateness_max_ms: number;
  compute_p50_ms: number;
  compute_p99_ms: number;
  compute_max_ms: number;
}

export type ClockState = 'converging' | 'locked' | 'stale';

/**
 * How a stream's sample times reach the host clock: `device` (the board's or the tracker
 * sender's own clock, through a clock model), `synthetic` (sample count / nominal rate, through a
 * clock model), `host` (stamped on the host's CLOCK_MONOTONIC: identity), `arrival` (no stamp:
 * arrival time), `none` (no sample yet).
 */
export type ClockTimeBase = 'device' | 'synthetic' | 'host' | 'arrival' | 'none';

/** One `clock` message per stream (`emg`, `tracker`) per report. */
export interface ClockBody {
  /** Stream whose clock mapping this is, e.g. "emg" or "tracker". */
  source: string;
  /** `stale` also while the stream delivers nothing, whatever its model says. */
  state: ClockState;
  time_base: ClockTimeBase;
  /** Host minus device time, ms; 0 for `host` and `arrival`, NaN while unknown. */
  offset_ms: number;
  /** Device clock rate error, ppm; 0 for `host` and `arrival`, NaN while unknown. */
  drift_ppm: number;
  /** How tight the evidence is, ms (docs/timing.md); 0 for `host`, NaN for `arrival` and while unknown. */
  residual_ms: number;
  /** Observations the model has taken (0 without a model). */
  points: number;
}

/** One tracker feed as `health` and `status` report it. */
export interface TrackerHealth {
  /** `waiting` (nothing delivered yet), `fresh`, or `stale` (silent longer than the feed's staleMs). */
  feed: 'waiting' | 'fresh' | 'stale';
  /** ms since the newest sample arrived; NaN before the first. */
  silence_ms: number;
  /** The feed's transport: `up`, `down`, or `none` when it has none of its own (the board's TRACKER frames). */
  link: 'up' | 'down' | 'none';
  /** Its clock mapping, as in the `clock` topic (without `source`). */
  clock: Omit<ClockBody, 'source'>;
}

export interface HealthBody {
  /** Runtime state, e.g. "running", "stopped", "estop". */
  state: string;
  uptime_s: number;
  /** Every counter of the run: its own, `source.*`, `tracker.*` (the feed's), `loop.*`, `control.*`. */
  counters: Record<string, number>;
  /** Tracker feeds by stream name; empty when the run has none. */
  trackers: Record<string, TrackerHealth>;
}

export type EventLevel = 'info' | 'warn' | 'error';

export interface EventBody {
  /** Machine-readable kind, e.g. "estop", "model", "start", "disconnect". */
  kind: string;
  level: EventLevel;
  message: string;
  data?: Record<string, string | number | boolean>;
}

export interface TopicBodies {
  'emg.raw': BlockBody;
  'emg.features': BlockBody;
  tracker: BlockBody;
  prediction: PredictionBody;
  actuators: ActuatorsBody;
  loop: LoopBody;
  clock: ClockBody;
  health: HealthBody;
  event: EventBody;
}

export type BlockTopic = 'emg.raw' | 'emg.features' | 'tracker';

/** Per-topic counters the publisher keeps; also sent in every `health` body under `telemetry`. */
export interface TopicStats {
  /** Messages handed to the socket (sequence numbers used). */
  sent: number;
  /** Messages the publisher failed to encode or send. Never a subscriber's full queue: only that subscriber sees those, as sequence gaps. */
  dropped: number;
  /** Calls skipped on purpose by decimation. */
  decimated: number;
  /** Stream descriptors among `sent` + `dropped` (block topics only): they use sequence numbers too. */
  descriptors: number;
}

export interface PublisherStats {
  sent: number;
  dropped: number;
  decimated: number;
  /** publish() calls while not started or after close. */
  not_running: number;
  /** Encode and send failures (counted in `dropped` too) and failures reading subscriptions. */
  errors: number;
  topics: Record<Topic, TopicStats>;
}

/** What the publisher actually puts in a health body: the runtime's fields plus its own stats. */
export interface HealthWireBody extends HealthBody {
  telemetry: PublisherStats;
}

export interface WireBodies extends Omit<TopicBodies, 'health'> {
  health: HealthWireBody;
}

/** The CBOR map in frame 2; its topic and source (runtime, board) are in frame 1. */
export interface Envelope<T extends Topic = Topic> {
  v: number;
  /** Per (runtime, topic) sequence number, from 0; a gap means lost messages. */
  seq: number;
  /** Host CLOCK_MONOTONIC at publish, ms. */
  mono_ms: number;
  /** Wall clock (Unix epoch) at publish, ms. */
  wall_ms: number;
  body: WireBodies[T];
}

/** Where a received message came from. */
export interface Source {
  /** Endpoint the client received it on. */
  endpoint: string;
  runtime: string;
  board: string;
}

/** A decoded message as TelemetryClient yields it: discriminated on `topic`. */
export type TelemetryMessage = {
  [T in Topic]: {
    topic: T;
    source: Source;
    v: number;
    seq: number;
    mono_ms: number;
    wall_ms: number;
    body: WireBodies[T];
    /** Messages of this (endpoint, runtime, topic) missed just before this one (sequence gap). */
    lost: number;
  };
}[Topic];

const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Runtime and board ids appear in topic frames, so they must not contain '/' or odd bytes. */
export function checkId(kind: 'runtimeId' | 'boardId', id: string): void {
  if (!ID_RE.test(id)) {
    throw new ConfigError(TelemetryCodes.badId, `${kind} "${id}" must be 1-64 characters of A-Z a-z 0-9 _ . - (it is part of every topic frame)`);
  }
}

/**
 * Frame 1: "<topic>/<runtime>/<board>". Topic first so one SUB prefix selects a topic from
 * every runtime ("emg.raw/"), a topic family ("emg."), or one runtime's topic ("emg.raw/rig-a/").
 */
export function topicFrame(topic: Topic, runtime: string, board: string): string {
  return `${topic}/${runtime}/${board}`;
}

/** The SUB prefixes for a topic selection and runtime selection (empty lists mean all). */
export function subscriptionPrefixes(topics: readonly Topic[] | undefined, runtimes: readonly string[] | undefined): string[] {
  const ts = topics && topics.length > 0 ? topics : undefined;
  const rs = runtimes && runtimes.length > 0 ? runtimes : undefined;
  if (!ts && !rs) return [''];
  const out: string[] = [];
  for (const t of ts ?? TOPICS) {
    if (!rs) out.push(`${t}/`);
    else for (const r of rs) out.push(`${t}/${r}/`);
  }
  return out;
}

export function parseTopicFrame(frame: string): { topic: Topic; runtime: string; board: string } | undefined {
  const parts = frame.split('/');
  if (parts.length !== 3) return undefined;
  const [topic, runtime, board] = parts as [string, string, string];
  if (!isTopic(topic) || !ID_RE.test(runtime) || !ID_RE.test(board)) return undefined;
  return { topic, runtime, board };
}
