/** Small pure helpers of BridgeLink: version errors, gap records, error classes and wrapping, boot_id text. */
import { ReflexError } from '../../core/errors.js';
import { BridgeDeviceError, BridgeErrorCodes } from '../../bridge/errors.js';
import { PROTO_MAJOR, PROTO_MINOR } from '../../bridge/frames.js';
import type { GapCause, LinkGap } from './link-types.js';
import { BridgeLinkCodes } from './codes.js';

/** E_BAD_VERSION naming both versions and which side to update. NaN major: unknown (device only refused ours). */
export function versionError(deviceMajor: number, deviceMinor: number, deviceMsg = ''): ReflexError {
  const host = `${PROTO_MAJOR}.${PROTO_MINOR}`;
  if (Number.isNaN(deviceMajor)) {
    return new ReflexError(
      BridgeErrorCodes.badVersion,
      `device refused firmware-bridge protocol ${host} (ERROR BAD_VERSION${deviceMsg ? `: ${deviceMsg}` : ''}): ` +
        `flash a firmware that speaks protocol ${PROTO_MAJOR}.x, or update Reflex to the device's version`,
    );
  }
  const device = `${deviceMajor}.${deviceMinor}`;
  const fix = deviceMajor > PROTO_MAJOR ? 'update Reflex (the host) to a version that speaks it' : `update the device firmware to protocol ${PROTO_MAJOR}.x`;
  return new ReflexError(BridgeErrorCodes.badVersion, `device speaks firmware-bridge protocol ${device}, this host speaks ${host}: ${fix}`);
}

/** Errors a reconnect cannot fix: a version mismatch or the device refusing our configuration. */
export function isConfigFatal(err: ReflexError): boolean {
  return err.code === BridgeErrorCodes.badVersion || err instanceof BridgeDeviceError;
}

export function linkGap(cause: GapCause, hostFromMs: number, hostToMs: number, deviceReset: boolean): LinkGap {
  return {
    cause,
    hostFromMs,
    hostToMs,
    hostSpanMs: hostToMs - hostFromMs,
    fromSeq: Number.NaN,
    toSeq: Number.NaN,
    missingFrames: Number.NaN,
    missingSamples: Number.NaN,
    deviceSpanUs: Number.NaN,
    deviceReset,
  };
}

/** Any thrown value as a ReflexError (E_BRIDGE unless it already is one). */
export function asReflexError(err: unknown): ReflexError {
  if (err instanceof ReflexError) return err;
  return new ReflexError(BridgeLinkCodes.transport, err instanceof Error ? err.message : String(err), { cause: err });
}

/** A boot_id as 0x%08x, '?' if unknown. */
export function hex(v: number | null): string {
  return v === null ? '?' : `0x${v.toString(16).padStart(8, '0')}`;
}
