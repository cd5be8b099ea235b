/**
 * The real serial backend: `serialport` (bindings-cpp) behind `SerialPortLike`.
 * Works on USB CDC-ACM devices, UARTs and pseudo-terminals (the host firmware's pty).
 *
 * A read or write failure (unplug, EIO when a pty's master goes away), a close that
 * carries an error, and any 'error' event after opening all end the port with a
 * `DisconnectedError`; an ordinary `close()` ends it with `null`.
 *
 * Hang-up watch: when a pseudo-terminal's master closes (the host firmware exits), reads
 * on the slave return 0 bytes instead of failing, and serialport retries such reads
 * forever without reporting anything. So while open we stat the device node every
 * HANGUP_CHECK_MS: a node that is gone, or replaced by another device at the same path
 * (a new pty reusing the number), ends the port as disconnected. A USB unplug removes
 * the node too, which makes the check useful beyond ptys.
 */
import { realpath, stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { DisconnectedError } from '../core/errors.js';
import type { SerialOpener, SerialOptions, SerialPortLike } from './serial.js';

/** How often the device node is checked for a hang-up, ms. */
export const HANGUP_CHECK_MS = 200;

interface NodeIdentity {
  device: string;
  ino: number;
  ctimeMs: number;
}

/**
 * A serial port whose OS file descriptor other threads may write to directly (the loop
 * worker's actuator frames). `fd` is -1 once the port is ending. `onFdClosing` listeners
 * run synchronously before the fd is closed, whatever closes it (close(), an error,
 * serialport's own disconnect handling): a writer must stop using the number first,
 * because the next open() in the process may get the same number.
 */
export interface FdSerialPort extends SerialPortLike {
  readonly fd: number;
  onFdClosing(listener: () => void): void;
}

/** What bindings-cpp's port binding has (LinuxPortBinding / DarwinPortBinding: `fd`, async `close`). */
interface FdBinding {
  fd?: number | null;
  close(): Promise<void>;
}

class NodeSerialPort implements FdSerialPort {
  readonly path: string;
  readonly #port: SerialPort;
  #open = true;
  readonly #watch: NodeJS.Timeout | undefined;
  #closing: Promise<void> | null = null;
  readonly #data: Array<(chunk: Uint8Array) => void> = [];
  readonly #close: Array<(err: Error | null) => void> = [];
  readonly #fdClosing: Array<() => void> = [];
  #fd = -1;

  constructor(path: string, port: SerialPort, identity: NodeIdentity | null) {
    this.path = path;
    this.#port = port;
    const binding = port.port as FdBinding | undefined;
    if (binding && typeof binding.fd === 'number') {
      this.#fd = binding.fd;
      // Every close of the fd goes through the binding's close(): revoke the number first.
      const close = binding.close.bind(binding);
      binding.close = () => {
        this.#revokeFd();
        return close();
      };
    }
    if (identity) {
      this.#watch = setInterval(() => void this.#checkNode(identity), HANGUP_CHECK_MS);
      this.#watch.unref();
    }
    port.on('data', (chunk: Buffer) => {
      if (!this.#open) return;
      for (const l of this.#data) l(chunk);
    });
    port.on('close', (err: Error | null | undefined) => {
      this.#end(err ? asDisconnected(path, err) : null);
    });
    port.on('error', (err: Error) => {
      this.#end(asDisconnected(path, err));
      if (port.isOpen) port.close(() => undefined);
    });
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** The open port's file descriptor, or -1 (no fd on this platform, or the port is ending). */
  get fd(): number {
    return this.#fd;
  }

  onFdClosing(listener: () => void): void {
    this.#fdClosing.push(listener);
  }

  #revokeFd(): void {
    if (this.#fd < 0) return;
    this.#fd = -1;
    for (const l of this.#fdClosing) l();
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.#open) return Promise.reject(new DisconnectedError(`write to closed serial port ${this.path}: reconnect first`));
    // serialport keeps the buffer until the OS takes it; callers reuse theirs, so copy.
    const copy = Buffer.from(data);
    return new Promise((resolve, reject) => {
      this.#port.write(copy, (err) => (err ? reject(asDisconnected(this.path, err)) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const wasOpen = this.#open;
    this.#end(null);
    this.#closing = new Promise((resolve) => {
      if (!wasOpen || !this.#port.isOpen) return resolve();
      // A close error means the port is already gone, which is what close wants.
      this.#port.close(() => resolve());
    });
    return this.#closing;
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.#data.push(listener);
  }

  onClose(listener: (err: Error | null) => void): void {
    this.#close.push(listener);
  }

  async #checkNode(id: NodeIdentity): Promise<void> {
    let reason: string | null = null;
    try {
      const st = await stat(id.device);
      if (st.ino !== id.ino || st.ctimeMs !== id.ctimeMs) reason = `${id.device} now belongs to another device`;
    } catch (err) {
      reason = `${id.device} is gone (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
    if (reason === null || !this.#open) return;
    this.#end(new DisconnectedError(`serial port ${this.path} hung up: ${reason}; the device was unplugged or its firmware exited`));
    // Stops serialport's read loop, which spins on a hung-up pty until the port closes.
    if (this.#port.isOpen) this.#port.close(() => undefined);
  }

  #end(err: Error | null): void {
    if (!this.#open) return;
    this.#open = false;
    this.#revokeFd();
    if (this.#watch) clearInterval(this.#watch);
    for (const l of this.#close) l(err);
  }
}

/** The node behind `path` (symlinks resolved) as it is now, or null if it cannot be read. */
async function identify(path: string): Promise<NodeIdentity | null> {
  try {
    const device = await realpath(path);
    const st = await stat(device);
    return { device, ino: st.ino, ctimeMs: st.ctimeMs };
  } catch {
    // Not a file-system node (unusual, e.g. some virtual ports): no hang-up watch.
    return null;
  }
}

function asDisconnected(path: string, err: Error): DisconnectedError {
  if (err instanceof DisconnectedError) return err;
  return new DisconnectedError(`serial port ${path} failed: ${err.message} (device unplugged or reset?)`, { cause: err });
}

/**
 * Open `opts.path`. Rejects with a DisconnectedError when the device is not there (or
 * cannot be opened), so reconnect loops can treat "not back yet" like "went away".
 */
export const openNodeSerial: SerialOpener = async (opts: SerialOptions) => {
  // Identify the node before opening: a symlink re-pointed later must not be mistaken for ours.
  const identity = await identify(opts.path);
  const port = new SerialPort({ path: opts.path, baudRate: opts.baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err)
        reject(
          new DisconnectedError(
            `cannot open serial port ${opts.path}: ${err.message}; check the path, permissions (dialout group) and that the device is plugged in`,
            { cause: err },
          ),
        );
      else resolve();
    });
  });
  return new NodeSerialPort(opts.path, port, identity);
};
