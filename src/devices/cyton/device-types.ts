/** The Cyton session's public shapes: states, counters, connection status, events and options. */
import type { SampleBlock } from '../../core/block.js';
import type { Logger } from '../../core/log.js';
import type { SerialOpener } from '../../hal/serial.js';
import type { CytonAuxEvent, CytonCounterKey, CytonGapEvent } from './events.js';

export type CytonState = 'idle' | 'opening' | 'resetting' | 'streaming' | 'reconnecting' | 'stopped';

export type CytonDeviceCounterKey =
  | CytonCounterKey
  | 'open_failures'
  | 'reset_timeouts'
  | 'handshake_failures'
  | 'no_board'
  | 'disconnects'
  | 'stalls'
  | 'write_errors'
  | 'outage_samples'
  | 'outages'
  | 'connections'
  | 'close_errors';

/** Every counter the device keeps, parser's included, in the order docs/cyton.md lists them. */
export const CYTON_COUNTER_KEYS: readonly CytonDeviceCounterKey[] = [
  'packets',
  'garbage_bytes',
  'bad_footer',
  'unknown_footer',
  'repeated_sample',
  'dropped_samples',
  'gaps',
  'outages',
  'outage_samples',
  'connections',
  'open_failures',
  'reset_timeouts',
  'handshake_failures',
  'no_board',
  'disconnects',
  'stalls',
  'write_errors',
  'close_errors',
];

/** Why the last connection attempt or connection failed. */
export interface CytonFailure {
  readonly message: string;
  /** Stable code: E_CYTON_OPEN, E_CYTON_NO_RESET, E_CYTON_NO_BOARD, E_CYTON_STALL, E_CYTON_WRITE, E_DISCONNECTED. */
  readonly code: string;
  /** Host monotonic ms. */
  readonly atMs: number;
}

/** Where the connection stands, for `status`: what it is doing since when, how often it tried, what failed last. */
export interface CytonConnection {
  readonly state: CytonState;
  /** Host monotonic ms the state was entered. */
  readonly sinceMs: number;
  /** Connection attempts (port opens) since start(); 0 before it. */
  readonly attempts: number;
  /** null until something failed. */
  readonly lastError: CytonFailure | null;
}

export interface CytonEvents {
  /** A block of µV samples (reused object: copy what you keep) and its host arrival time (monotonic ms). */
  samples: [block: SampleBlock, hostRxMs: number];
  aux: [event: CytonAuxEvent];
  gap: [event: CytonGapEvent];
  state: [state: CytonState, detail: string];
}

export interface CytonDeviceOptions {
  /** How to open the port: the real serialport opener, or FakeSerialBus.open in tests. */
  open: SerialOpener;
  /** Serial device of the dongle, e.g. /dev/ttyUSB0 (board file `source.path`). */
  path: string;
  /** Default 115200, what the dongle runs at. */
  baudRate?: number;
  /** ADS1299 gain (board file `source.gain`), default 24. */
  gain?: number;
  /**
   * 8 (default): the Cyton's own channels at 250 Hz; a Daisy, if the board reports one, is
   * detached with `c` so the board streams those alone. 16 (board file `source.daisy`): Cyton
   * + Daisy at 125 Hz; a board that reports no Daisy is a failed handshake (E_CYTON_NO_DAISY).
   */
  channels?: 8 | 16;
  /** Samples per block, default 1. */
  blockSamples?: number;
  stream?: string;
  /** How long a write or close may take before the port counts as hung, ms (default 500; one byte takes microseconds). */
  writeTimeoutMs?: number;
  /** How long to wait for the `$$$` after `v`, ms (default 3000). */
  resetTimeoutMs?: number;
  /** `v` attempts per connection before giving up on it and reconnecting (default 3). */
  resetAttempts?: number;
  /** Silence while streaming that counts as a stalled link, ms (default 1000). */
  stallTimeoutMs?: number;
  /** How often the stall watchdog looks, ms (default min(250, stallTimeoutMs / 4)). */
  stallCheckMs?: number;
  /** First reconnect delay, doubled per failure up to `backoffMaxMs` (defaults 250 and 5000 ms). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Host monotonic clock in ms; injectable so tests can make outage lengths exact. */
  now?: () => number;
  logger?: Logger;
}
