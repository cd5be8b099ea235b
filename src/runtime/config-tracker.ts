/**
 * The run configuration's `tracker` section (docs/tracker.md, "Run configuration"): an external
 * motion-tracker feed. Every key the document lists is taken here with the documented range, and
 * nothing else; test/tracker-config.test.ts parses the document's examples through it.
 */
import type { Validator } from '../core/validate.js';
import { parseTrackerEndpoint } from '../devices/tracker/endpoint.js';
import { TRACKER_MAX_DIMS } from '../devices/tracker/types.js';

/** Highest nominal rate, Hz: the aligner's tracker ring is sized for 1000 samples a second (chain.ts). */
export const TRACKER_MAX_RATE_HZ = 1000;
/** Longest measurement latency taken, ms. */
export const TRACKER_MAX_LATENCY_MS = 1000;
/** Default silence before the feed is reported stale, ms. */
export const TRACKER_DEFAULT_STALE_MS = 1000;

/** Keys every feed kind takes. Optional ones are absent when the file leaves them out (defaults apply at open). */
interface TrackerCommon {
  dims: number;
  names: string[];
  /** Fixed delay between the pose and its stamp (or its arrival, unstamped), subtracted from every sample, ms. */
  latencyMs?: number;
  /** Nominal rate of a sender that does not stamp: its samples are timed `seq / rateHz` through a clock model. */
  rateHz?: number;
  /** Silence longer than this reports the feed stale (event, `clock` and `health`), ms. Default 1000. */
  staleMs?: number;
}

export type TrackerConfig =
  | (TrackerCommon & { kind: 'zmq'; endpoint: string; bind: boolean; topic: string })
  | (TrackerCommon & { kind: 'serial'; path: string; baudRate: number; timeBase?: 'sender' | 'host' });

const COMMON = ['kind', 'dims', 'names', 'latencyMs', 'rateHz', 'staleMs'] as const;

export function validateTracker(v: Validator, raw: unknown): TrackerConfig {
  const t = v.object(raw, 'tracker');
  const kind = v.oneOf(t.kind, 'tracker.kind', ['zmq', 'serial'] as const);
  const dims = v.integer(t.dims, 'tracker.dims', [1, TRACKER_MAX_DIMS]);
  const names =
    t.names === undefined
      ? Array.from({ length: dims }, (_, i) => `dim${i + 1}`)
      : v.array(t.names, 'tracker.names').map((n, i) => v.string(n, `tracker.names[${i}]`));
  if (names.length !== dims) v.fail('tracker.names', `has ${names.length} names for ${dims} dims`);
  const common: TrackerCommon = {
    dims,
    names,
    ...(t.latencyMs !== undefined && { latencyMs: v.number(t.latencyMs, 'tracker.latencyMs', [0, TRACKER_MAX_LATENCY_MS]) }),
    ...(t.rateHz !== undefined && { rateHz: positive(v, t.rateHz, 'tracker.rateHz', TRACKER_MAX_RATE_HZ) }),
    ...(t.staleMs !== undefined && { staleMs: v.number(t.staleMs, 'tracker.staleMs', [10, 60_000]) }),
  };
  if (kind === 'zmq') {
    if (t.timeBase !== undefined) {
      v.fail('tracker.timeBase', 'applies to serial feeds only: a ZeroMQ message says which clock stamped it in its flags (HOST_CLOCK)');
    }
    v.onlyKeys(t, 'tracker', [...COMMON, 'endpoint', 'bind', 'topic']);
    const endpoint = v.string(t.endpoint, 'tracker.endpoint');
    const bind = t.bind === undefined ? false : v.boolean(t.bind, 'tracker.bind');
    const parsed = parseTrackerEndpoint(endpoint, bind);
    if (typeof parsed === 'string') v.fail('tracker.endpoint', `${endpoint} ${parsed}`);
    return { kind, ...common, endpoint, bind, topic: t.topic === undefined ? 'tracker' : v.string(t.topic, 'tracker.topic') };
  }
  v.onlyKeys(t, 'tracker', [...COMMON, 'path', 'baudRate', 'timeBase']);
  return {
    kind,
    ...common,
    path: v.string(t.path, 'tracker.path'),
    baudRate: t.baudRate === undefined ? 115200 : v.integer(t.baudRate, 'tracker.baudRate', [1200, 4_000_000]),
    ...(t.timeBase !== undefined && { timeBase: v.oneOf(t.timeBase, 'tracker.timeBase', ['sender', 'host'] as const) }),
  };
}

function positive(v: Validator, raw: unknown, path: string, max: number): number {
  const n = v.number(raw, path, [0, max]);
  if (n === 0) v.fail(path, `must be above 0 (and at most ${max})`);
  return n;
}
