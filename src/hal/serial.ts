/**
 * The serial link interface: everything a device driver needs from a serial port,
 * and nothing else. Real backend: `serial-node.ts` (serialport). Fake: `serial-fake.ts`.
 *
 * A driver never opens a port by global name: it is handed a `SerialOpener` and a path
 * by the board definition, so tests pass the fake and hardware passes the real one.
 */
export interface SerialOptions {
  path: string;
  /** Ignored by pseudo-terminals and USB CDC devices, honoured by real UARTs. */
  baudRate: number;
}

export interface SerialPortLike {
  readonly path: string;
  readonly isOpen: boolean;
  /** Resolves when the bytes are handed to the OS (not when the device has them). */
  write(data: Uint8Array): Promise<void>;
  /** Idempotent. After close no more events are emitted. */
  close(): Promise<void>;
  /**
   * Bytes as they arrive, in order. The chunk is only valid during the call:
   * backends may reuse its memory, so copy what you keep.
   */
  onData(listener: (chunk: Uint8Array) => void): void;
  /**
   * The port is gone or failed (unplug, EIO, pty closed). Fired at most once;
   * the error is a `DisconnectedError` when the device went away.
   */
  onClose(listener: (err: Error | null) => void): void;
}

export type SerialOpener = (opts: SerialOptions) => Promise<SerialPortLike>;
