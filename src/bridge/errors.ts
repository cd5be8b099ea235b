/** Errors of the firmware-bridge link, each with a stable `code`. */
import { ReflexError } from '../core/errors.js';
import { DeviceErrorCode, deviceErrorName, type DeviceErrorName } from './frames.js';

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

/** BridgeDeviceError codes, one per device ERROR name (docs/protocol.md, section 3, ERROR). */
export const BridgeDeviceCodes = {
  /** The device does not know the command type. */
  UNKNOWN_TYPE: 'E_DEVICE_UNKNOWN_TYPE',
  /** An argument is out of range (the message says which). */
  BAD_ARG: 'E_DEVICE_BAD_ARG',
  /** The command is known but not supported on this device. */
  UNSUPPORTED: 'E_DEVICE_UNSUPPORTED',
  /** The command is not allowed in the device's current state. */
  BUSY: 'E_DEVICE_BUSY',
  /** The device's protocol major is outside the range the host asked for. */
  BAD_VERSION: 'E_DEVICE_BAD_VERSION',
  /** The device dropped a bad frame from the host. */
  RX_ERROR: 'E_DEVICE_RX_ERROR',
  /** The device's transmit buffer overflowed and frames were lost. */
  OVERFLOW: 'E_DEVICE_OVERFLOW',
} as const satisfies { [N in DeviceErrorName]: `E_DEVICE_${N}` };

/** An ERROR number this host does not know (a newer firmware), e.g. `E_DEVICE_CODE_9`. */
export type UnknownDeviceCode = `E_DEVICE_CODE_${number}`;
export type BridgeDeviceCode = (typeof BridgeDeviceCodes)[DeviceErrorName] | UnknownDeviceCode;

function deviceCodeOf(deviceCode: number): BridgeDeviceCode {
  for (const [name, c] of Object.entries(DeviceErrorCode)) if (c === deviceCode) return BridgeDeviceCodes[name as DeviceErrorName];
  return `E_DEVICE_CODE_${deviceCode}`;
}

/**
 * The device answered a command with ERROR. `code` is `E_DEVICE_<NAME>` (for example
 * `E_DEVICE_BUSY`); `deviceCode` is the protocol's number.
 */
export class BridgeDeviceError extends ReflexError {
  readonly deviceCode: number;
  readonly commandType: number;
  constructor(deviceCode: number, commandType: number, command: string, message: string) {
    const name = deviceErrorName(deviceCode);
    super(deviceCodeOf(deviceCode), `device refused ${command}: ${name}${message ? ` (${message})` : ''}`);
    this.deviceCode = deviceCode;
    this.commandType = commandType;
  }
}
