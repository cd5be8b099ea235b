/** Errors of the firmware-bridge link, each with a stable `code`. */
import { ReflexError } from '../core/errors.js';
import { deviceErrorName } from './frames.js';

export const BridgeErrorCodes = {
  /** Protocol majors differ; the message names both versions and which side to update. */
  badVersion: 'E_BAD_VERSION',
  /** No reply (HELLO, ACK/ERROR) within the timeout. */
  timeout: 'E_TIMEOUT',
  /** No bytes at all for the stall timeout while connected. */
  stall: 'E_STALL',
  /** The link was stopped while the operation waited. */
  stopped: 'E_STOPPED',
  /** The device reported a problem on its own (ERROR with req_id 0xFFFF). */
  deviceReport: 'E_DEVICE_REPORT',
} as const;

/**
 * The device answered a command with ERROR. `code` is `E_DEVICE_<NAME>` (for example
 * `E_DEVICE_BUSY`); `deviceCode` is the protocol's number.
 */
export class BridgeDeviceError extends ReflexError {
  readonly deviceCode: number;
  readonly commandType: number;
  constructor(deviceCode: number, commandType: number, command: string, message: string) {
    const name = deviceErrorName(deviceCode);
    super(`E_DEVICE_${name.replace(/\s+/g, '_').toUpperCase()}`, `device refused ${command}: ${name}${message ? ` (${message})` : ''}`);
    this.deviceCode = deviceCode;
    this.commandType = commandType;
  }
}
