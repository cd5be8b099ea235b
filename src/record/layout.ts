/**
 * How each telemetry topic becomes an XDF stream (docs/recording.md, "Streams"): stream
 * names, content types, channel lists and units. The recorder writes by these rules and the
 * consumers (replay, train, export) can find streams with the helpers at the end.
 */
import type { ActuatorsBody, BlockBody, ClockBody, ClockState, LoopBody, PredictionBody, Topic } from '../telemetry/topics.js';
import type { RecordedStream, Recording } from './types.js';
import type { XdfChannel, XdfStreamSpec } from './xdf-writer.js';

/** Channels of a block stream's companion "<name> blocks" stream, in this order. */
export const BLOCK_COMPANION_CHANNELS = ['first_sample', 'block_seq', 'samples', 'device_time_us', 'host_time_ms', 'host_period_ms', 'valid'] as const;
/** The LoopBody fields, in declaration order: the `loop` stream's channels. */
export const LOOP_CHANNELS = [
  'ticks',
  'period_ms',
  'missed',
  'lateness_p50_ms',
  'lateness_p99_ms',
  'lateness_max_ms',
  'compute_p50_ms',
  'compute_p99_ms',
  'compute_max_ms',
] as const satisfies readonly (keyof LoopBody)[];
export const CLOCK_CHANNELS = ['state', 'offset_ms', 'drift_ppm', 'residual_ms', 'points'] as const;
/** `state` channel values of the clock stream. */
export const CLOCK_STATES: readonly ClockState[] = ['converging', 'locked', 'stale'];
export const PREDICTION_FIXED = ['tick', 'window_end_ms', 'latency_ms'] as const;

export const XDF_TYPES: Record<Topic, string> = {
  'emg.raw': 'EMG',
  'emg.features': 'EMG',
  tracker: 'Mocap',
  prediction: 'Prediction',
  actuators: 'Actuators',
  loop: 'ReflexLoop',
  clock: 'ReflexClock',
  health: 'Markers',
  event: 'Markers',
};
export const COMPANION_TYPE = 'ReflexBlocks';

/** Base XDF stream name: "reflex <topic>" plus the block stream or clock source. */
export function streamName(topic: Topic, sub: string | undefined): string {
  return sub === undefined ? `reflex ${topic}` : `reflex ${topic} ${sub}`;
}

function plain(labels: readonly string[], unit = '', type = 'Misc'): XdfChannel[] {
  return labels.map((label) => ({ label, unit, type }));
}

type Meta = XdfStreamSpec['meta'];

export function blockSpec(topic: Topic, name: string, body: Pick<BlockBody, 'rate' | 'unit' | 'channels'>, meta: Meta): XdfStreamSpec {
  const type = XDF_TYPES[topic];
  return {
    name,
    type,
    format: 'float32',
    nominalSrate: body.rate,
    sourceId: `${meta.runtime}/${meta.board}/${name}`,
    channels: body.channels.map((label, i) => ({ label, unit: channelUnit(body.unit, i, body.channels.length), type: type === 'Mocap' ? 'Position' : 'EMG' })),
    meta: { ...meta, unit: body.unit },
  };
}

/**
 * Channel `i`'s unit from a telemetry `unit`: one unit for every channel, or one per channel
 * joined with `|` (a tracker's or a model's outputs: "deg|unit"), docs/telemetry.md.
 */
export function channelUnit(unit: string, i: number, channels: number): string {
  if (!unit.includes('|')) return unit;
  const parts = unit.split('|');
  return parts.length === channels ? parts[i]! : unit;
}

export function companionSpec(dataName: string, meta: Meta): XdfStreamSpec {
  const name = `${dataName} blocks`;
  const units = { device_time_us: 'us', host_time_ms: 'ms', host_period_ms: 'ms' } as Record<string, string>;
  return {
    name,
    type: COMPANION_TYPE,
    format: 'double64',
    nominalSrate: 0,
    sourceId: `${meta.runtime}/${meta.board}/${name}`,
    channels: BLOCK_COMPANION_CHANNELS.map((label) => ({ label, unit: units[label] ?? '', type: 'Misc' })),
    meta: { ...meta, companion_of: dataName },
  };
}

export function predictionSpec(name: string, body: Pick<PredictionBody, 'names' | 'unit' | 'model'>, meta: Meta): XdfStreamSpec {
  return {
    name,
    type: XDF_TYPES.prediction,
    format: 'double64',
    nominalSrate: 0,
    sourceId: `${meta.runtime}/${meta.board}/${name}`,
    channels: [
      { label: 'tick', unit: '', type: 'Misc' },
      { label: 'window_end_ms', unit: 'ms', type: 'Misc' },
      { label: 'latency_ms', unit: 'ms', type: 'Misc' },
      ...body.names.map((label, i) => ({ label, unit: channelUnit(body.unit, i, body.names.length), type: 'Prediction' })),
    ],
    meta: { ...meta, model: body.model, unit: body.unit, names: [...body.names] },
  };
}

export function actuatorsSpec(name: string, body: Pick<ActuatorsBody, 'names' | 'units'>, meta: Meta): XdfStreamSpec {
  const chans: XdfChannel[] = [
    { label: 'tick', unit: '', type: 'Misc' },
    { label: 'safe_state', unit: '', type: 'Misc' },
  ];
  for (const part of ['requested', 'applied'] as const)
    body.names.forEach((n, i) => chans.push({ label: `${part}.${n}`, unit: body.units[i] ?? '', type: 'Actuator' }));
  for (const n of body.names) chans.push({ label: `limited.${n}`, unit: '', type: 'Misc' });
  return {
    name,
    type: XDF_TYPES.actuators,
    format: 'double64',
    nominalSrate: 0,
    sourceId: `${meta.runtime}/${meta.board}/${name}`,
    channels: chans,
    meta: { ...meta, names: [...body.names], units: [...body.units] },
  };
}

export function loopSpec(name: string, meta: Meta): XdfStreamSpec {
  const units = (l: string): string => (l.endsWith('_ms') ? 'ms' : '');
  return {
    name,
    type: XDF_TYPES.loop,
    format: 'double64',
    nominalSrate: 0,
    sourceId: `${meta.runtime}/${meta.board}/${name}`,
    channels: LOOP_CHANNELS.map((label) => ({ label, unit: units(label), type: 'Misc' })),
    meta,
  };
}

export function clockSpec(name: string, body: Pick<ClockBody, 'source' | 'time_base'>, meta: Meta): XdfStreamSpec {
  const units: Record<string, string> = { offset_ms: 'ms', drift_ppm: 'ppm', residual_ms: 'ms' };
  return {
    name,
    type: XDF_TYPES.clock,
    format: 'double64',
    nominalSrate: 0,
    sourceId: `${meta.runtime}/${meta.board}/${name}`,
    channels: CLOCK_CHANNELS.map((label) => ({ label, unit: units[label] ?? '', type: 'Misc' })),
    meta: { ...meta, source: body.source, time_base: body.time_base, states: CLOCK_STATES },
  };
}

export function markerSpec(topic: 'health' | 'event', name: string, meta: Meta): XdfStreamSpec {
  return {
    name,
    type: XDF_TYPES[topic],
    format: 'string',
    nominalSrate: 0,
    sourceId: `${meta.runtime}/${meta.board}/${name}`,
    channels: plain([topic], '', 'Markers'),
    meta,
  };
}

/** Streams of a recording from one topic (and block stream or clock source), in file order. */
export function streamsOf(rec: Recording, topic: Topic, sub?: string): RecordedStream[] {
  return rec.streams.filter(
    (s) => s.meta.topic === topic && s.meta.companion_of === undefined && (sub === undefined || s.meta.stream === sub || s.meta.source === sub),
  );
}

/** The "<name> blocks" companion of a block stream. */
export function companionOf(rec: Recording, data: RecordedStream): RecordedStream | undefined {
  return rec.streams.find((s) => s.meta.companion_of === data.name && s.meta.runtime === data.meta.runtime);
}
