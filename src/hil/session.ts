/**
 * The device-level part of a HIL run: the board's source opened as the runtime opens it
 * (openSource: the same link, decoder and clock model; on the simulated board the same
 * supervised host firmware), with no loop driving the actuators, so the check alone writes
 * the loopback actuator. Plus the loopback probe: the jumpered input channel read sample by
 * sample, each sample's host time from the clock model.
 */
import type { BridgeActuateEntry, BridgeActuatorSink } from '../actuate/bridge.js';
import { toProtocolValue } from '../actuate/bridge.js';
import { ACT, createActuationBlock, FdBridgeSink, readActuationCounters } from '../actuate/fd-bridge.js';
import type { ActuatorDef, BoardDef } from '../boards/types.js';
import type { SampleBlock } from '../core/block.js';
import type { Logger } from '../core/log.js';
import { openSource } from '../runtime/source-open.js';
import type { Source, SourceGap } from '../runtime/source.js';
import { monotonicMs } from '../time/monotonic.js';
import { within } from './wait.js';

export class DeviceSession {
  readonly source: Source;
  readonly board: BoardDef;
  #blocks = new Set<(b: SampleBlock, arrivalMs: number) => void>();

  private constructor(board: BoardDef, source: Source) {
    this.board = board;
    this.source = source;
    source.on('samples', (b, arrivalMs) => {
      for (const l of this.#blocks) l(b, arrivalMs);
    });
  }

  /** Opens and starts the source; rejects (after stopping it) if it does not stream within `ms`. */
  static async open(board: BoardDef, log: Logger, ms: number, signal: AbortSignal): Promise<DeviceSession> {
    const source = await openSource(board, { log });
    const s = new DeviceSession(board, source);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => void source.stop().catch((e: Error) => log.warn(`stopping the source: ${e.message}`));
    try {
      // start() may wait forever on a device that never answers; stop() makes it settle.
      signal.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(onAbort, ms);
      await source.start();
    } catch (err) {
      await source.stop();
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : err;
      throw new Error(`${(err as Error).message} (waited up to ${ms} ms for it to stream)`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    return s;
  }

  /** Every block with its arrival time (host monotonic ms); returns the detach function. */
  onBlock(fn: (b: SampleBlock, arrivalMs: number) => void): () => void {
    this.#blocks.add(fn);
    return () => this.#blocks.delete(fn);
  }

  onGap(fn: (g: SourceGap) => void): () => void {
    this.source.on('gap', fn);
    return () => this.source.off('gap', fn);
  }

  onState(fn: (state: string) => void): () => void {
    const l = (state: string): void => fn(state);
    this.source.on('state', l);
    return () => this.source.off('state', l);
  }

  /**
   * Where the check writes ACTUATE: the way the control loop does (docs/loop.md, "Actuation
   * in the worker"), one write(2) of a frame on the port's fd as the link publishes it, when
   * the source offers its fd; else the source's actuator sink (through the link's commands).
   */
  actuationSink(): { sink: BridgeActuatorSink; path: 'fd' | 'link'; failures: () => number; close: () => void } {
    const src = this.source;
    if (src.onActuatorFd) {
      const act = createActuationBlock();
      const off = src.onActuatorFd((fd) => Atomics.store(act, ACT.fd, fd));
      const failures = (): number => {
        const c = readActuationCounters(act);
        return c.droppedNoFd + c.droppedFull + c.partialWrites + c.writeErrors;
      };
      return { sink: new FdBridgeSink(act), path: 'fd', failures, close: off };
    }
    if (!src.actuatorSink) throw new Error(`the ${src.kind} source takes no actuator commands`);
    return { sink: src.actuatorSink, path: 'link', failures: () => 0, close: () => undefined };
  }

  /** The simulated firmware's process id (0 on hardware or while it is not running). */
  firmwarePid(): number {
    const pid = this.source.describe().firmware_pid;
    return typeof pid === 'number' ? pid : 0;
  }

  close(): Promise<void> {
    this.#blocks.clear();
    return this.source.stop();
  }
}

/** A sample of the probed channel that met a condition. */
export interface ProbeHit {
  value: number;
  /** The sample's host time from the clock model, ms (NaN while the clock has not mapped it). */
  sampleMs: number;
  /** When its block arrived, host monotonic ms. */
  arrivalMs: number;
}

/**
 * The loopback jumper: drives `actuator` through the source's ACTUATE sink and watches EMG
 * channel `channel` for its effect.
 */
export class LoopbackProbe {
  readonly actuator: ActuatorDef;
  readonly channel: number;
  readonly #session: DeviceSession;
  readonly #entry: BridgeActuateEntry[];
  readonly #sink: BridgeActuatorSink;

  /** ACTUATE frames that did not go out whole (fd path: no fd, full buffer, partial or failed write). */
  readonly writeFailures: () => number;

  constructor(session: DeviceSession, sink: BridgeActuatorSink, actuator: ActuatorDef, channel: number, writeFailures: () => number = () => 0) {
    if (actuator.via !== 'bridge' || actuator.channel === undefined) throw new Error(`loopback actuator "${actuator.name}" is not a bridge actuator`);
    this.#session = session;
    this.#sink = sink;
    this.writeFailures = writeFailures;
    this.actuator = actuator;
    this.channel = channel;
    this.#entry = [{ channel: actuator.channel, kind: actuator.kind, value: 0 }];
  }

  /** Protocol value of the actuator's `min` (low) or `max` (high). */
  value(high: boolean): number {
    return toProtocolValue(this.actuator.kind, high ? this.actuator.max : this.actuator.min);
  }

  /** Writes the command; returns the host time just before it was handed to the link. */
  write(high: boolean): number {
    this.#entry[0]!.value = this.value(high);
    const t = monotonicMs();
    this.#sink.send(this.#entry);
    return t;
  }

  /** The first sample of the channel, in blocks arriving from now on, for which `test` holds. */
  first(test: (v: number) => boolean, ms: number, signal: AbortSignal, what: string): Promise<ProbeHit> {
    const c = this.channel;
    return within<ProbeHit>(
      ms,
      signal,
      (done) =>
        this.#session.onBlock((b, arrivalMs) => {
          if (c >= b.channels) return;
          const base = c * b.samples;
          for (let i = 0; i < b.samples; i++) {
            const v = b.data[base + i]!;
            if (test(v)) return done({ value: v, sampleMs: b.hostTimeMs + i * b.hostPeriodMs, arrivalMs });
          }
        }),
      what,
    );
  }

  /** The channel's median over the next `blocks` blocks: its settled level. */
  level(blocks: number, ms: number, signal: AbortSignal): Promise<{ median: number; spread: number }> {
    const c = this.channel;
    const values: number[] = [];
    let n = 0;
    return within(
      ms,
      signal,
      (done) =>
        this.#session.onBlock((b) => {
          if (c >= b.channels) return;
          for (let i = 0; i < b.samples; i++) values.push(b.data[c * b.samples + i]!);
          if (++n < blocks) return;
          values.sort((x, y) => x - y);
          const median = values[values.length >> 1]!;
          // Median absolute deviation: the level's noise, robust to a stray step inside the window.
          const dev = values.map((v) => Math.abs(v - median)).sort((x, y) => x - y);
          done({ median, spread: dev[dev.length >> 1]! });
        }),
      `${blocks} blocks of channel ${c}`,
    );
  }
}
