/**
 * The one shape the runtime sees for every board's EMG source: clock-mapped sample blocks,
 * an optional tracker feed on the same device clock, an optional actuator sink (the firmware
 * bridge's ACTUATE), and counters. `openSource` (source-open.ts) picks the implementation.
 */
import type { EventEmitter } from 'node:events';
import type { BridgeActuatorSink } from '../actuate/bridge.js';
import type { SampleBlock } from '../core/block.js';
import type { Logger } from '../core/log.js';
import type { TrackerFeed } from '../devices/tracker/types.js';
import type { SerialOpener } from '../hal/serial.js';
import type { ClockModel } from '../time/clock-model.js';

/**
 * A break in a source's sample stream. The optional fields are what a source can know
 * from its device's counters (docs/protocol.md, SAMPLES "Gaps"); absent or NaN: unknown.
 */
export interface SourceGap {
  /** 'frames' (lost within a connection), 'outage' (connection lost and back), 'restart' (the device restarted its stream), 'dropped' (Cyton packets)... */
  cause: string;
  /** Samples missing (NaN if unknown, e.g. an outage). */
  missingSamples: number;
  /** Host time between the blocks either side of the gap, ms (NaN if unknown). */
  hostSpanMs: number;
  /** The device reset meanwhile: its clock and counters started over. */
  deviceReset: boolean;
  /** Frames (device blocks) missing. */
  missingFrames?: number;
  /** Device sequence number of the last block before the gap and of the first after it. */
  fromSeq?: number;
  toSeq?: number;
  /** Device time between the blocks either side of the gap, µs (docs/protocol.md). */
  deviceSpanUs?: number;
}

/** Why a source changed state (a reconnect's reason, for instance). */
export interface SourceStateDetail {
  /** For people: what went wrong, e.g. the last connection error. */
  reason?: string;
  /** The error's stable code, e.g. E_DISCONNECTED, E_STALL. */
  code?: string;
  /** Connection attempts since the source started. */
  attempts?: number;
}

/** Something about the source worth a telemetry `event` (a simulated firmware restarted...). */
export interface SourceNotice {
  kind: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  data?: Record<string, string | number | boolean>;
}

export interface SourceEvents {
  /** A clock-mapped block; valid only during the event. */
  samples: [block: SampleBlock, arrivalMs: number];
  /** A gap in the stream with its span (lost frames, outage, device reset). */
  gap: [gap: SourceGap];
  /** connecting, streaming, reconnecting, stopped... with why, when the source knows. */
  state: [state: string, detail?: SourceStateDetail];
  notice: [notice: SourceNotice];
}

/** What a device said about itself (a bridge's HELLO): checked against the board before the loop starts. */
export interface SourceDevice {
  name: string;
  /** EMG channels it can stream at most. */
  maxChannels: number;
  /** Actuator channels it has (0..actuatorChannels-1); HELLO does not say which kinds each takes. */
  actuatorChannels: number;
}

export interface Source extends EventEmitter<SourceEvents> {
  readonly kind: string;
  readonly clock: ClockModel;
  readonly tracker: TrackerFeed | null;
  /** Where bridge actuators send their ACTUATE commands (null: the source has no actuators). */
  readonly actuatorSink: BridgeActuatorSink | null;
  /**
   * The serial fd the loop worker may write ACTUATE frames to (-1 while not streaming);
   * absent when the source cannot offer one. See BridgeLink.onActuatorFd.
   */
  onActuatorFd?(listener: (fd: number) => void): () => void;
  /**
   * Extra detail for status: the pty of the simulated board, the device's HELLO, and while
   * it connects or reconnects its state, attempts and last error (bridge: see BridgeSource).
   */
  describe(): Record<string, string | number>;
  /** The connected device's own description (bridge: its last HELLO); null before it has given one. Absent: the source has none. */
  device?(): SourceDevice | null;
  /**
   * Resolves once streaming. While it connects it may wait indefinitely (a device that never
   * answers): the runtime races it against its abort signal and then calls stop(), which must
   * make it settle.
   */
  start(): Promise<void>;
  /** Stop streaming but keep the device open (control "stop"). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  counters(): Record<string, number>;
}

export interface SourceOptions {
  log: Logger;
  /** Serial backend; the real one unless a test injects the fake. */
  open?: SerialOpener;
}
