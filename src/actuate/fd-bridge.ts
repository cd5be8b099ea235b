/**
 * Bridge actuators driven from the loop worker: ACTUATE frames encoded here and written
 * with one non-blocking write(2) on the serial port's file descriptor, which every thread
 * of the process shares. The main thread owns the port (BridgeLink) and publishes its fd
 * in a shared word; -1 while disconnected. See docs/loop.md, "Actuation in the worker".
 */
import { writeSync } from 'node:fs';
import { FrameWriter } from '../bridge/encode.js';
import { MAX_ENCODED } from '../bridge/frames.js';
import type { ActuatorDef } from '../boards/types.js';
import type { BridgeActuateEntry, BridgeActuatorSink } from './bridge.js';
import { toProtocolValue } from './bridge.js';

// req_ids of ACTUATE frames the loop writes itself: the upper half of the 16-bit space
// (bridge/req-ids.ts). BridgeLink numbers its own commands below, so a reply in this range
// is the loop's and is counted, never matched to a waiting command.
import { LOOP_REQ_ID_BASE, LOOP_REQ_ID_MAIN } from '../bridge/req-ids.js';

/**
 * Int32 words of the actuation block shared by main and the worker.
 * fd: written by main (the port's fd, -1 while not streaming). busy: 1 while the worker is
 * between reading `fd` and returning from write(2), so main can revoke an fd before the
 * port closes it (a closed fd number may be reused by the next open()). safeAck: bumped by
 * the worker once a safe state main asked for is on the outputs. The rest are counters.
 */
export const ACT = {
  fd: 0,
  busy: 1,
  safeAck: 2,
  framesWritten: 3,
  /** Frames not sent because no port was connected (fd -1). */
  droppedNoFd: 4,
  /** Frames dropped because the port's output buffer was full (EAGAIN). */
  droppedFull: 5,
  /** Frames only partly written (the device drops them at the next 0x00). */
  partialWrites: 6,
  /** Other write(2) failures (EIO: the port hung up and the link has not noticed yet). */
  writeErrors: 7,
  /** GPIO/PWM/bridge actuator calls that threw in the worker (each puts the loop safe). */
  actuatorErrors: 8,
  /** Safe-state frames main wrote itself through the fd (guard, e-stop, stop). */
  mainSafeFrames: 9,
  /** Of writeErrors, those with EBADF: an fd published after it was closed (a wiring bug). */
  badFd: 10,
} as const;
export const ACT_WORDS = 11;

export interface ActuationCounters {
  framesWritten: number;
  droppedNoFd: number;
  droppedFull: number;
  partialWrites: number;
  writeErrors: number;
  actuatorErrors: number;
  mainSafeFrames: number;
  badFd: number;
}

export function createActuationBlock(): Int32Array {
  const a = new Int32Array(new SharedArrayBuffer(4 * ACT_WORDS));
  a[ACT.fd] = -1;
  return a;
}

export function readActuationCounters(a: Int32Array): ActuationCounters {
  return {
    framesWritten: Atomics.load(a, ACT.framesWritten),
    droppedNoFd: Atomics.load(a, ACT.droppedNoFd),
    droppedFull: Atomics.load(a, ACT.droppedFull),
    partialWrites: Atomics.load(a, ACT.partialWrites),
    writeErrors: Atomics.load(a, ACT.writeErrors),
    actuatorErrors: Atomics.load(a, ACT.actuatorErrors),
    mainSafeFrames: Atomics.load(a, ACT.mainSafeFrames),
    badFd: Atomics.load(a, ACT.badFd),
  };
}

/** Result of one frame write. */
export type FdWriteResult = 'written' | 'no_fd' | 'full' | 'partial' | 'error';

/**
 * One frame, one write(2), never waiting: a full buffer or a partial write drops the
 * frame (counted) and the next frame starts with an extra 0x00 so the device, which
 * resyncs at the delimiter, discards the fragment instead of the next frame too.
 */
export class FdFrameWriter {
  readonly #act: Int32Array;
  readonly #wire = new Uint8Array(MAX_ENCODED + 2);
  #resync = false;

  constructor(act: Int32Array) {
    this.#act = act;
  }

  write(frame: Uint8Array): FdWriteResult {
    const act = this.#act;
    let off = 1;
    if (this.#resync) {
      this.#wire[0] = 0;
      off = 0;
    }
    this.#wire.set(frame, 1);
    const len = frame.length + 1 - off;
    Atomics.store(act, ACT.busy, 1);
    try {
      const fd = Atomics.load(act, ACT.fd);
      if (fd < 0) {
        Atomics.add(act, ACT.droppedNoFd, 1);
        return 'no_fd';
      }
      let n: number;
      try {
        n = writeSync(fd, this.#wire, off, len);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.add(act, ACT.droppedFull, 1);
          return 'full';
        }
        Atomics.add(act, ACT.writeErrors, 1);
        if ((err as NodeJS.ErrnoException).code === 'EBADF') Atomics.add(act, ACT.badFd, 1);
        this.#resync = true;
        return 'error';
      }
      if (n < len) {
        Atomics.add(act, ACT.partialWrites, 1);
        this.#resync = true;
        return 'partial';
      }
      this.#resync = false;
      Atomics.add(act, ACT.framesWritten, 1);
      return 'written';
    } finally {
      Atomics.store(act, ACT.busy, 0);
    }
  }
}

/**
 * The worker's BridgeActuatorSink: encodes each batch as one ACTUATE with a loop req_id
 * and writes it. `lastFailed` tells the driver a frame (maybe a safe one) did not go out,
 * so it sends again rather than trusting the outputs to be where it left them.
 */
export class FdBridgeSink implements BridgeActuatorSink {
  readonly #enc = new FrameWriter();
  readonly #out: FdFrameWriter;
  #reqId = LOOP_REQ_ID_BASE;
  lastFailed = false;

  constructor(act: Int32Array) {
    this.#out = new FdFrameWriter(act);
  }

  send(entries: readonly BridgeActuateEntry[]): void {
    const id = this.#reqId;
    this.#reqId = id + 1 >= LOOP_REQ_ID_MAIN ? LOOP_REQ_ID_BASE : id + 1;
    this.lastFailed = this.#out.write(this.#enc.actuate(id, entries)) !== 'written';
  }
}

/**
 * Main thread's own way to put bridge actuators safe through the shared fd, without the
 * worker and without the event loop (process guard, e-stop, worker crash). Returns what
 * happened; a frame that could not go out leaves the device's own 500 ms watchdog.
 */
export class MainSafeFrame {
  readonly #entries: BridgeActuateEntry[];
  readonly #enc = new FrameWriter();
  readonly #act: Int32Array;
  /** Main's writer has its own block: it never touches the worker's busy word. */
  readonly #own = new Int32Array(new SharedArrayBuffer(4 * ACT_WORDS));
  readonly #out = new FdFrameWriter(this.#own);

  constructor(defs: readonly ActuatorDef[], act: Int32Array) {
    this.#entries = defs.filter((d) => d.via === 'bridge').map((d) => ({ channel: d.channel!, kind: d.kind, value: toProtocolValue(d.kind, d.safe) }));
    this.#act = act;
  }

  get needed(): boolean {
    return this.#entries.length > 0;
  }

  write(): FdWriteResult | 'none' {
    if (this.#entries.length === 0) return 'none';
    Atomics.store(this.#own, ACT.fd, Atomics.load(this.#act, ACT.fd));
    const r = this.#out.write(this.#enc.actuate(LOOP_REQ_ID_MAIN, this.#entries));
    if (r === 'written') Atomics.add(this.#act, ACT.mainSafeFrames, 1);
    return r;
  }
}
