import { DisconnectedError, ReflexError } from '../core/errors.js';
import type { SerialOpener, SerialOptions, SerialPortLike } from './serial.js';
import { FakeCodes } from './codes.js';

/**
 * A scriptable serial bus for tests, in the spirit of serialport's MockBinding:
 * the test creates ports, pushes bytes in (`emitData`), reads what the driver wrote
 * (`written`), and unplugs (`unplug`). Opening a path that was never created fails
 * the same way a missing device does.
 */
export class FakeSerialBus {
  #ports = new Map<string, FakeSerialPort>();
  #present = new Set<string>();
  #onWrite = new Map<string, (data: Uint8Array, port: FakeSerialPort) => void>();

  /** Make a device appear at `path`. `onWrite` lets a test script a device's replies. */
  createPort(path: string, onWrite?: (data: Uint8Array, port: FakeSerialPort) => void): void {
    this.#present.add(path);
    if (onWrite) this.#onWrite.set(path, onWrite);
  }

  /** The device disappears: the open port closes with a DisconnectedError and reopening fails. */
  unplug(path: string): void {
    this.#present.delete(path);
    this.#ports.get(path)?.disconnect(new DisconnectedError(`fake device ${path} unplugged`));
  }

  /** The device is back (same path), e.g. after a reset. */
  replug(path: string): void {
    this.#present.add(path);
  }

  /** The port currently open at `path`; throws if none, with what to do about it. */
  port(path: string): FakeSerialPort {
    const p = this.#ports.get(path);
    if (!p || !p.isOpen) {
      throw new ReflexError(FakeCodes.notOpen, `no open fake port at ${path}: call createPort(path) and let the driver open it first`);
    }
    return p;
  }

  // Nothing here waits, but failures must reject, never throw, as the real opener's do: a
  // promise executor turns a throw into a rejection.
  readonly open: SerialOpener = (opts: SerialOptions) =>
    new Promise((resolve) => {
      if (!this.#present.has(opts.path)) {
        throw new DisconnectedError(`fake port ${opts.path} does not exist: call createPort(path) first`);
      }
      const port = new FakeSerialPort(opts.path, this.#onWrite.get(opts.path));
      this.#ports.set(opts.path, port);
      resolve(port);
    });
}

export class FakeSerialPort implements SerialPortLike {
  readonly path: string;
  #open = true;
  #data: Array<(chunk: Uint8Array) => void> = [];
  #close: Array<(err: Error | null) => void> = [];
  #script: ((data: Uint8Array, port: FakeSerialPort) => void) | undefined;
  /** Every write, in order, copied. */
  readonly written: Uint8Array[] = [];

  constructor(path: string, script?: (data: Uint8Array, port: FakeSerialPort) => void) {
    this.path = path;
    this.#script = script;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  // write and close: a throw (closed port, a throwing script or listener) rejects, as the real port's do.
  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#open) throw new DisconnectedError(`write to closed fake port ${this.path}`);
      const copy = data.slice();
      this.written.push(copy);
      this.#script?.(copy, this);
      resolve();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#open) {
        this.#open = false;
        for (const l of this.#close) l(null);
      }
      resolve();
    });
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.#data.push(listener);
  }

  onClose(listener: (err: Error | null) => void): void {
    this.#close.push(listener);
  }

  /** Deliver bytes to the driver as if the device sent them. */
  emitData(chunk: Uint8Array): void {
    if (!this.#open) throw new ReflexError(FakeCodes.notOpen, `emitData on closed fake port ${this.path}`);
    for (const l of this.#data) l(chunk);
  }

  disconnect(err: Error): void {
    if (!this.#open) return;
    this.#open = false;
    for (const l of this.#close) l(err);
  }
}
