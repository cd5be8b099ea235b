/** A source's gaps and state changes as run counters and telemetry events. */
import type { Counters } from '../core/counters.js';
import type { Source } from './source.js';
import type { RunEvent } from './types.js';

export interface SourceEventSinks {
  counters: Counters;
  event: RunEvent;
}

export function wireSourceEvents(source: Source, o: SourceEventSinks): void {
  source.on('gap', (g) => {
    o.counters.inc('gaps');
    o.counters.inc('gap_samples', Math.max(0, g.missingSamples || 0));
    o.event('gap', 'warn', `${g.cause} gap: ${g.missingSamples} samples, ${g.hostSpanMs.toFixed(1)} ms${g.deviceReset ? ' (device reset)' : ''}`);
  });
  source.on('state', (s) => o.event('source', 'info', `source ${s}`));
}
