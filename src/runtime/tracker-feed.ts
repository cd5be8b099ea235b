/**
 * Opens the run configuration's tracker feed (docs/tracker.md, "Run configuration"), turning a
 * bad endpoint or port into a ConfigError naming the key, so `reflex run` exits 2 saying what to fix.
 */
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { SerialTracker } from '../devices/tracker/serial.js';
import type { TrackerFeed } from '../devices/tracker/types.js';
import { ZmqTracker } from '../devices/tracker/zmq.js';
import type { SerialOpener } from '../hal/serial.js';
import { openNodeSerial } from '../hal/serial-node.js';
import type { TrackerConfig } from './config-tracker.js';
import { RuntimeCodes } from './codes.js';

export interface OpenTrackerOptions {
  log: Logger;
  /** Serial backend; the real one unless a test injects the fake. */
  open?: SerialOpener;
}

/** The feed's stream name in telemetry and the aligner. */
export const TRACKER_STREAM = 'tracker';

export async function openConfiguredTracker(t: TrackerConfig, opts: OpenTrackerOptions): Promise<TrackerFeed> {
  const timing = {
    ...(t.rateHz !== undefined && { rateHz: t.rateHz }),
    ...(t.latencyMs !== undefined && { latencyMs: t.latencyMs }),
  };
  if (t.kind === 'zmq') {
    // Refusals are ConfigErrors (E_TRACKER_ENDPOINT) naming the key already.
    const feed = await ZmqTracker.open({
      name: TRACKER_STREAM,
      endpoint: t.endpoint,
      dims: t.dims,
      bind: t.bind,
      topic: t.topic,
      errorKey: 'tracker.endpoint',
      ...timing,
    });
    opts.log.info(`tracker: ${t.bind ? 'bound to' : 'connecting to'} ${feed.lastEndpoint}, topic "${t.topic}", ${t.dims} dims`);
    return feed;
  }
  try {
    const feed = await SerialTracker.open({
      name: TRACKER_STREAM,
      opener: opts.open ?? openNodeSerial,
      path: t.path,
      dims: t.dims,
      baudRate: t.baudRate,
      ...(t.timeBase !== undefined && { timeBase: t.timeBase }),
      ...timing,
    });
    opts.log.info(`tracker: serial ${t.path} at ${t.baudRate} baud, ${t.dims} dims`);
    return feed;
  } catch (err) {
    throw new ConfigError(
      RuntimeCodes.trackerPath,
      `"tracker.path" ${t.path} cannot be opened (${(err as Error).message}): check the device is plugged in and the path`,
      { cause: err },
    );
  }
}
