/**
 * The serial port's file descriptor as BridgeLink publishes it to writers on other
 * threads (the loop worker's ACTUATE frames): the port's fd while streaming, else -1.
 */
import { Listeners } from '../../core/listeners.js';
import type { SerialPortLike } from '../../hal/serial.js';
import type { FdSerialPort } from '../../hal/serial-node.js';
import type { LinkState } from './link-types.js';

export class ActuatorFdPublisher {
  #fd = -1;
  readonly #listeners = new Listeners<number>();

  /** Call `listener` now with the current value and on every change; returns the unsubscribe. */
  subscribe(listener: (fd: number) => void): () => void {
    const off = this.#listeners.add(listener);
    listener(this.#fd);
    return off;
  }

  /** A new port: withdraw its fd synchronously before it closes (see FdSerialPort). */
  watch(port: SerialPortLike): void {
    if (!isFdPort(port)) return;
    // Its number can only be reused once it is closed, so "ours is published" is exact.
    const fd = port.fd;
    port.onFdClosing(() => {
      if (this.#fd === fd) this.#set(-1);
    });
  }

  /** The link's state changed: publish the open port's fd while streaming, else -1. */
  update(state: LinkState, port: SerialPortLike | null): void {
    this.#set(state === 'streaming' && port && port.isOpen && isFdPort(port) ? port.fd : -1);
  }

  #set(fd: number): void {
    if (fd === this.#fd) return;
    this.#fd = fd;
    this.#listeners.emit(fd);
  }
}

/** Duck-typed so the link does not load serialport: fakes have no fd. */
function isFdPort(port: SerialPortLike): port is FdSerialPort {
  return typeof (port as Partial<FdSerialPort>).onFdClosing === 'function' && typeof (port as Partial<FdSerialPort>).fd === 'number';
}
