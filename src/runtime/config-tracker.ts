/** The run configuration's `tracker` section (docs/tracker.md): an external motion-tracker feed. */
import type { Validator } from '../core/validate.js';

export type TrackerConfig =
  | { kind: 'zmq'; endpoint: string; dims: number; names: string[]; bind: boolean; topic: string }
  | { kind: 'serial'; path: string; dims: number; names: string[]; baudRate: number };

export function validateTracker(v: Validator, raw: unknown): TrackerConfig {
  const t = v.object(raw, 'tracker');
  const kind = v.oneOf(t.kind, 'tracker.kind', ['zmq', 'serial'] as const);
  const dims = v.integer(t.dims, 'tracker.dims', [1, 32]);
  const names = t.names === undefined
    ? Array.from({ length: dims }, (_, i) => `dim${i + 1}`)
    : v.array(t.names, 'tracker.names').map((n, i) => v.string(n, `tracker.names[${i}]`));
  if (names.length !== dims) v.fail('tracker.names', `has ${names.length} names for ${dims} dims`);
  if (kind === 'zmq') {
    v.onlyKeys(t, 'tracker', ['kind', 'endpoint', 'dims', 'names', 'bind', 'topic']);
    return {
      kind, dims, names, endpoint: v.string(t.endpoint, 'tracker.endpoint'),
      bind: t.bind === undefined ? false : v.boolean(t.bind, 'tracker.bind'),
      topic: t.topic === undefined ? 'tracker' : v.string(t.topic, 'tracker.topic'),
    };
  } else {
    v.onlyKeys(t, 'tracker', ['kind', 'path', 'dims', 'names', 'baudRate']);
    return {
      kind, dims, names, path: v.string(t.path, 'tracker.path'),
      baudRate: t.baudRate === undefined ? 115200 : v.integer(t.baudRate, 'tracker.baudRate', [1200, 4_000_000]),
    };
  }
}
