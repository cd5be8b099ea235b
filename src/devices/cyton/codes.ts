/** Error codes of the OpenBCI Cyton source; also the `code` of its session ends and last error. */
export const CytonCodes = {
  /** The device was stopped; start() on a stopped CytonDevice, or stop() ended the session. */
  stopped: 'E_CYTON_STOPPED',
  /** The serial port could not be opened. */
  open: 'E_CYTON_OPEN',
  /** The dongle answered but cannot reach the board (board off, flat battery, out of range). */
  noBoard: 'E_CYTON_NO_BOARD',
  /** The board file says Cyton + Daisy but the board's reply to `v` names no Daisy module. */
  noDaisy: 'E_CYTON_NO_DAISY',
  /** No "$$$" after the soft resets: the board is off, the dongle is set wrong, or another program has the port. */
  noReset: 'E_CYTON_NO_RESET',
  /** Writing a command to the port failed. */
  write: 'E_CYTON_WRITE',
  /** Writing a command to the port did not finish in time. */
  writeTimeout: 'E_CYTON_WRITE_TIMEOUT',
  /** No bytes arrived for the stall timeout while streaming. */
  stall: 'E_CYTON_STALL',
} as const;
