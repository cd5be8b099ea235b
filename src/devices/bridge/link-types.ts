/** Options, events and reports of `BridgeLink` (link.ts). */
import type { Logger } from '../../core/log.js';
import type { SampleBlock } from '../../core/block.js';
import type { Heartbeat, Hello, SamplesHeader } from '../../bridge/frames.js';
import type { SerialOpener } from '../../hal/serial.js';
import type { ReflexError } from '../../core/errors.js';

export type LinkState = 'connecting' | 'streaming' | 'reconnecting' | 'stopped';

/** Timers the link uses; tests pass a fake clock to drive time by hand. */
export interface LinkTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BridgeLinkOptions {
  /** How to open the port: `openNodeSerial` on hardware, `FakeSerialBus.open` in tests. */
  open: SerialOpener;
  path: string;
  /** Honoured by real UARTs only (default 115200). */
  baudRate?: number;
  /** CONFIG rate_hz, 250..4000; 0 or absent keeps the device's current rate. */
  rate?: number;
  /** CONFIG channels; 0 or absent keeps the device's current channels. */
  channels?: number;
  /** CONFIG block_samples; 0 or absent lets the device choose (about one block per ms). */
  block?: number;
  /** Wait for HELLO after HELLO_REQ, ms (default 1000, section 4). */
  helloTimeoutMs?: number;
  /** HELLO_REQs per connection before reconnecting (default 3). */
  helloAttempts?: number;
  /** Wait for ACK/ERROR of a command, ms (default 1000). */
  commandTimeoutMs?: number;
  /** PING period for clock sync and the device watchdog, ms; 0 disables (default 200). */
  pingIntervalMs?: number;
  /** No bytes for this long while connected means a stalled device, ms (default 1000). */
  stallMs?: number;
  /** On stop(), how long to wait for the STOP's ACK before closing anyway, ms (default 250): a silent device must not hold up a shutdown. */
  stopAckMs?: number;
  /** First reconnect delay, doubled per failed attempt up to backoffMaxMs (default 100). */
  backoffMinMs?: number;
  /** Longest reconnect delay, ms (default 5000). */
  backoffMaxMs?: number;
  /** A session that streamed this long resets the backoff, ms (default 5000). */
  healthyMs?: number;
  /** Host clock, ms (default monotonicMs: CLOCK_MONOTONIC). */
  now?: () => number;
  timers?: LinkTimers;
  /** Rate-limited warnings (bad frames, gaps, failures nobody listens to); default: stderr. */
  logger?: Logger;
}

/** One PING round trip: the raw material of device-to-host clock synchronisation. */
export interface PongSample {
  pingId: number;
  /** Host time the PING was handed to the port, ms. */
  hostSendMs: number;
  /** Host time the PONG's bytes arrived, ms. */
  hostRecvMs: number;
  /** Device time the PING was decoded, µs. */
  deviceRxUs: number;
  /** Device time the PONG was queued, µs. */
  deviceTxUs: number;
}

export interface TrackerSample {
  seq: number;
  deviceTimeUs: number;
  /** Reused: valid only during the event. */
  values: Float32Array;
}

export type GapCause =
  /** SAMPLES seq/first_sample jumped within a connection (frames lost on the way or in the device). */
  | 'frames'
  /** The connection was lost (unplug, stall, port error) and came back. */
  | 'outage'
  /** The device restarted its stream on its own (seq back to 0 without our START). */
  | 'restart';

export interface LinkGap {
  cause: GapCause;
  /** Arrival of the last block before the gap, host ms (NaN if there was none). */
  hostFromMs: number;
  /** Arrival of the first block after it, host ms. */
  hostToMs: number;
  /** hostToMs - hostFromMs. */
  hostSpanMs: number;
  /** Device counters either side ('frames' only; NaN otherwise, as seq restarts with START). */
  fromSeq: number;
  toSeq: number;
  missingFrames: number;
  missingSamples: number;
  deviceSpanUs: number;
  /** The device reset meanwhile (boot_id changed or stream restarted): its clock started over. */
  deviceReset: boolean;
}

export interface DeviceReset {
  cause: 'boot_id' | 'seq_restart';
  previousBootId: number;
  bootId: number;
}

export interface BridgeLinkEvents {
  /** `block` and `frame` are reused: valid only during the event. `frame` has the raw header (uv_per_lsb, t_us, u32 seq). */
  samples: [block: SampleBlock, arrivalMs: number, frame: Readonly<SamplesHeader>];
  tracker: [sample: TrackerSample, arrivalMs: number];
  pong: [pong: PongSample];
  heartbeat: [hb: Heartbeat, arrivalMs: number];
  hello: [hello: Hello];
  gap: [gap: LinkGap];
  reset: [reset: DeviceReset];
  state: [state: LinkState];
  /** Non-fatal, reportable problems. Only emitted when someone listens; otherwise logged. */
  error: [err: ReflexError];
}

/** Why the link last failed to connect or lost its connection. */
export interface LinkError {
  code: string;
  message: string;
  /** Host time it happened, ms (the link's clock: CLOCK_MONOTONIC by default). */
  atMs: number;
}

/** Where a link stands, for status displays: `BridgeLink.connection()`. */
export interface LinkConnection {
  state: LinkState;
  /** Host time the link entered `state`, ms. */
  sinceMs: number;
  /** Connection attempts since the last start() (1 while the first is under way). */
  attempts: number;
  /** The last reason a connection failed or ended since start(), or null (a deliberate stop is not one). */
  lastError: LinkError | null;
}

export interface LinkCounters {
  state: LinkState;
  /** Good frames, all types. */
  frames: number;
  samplesFrames: number;
  samples: number;
  bytes: number;
  /** Bad frames by kind (bad_cobs, oversize, ...), gaps, restarts, missing frames/samples. */
  decoder: Record<string, number>;
  /** Connections opened, lost, stalls, timeouts, device errors, pings and pongs. */
  link: Record<string, number>;
}

/** Keys of LinkCounters.link. */
export type LinkCounterKey =
  /** Every attempt to open the port, successful or not. */
  | 'connect_attempts'
  | 'connects'
  | 'open_failures'
  | 'connections_lost'
  | 'reconnects'
  | 'stalls'
  | 'hello_timeouts'
  | 'command_timeouts'
  | 'device_errors'
  | 'device_reports'
  | 'unmatched_replies'
  | 'pings'
  | 'pongs'
  | 'pongs_unmatched'
  | 'write_errors'
  | 'samples_before_start'
  | 'device_resets'
  | 'outages'
  | 'gaps'
  /** ACKs to ACTUATE frames the control loop wrote itself (req_id >= LOOP_REQ_ID_BASE). */
  | 'loop_acks'
  /** ERRORs to those frames, in total and per device error name (loop_error_BAD_ARG, ...). */
  | 'loop_errors'
  | `loop_error_${string}`;
