/**
 * A source's gaps, state changes and notices as run counters and telemetry events.
 *
 * Counters count every gap exactly (`gaps`, `gap_frames`, `gap_samples`); the `gap` event is
 * aggregated to at most one per second per source (source-gaps.ts), so a flood of lost
 * frames costs one log line and one event a second, carrying the totals.
 */
import type { Counters } from '../core/counters.js';
import { monotonicMs } from '../time/monotonic.js';
import { describeGaps, GapAggregator, type GapAggregate, type GapTimers } from './source-gaps.js';
import type { Source, SourceEvents, SourceStateDetail } from './source.js';
import type { RunEvent } from './types.js';

export interface SourceEventSinks {
  counters: Counters;
  event: RunEvent;
  /** At most one `gap` event per this many ms (default 1000). */
  gapIntervalMs?: number;
  /** Host clock and timers of the aggregation (tests drive them by hand). */
  now?: () => number;
  timers?: GapTimers;
}

/** Returned by wireSourceEvents: call close() when the run stops, so pending gaps are reported. */
export interface SourceEventWiring {
  /** Report pending gaps now. */
  flush(): void;
  /** flush(), then stop listening to the source. */
  close(): void;
}

/** The `data` of a `gap` event (docs/telemetry.md, `event`). */
export function gapEventData(a: Readonly<GapAggregate>): Record<string, string | number | boolean> {
  return {
    count: a.count,
    cause: a.causes.join('+'),
    missing_frames: a.missingFrames,
    missing_samples: a.missingSamples,
    from_seq: a.fromSeq,
    to_seq: a.toSeq,
    device_span_us: a.deviceSpanUs,
    host_span_ms: a.hostSpanMs,
    device_reset: a.deviceReset,
    first_ms: a.firstMs,
    last_ms: a.lastMs,
  };
}

export function wireSourceEvents(source: Source, o: SourceEventSinks): SourceEventWiring {
  const gaps = new GapAggregator({
    ...(o.gapIntervalMs !== undefined && { intervalMs: o.gapIntervalMs }),
    now: o.now ?? monotonicMs,
    ...(o.timers && { timers: o.timers }),
    report: (a) => o.event('gap', 'warn', describeGaps(a), gapEventData(a)),
  });
  const onGap = (...[g]: SourceEvents['gap']): void => {
    o.counters.inc('gaps');
    if (Number.isFinite(g.missingFrames) && g.missingFrames! > 0) o.counters.inc('gap_frames', g.missingFrames);
    if (Number.isFinite(g.missingSamples) && g.missingSamples > 0) o.counters.inc('gap_samples', g.missingSamples);
    if (g.deviceReset) o.counters.inc('device_resets');
    gaps.add(g);
  };
  let previous = 'stopped';
  const onState = (...[s, d]: SourceEvents['state']): void => {
    const was = previous;
    previous = s;
    const data = stateData(s, d);
    if (s === 'reconnecting' && was === 'streaming') {
      o.counters.inc('source_disconnects');
      o.event('disconnect', 'warn', `source disconnected${d?.reason ? `: ${d.reason}` : ''}; reconnecting`, data);
    } else if (s === 'streaming' && was === 'reconnecting') {
      o.event('reconnect', 'info', `source streaming again${d?.attempts !== undefined ? ` (connection attempt ${d.attempts})` : ''}`, data);
    } else if (s === 'reconnecting') {
      o.event('source', 'warn', `source ${s}${d?.reason ? `: ${d.reason}` : ''}`, data);
    } else {
      o.event('source', 'info', `source ${s}`, data);
    }
  };
  const onNotice = (...[n]: SourceEvents['notice']): void => o.event(n.kind, n.level, n.message, n.data);
  source.on('gap', onGap);
  source.on('state', onState);
  source.on('notice', onNotice);
  return {
    flush: () => gaps.flush(),
    close: () => {
      gaps.flush();
      source.off('gap', onGap);
      source.off('state', onState);
      source.off('notice', onNotice);
    },
  };
}

function stateData(state: string, d: SourceStateDetail | undefined): Record<string, string | number | boolean> {
  return {
    state,
    ...(d?.reason !== undefined && { reason: d.reason }),
    ...(d?.code !== undefined && { code: d.code }),
    ...(d?.attempts !== undefined && { attempts: d.attempts }),
  };
}
