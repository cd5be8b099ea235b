/** Error codes of the firmware-bridge link beyond the protocol's own (src/bridge/errors.ts). */
export const BridgeLinkCodes = {
  /** A transport failure (open, read, write) on the bridge link that was not a ReflexError. */
  transport: 'E_BRIDGE',
  /** The device rebooted under the link (its boot_id changed); the link reconnects. */
  deviceReset: 'E_DEVICE_RESET',
} as const;
