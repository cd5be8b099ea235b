/**
 * Opens a board's EMG source and gives the runtime one shape for all of them:
 * clock-mapped sample blocks, an optional tracker feed on the same device clock, an
 * optional actuator sink (the firmware bridge's ACTUATE), and counters.
 */
import type { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BridgeActuatorSink } from '../actuate/bridge.js';
import type { BoardDef } from '../boards/types.js';
import type { SampleBlock } from '../core/block.js';
import type { Logger } from '../core/log.js';
import { startSimFirmware, type SimFirmware } from '../devices/sim-firmware.js';
import type { TrackerFeed } from '../devices/tracker-types.js';
import type { SerialOpener } from '../hal/serial.js';
import type { ClockModel } from '../time/clock-model.js';
import { BridgeSource } from './source-bridge.js';
import { CytonSource } from './source-cyton.js';

export interface SourceEvents {
  /** A clock-mapped block; valid only during the event. */
  samples: [block: SampleBlock, arrivalMs: number];
  /** A gap in the stream with its span (lost frames, outage, device reset). */
  gap: [gap: { cause: string; missingSamples: number; hostSpanMs: number; deviceReset: boolean }];
  state: [state: string];
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
  /** Extra detail for status: the pty of the simulated board, the device's HELLO... */
  describe(): Record<string, string | number>;
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

export async function openSource(board: BoardDef, opts: SourceOptions): Promise<Source> {
  const src = board.source;
  if (src.kind === 'cyton') return new CytonSource(board, opts);
  let fw: SimFirmware | null = null;
  let path: string;
  if (src.transport === 'sim') {
    fw = await startSimFirmware({
      rate: src.rate,
      channels: src.channels,
      ...(src.blockSamples !== undefined && { block: src.blockSamples }),
      // A stable path like /dev/serial/by-id: the link reopens it after a simulated unplug.
      link: join(tmpdir(), `reflex-sim-${process.pid}-${Date.now()}`),
      ...(src.firmwareArgs && { extraArgs: src.firmwareArgs }),
    });
    path = fw.linkPath ?? fw.path;
  } else {
    path = src.path;
  }
  return new BridgeSource(board, path, fw, opts);
}
