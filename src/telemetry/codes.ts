/**
 * Error codes of telemetry, keys and remote control (docs/errors.md, "telemetry"). The control
 * server sends these as `error.code` in its replies, so their spelling is part of the wire.
 * The strict request decoder's codes are STRICT_CODES in control-decode.ts.
 */
export const TelemetryCodes = {
  /** A telemetry or control socket cannot bind its endpoint. */
  bind: 'E_BIND',
  /** Refusing to bind a non-loopback endpoint without CURVE. */
  insecureBind: 'E_INSECURE_BIND',
  /** An ipc:// path cannot be checked before binding. */
  ipcPath: 'E_IPC_PATH',
  /** An ipc:// path exists and is not a socket: binding would delete it. */
  ipcNotSocket: 'E_IPC_NOT_SOCKET',
  /** Another process serves the ipc:// path. */
  ipcInUse: 'E_IPC_IN_USE',
  /** A CURVE key is not a 40-character z85 key. */
  badKey: 'E_BAD_KEY',
  /** A key file is missing, unreadable or has no valid key lines. */
  keyFile: 'E_KEY_FILE',
  /** A secret key file is readable by other users. */
  keyPerms: 'E_KEY_PERMS',
  /** keygen would overwrite an existing key file. */
  exists: 'E_EXISTS',
  /** A runtime or device id is not 1-64 characters of A-Z a-z 0-9 _ . - */
  badId: 'E_BAD_ID',
  /** A client cannot connect to its endpoint. */
  connect: 'E_CONNECT',
  /** The publisher, control server or client was used after close(). */
  closed: 'E_CLOSED',
  /** Writing or reading a telemetry recording failed. */
  record: 'E_RECORD',
  /** The server refused the client's CURVE key or the handshake failed. */
  auth: 'E_AUTH',
  /** A wait (e.g. waitForSubscription) was stopped by its AbortSignal with a reason that is not an Error (the reason is the cause). */
  aborted: 'E_TELEMETRY_ABORTED',
  /** A control request could not be sent. */
  send: 'E_SEND',
  /** No reply within the timeout (client), or the handler did not finish in time (server reply). */
  timeout: 'E_TIMEOUT',
  /** Reply: the request is not a map {id, cmd, args} with a valid id and command name. */
  badRequest: 'E_BAD_REQUEST',
  /** Reply: the arguments do not fit the command. */
  badArgs: 'E_BAD_ARGS',
  /** Reply: this runtime has no such command. */
  unknownCmd: 'E_UNKNOWN_CMD',
  /** Reply: rate limit or in-flight limit reached; retry later. */
  busy: 'E_BUSY',
  /** Reply: the handler threw something that carries no code, or its result could not be encoded. */
  handler: 'E_HANDLER',
} as const;
