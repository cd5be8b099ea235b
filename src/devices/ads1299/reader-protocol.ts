/** What the main thread and the ADS1299 reader thread exchange (all structured-cloneable plain data). */
import type { LineRef } from '../../boards/types.js';
import type { LogLevel, LogSettings } from '../../core/log.js';
import type { ThreadPriority } from '../../loop/priority.js';
import type { SpiOptions } from '../../hal/spi-types.js';
import type { Ads1299SourceDef } from './registers.js';
import type { EdgeQueueBuffers } from './fake-edges.js';
import type { RingBuffers } from './ring.js';

/** Everything the reader thread opens and runs, from plain data: it opens the bus and the line itself. */
export interface Ads1299ReaderConfig {
  /** spidev path (`/dev/spidev0.0`) or `fake:ads1299` (the datasheet model, src/hal/spi-fake.ts). */
  spiPath: string;
  spi: SpiOptions;
  /** The data-ready line (opened for falling edges through hal/gpio-select.ts, unless `edges` is given). */
  dataReady: LineRef;
  source: Ads1299SourceDef;
  /** sysfs root for the GPIO backend choice (tests: a fake tree). */
  sysRoot?: string;
  /**
   * Fake edges and conversions from shared memory instead of a GPIO line and a free-running model
   * (tests and the benchmark: an oscillator thread drives both, src/devices/ads1299/fake-edges.ts).
   * Needs `spiPath` `fake:ads1299`.
   */
  edges?: EdgeQueueBuffers;
  /** The model's channel input repeats every this many conversions (FakeAds1299.signal; default 1000). */
  modelSignalPeriod?: number;
  readWindowMs?: number;
  stallMs?: number;
  stallCheckMs?: number;
  /** Wait after RESET, ms (default 2). */
  resetWaitMs?: number;
  /** Scheduling for the reader thread only (SCHED_FIFO through chrt, as the loop worker does). */
  priority?: ThreadPriority;
}

export interface ReaderWorkerData {
  role: 'ads1299-reader';
  config: Ads1299ReaderConfig;
  ring: RingBuffers;
  /** Float64Array over ADS1299_COUNTER_KEYS. */
  counters: SharedArrayBuffer;
  log: LogSettings;
}

export type ReaderCommand = { cmd: 'stop' } | { cmd: 'resume' } | { cmd: 'close' };

export type ReaderMessage =
  /** Streaming: the chip answered and conversions run. */
  | { type: 'started'; priority: string; edgeClock: string; tid: number }
  | { type: 'failed'; message: string; code: string }
  /** The ring has records and the main thread had armed the wake-up. */
  | { type: 'wake' }
  | { type: 'state'; state: string; reason?: string; code?: string }
  | { type: 'log'; level: LogLevel; key: string; message: string }
  /** Reply to a command. */
  | { type: 'done'; cmd: ReaderCommand['cmd']; error?: string };
