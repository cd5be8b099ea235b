/**
 * Recorder: every telemetry message it is given, written to one XDF file by the layout in
 * docs/recording.md (layout.ts). Two ways in:
 *  - on the board, as the publisher's tap (PublishTap): it sees every message before
 *    decimation and before any subscriber's queue, on the runtime's main thread (never the
 *    loop worker's); stamps are this host's CLOCK_MONOTONIC, so every clock offset is 0;
 *  - on a workstation, `add()` for each message a TelemetryClient yields; stamps stay on the
 *    board's clock and ClockOffset chunks carry the estimated offset to this host's clock
 *    (the smallest receive-minus-publish time over each 5 s window, as LabRecorder does).
 * Copies what it keeps during the call (block arrays are reused by their owners): samples go
 * straight into the writer's chunk buffer, rows through one reused array per stream.
 */
import type { SampleBlock } from '../core/block.js';
import { monotonicMs } from '../time/monotonic.js';
import type { PublishTap } from '../telemetry/publisher.js';
import {
  isTopic,
  type ActuatorsBody,
  type BlockTopic,
  type ClockBody,
  type LoopBody,
  type PredictionBody,
  type TelemetryMessage,
  type Topic,
  type TopicBodies,
} from '../telemetry/topics.js';
import { actuatorsSpec, blockSpec, CLOCK_STATES, clockSpec, companionSpec, LOOP_CHANNELS, loopSpec, markerSpec, predictionSpec, streamName } from './layout.js';
import type { ReflexStreamMeta } from './types.js';
import { XdfWriter, type XdfStreamSpec } from './xdf-writer.js';

export interface RecorderOptions {
  path: string;
  /** Replace an existing file (default: refuse). */
  overwrite?: boolean;
  /** `local`: the stamps are this host's clock (the board's tap). `remote`: they are the publisher's (a workstation). */
  clock: 'local' | 'remote';
  /** The runtime and board of a local recording (the tap's messages carry no source). */
  source?: { runtime: string; board: string };
  /** Only these topics (default all). */
  topics?: readonly Topic[];
  /** Written in the file header and in every stream's meta (board summary, run configuration, model...). JSON-safe. */
  run?: Record<string, unknown>;
  /** Seconds between ClockOffset chunks (default 5); a Boundary chunk goes every second time. */
  offsetEveryS?: number;
  /** Test hook: this host's CLOCK_MONOTONIC, ms. */
  now?: () => number;
}

export interface RecorderStreamStats {
  name: string;
  topic: string;
  samples: number;
  /** Block streams: samples missing between blocks (first_sample jumps). */
  gaps: number;
}

export interface RecorderStats {
  messages: number;
  /** Messages the telemetry client saw missing (sequence gaps); always 0 for the tap. */
  lost: number;
  bytes: number;
  /** Time spent writing the file on this thread, ms. */
  writeMs: number;
  streams: RecorderStreamStats[];
}

interface Entry {
  id: number;
  companion: number;
  topic: Topic;
  /** What makes a later body belong to this XDF stream (channels, rate, unit, model, time base). */
  shape: string;
  /** Reused row for one-sample streams. */
  row: Float64Array;
  nextFirst: number;
  stats: RecorderStreamStats;
  /** Block streams: the description, compared field by field per block. */
  block?: { rate: number; unit: string; channels: readonly string[] };
  /** prediction and actuators: the description, compared field by field per message (one per loop cycle). */
  pred?: { model: string; unit: string; names: readonly string[] };
  act?: { names: readonly string[]; units: readonly string[] };
}

/** A loop cycle's own time when the body carries it (runtimes before cycle_ms: the publish time). */
function cycleStamp(cycleMs: number | undefined, publishS: number): number {
  return cycleMs !== undefined && Number.isFinite(cycleMs) ? cycleMs / 1000 : publishS;
}

interface Origin {
  runtime: string;
  board: string;
  endpoint?: string;
  /** Remote: smallest receive minus publish time this window, and the last publish time seen, ms. */
  minOffsetMs: number;
  lastOffsetMs: number;
  lastMonoMs: number;
  entries: Entry[];
}

const NO_SUB = '';

export class Recorder implements PublishTap {
  readonly path: string;
  readonly #writer: XdfWriter;
  readonly #opts: RecorderOptions;
  readonly #now: () => number;
  readonly #topics: ReadonlySet<Topic> | undefined;
  /** runtime -> topic -> block stream or clock source -> current entry. */
  readonly #origins = new Map<string, Origin>();
  readonly #byKey = new Map<Origin, Map<Topic, Map<string, Entry>>>();
  readonly #names = new Map<string, number>();
  readonly #companionRow = new Float64Array(7);
  readonly #timer: NodeJS.Timeout;
  #ticks = 0;
  #messages = 0;
  #lost = 0;
  #closed = false;

  constructor(opts: RecorderOptions) {
    this.path = opts.path;
    this.#opts = opts;
    this.#now = opts.now ?? monotonicMs;
    this.#topics = opts.topics && opts.topics.length > 0 ? new Set(opts.topics) : undefined;
    this.#writer = new XdfWriter(opts.path, {
      overwrite: opts.overwrite,
      header: { recorder: opts.clock === 'local' ? 'board' : 'workstation', ...opts.run },
      now: this.#now,
    });
    this.#timer = setInterval(() => this.#tick(), (opts.offsetEveryS ?? 5) * 1000);
    this.#timer.unref();
  }

  /** PublishTap: a non-block message from the local publisher. */
  message<T extends Topic>(topic: T, body: TopicBodies[T], monoMs: number): void {
    if (this.#closed || (this.#topics && !this.#topics.has(topic))) return;
    this.#messages++;
    this.#record(this.#local(), topic, body, monoMs);
  }

  /** PublishTap: a block from the local publisher. */
  block(topic: BlockTopic, b: SampleBlock, monoMs: number): void {
    if (this.#closed || (this.#topics && !this.#topics.has(topic))) return;
    this.#messages++;
    const o = this.#local();
    const e = this.#blockEntry(o, topic, b.stream, b.rate, b.unit, b.channelNames);
    this.#writeBlock(e, b.data, b.samples, b.firstSample, b.seq, b.deviceTimeUs, b.hostTimeMs, b.hostPeriodMs, b.valid, monoMs);
  }

  /** A message received over telemetry (workstation). */
  add(msg: TelemetryMessage): void {
    if (this.#closed || !isTopic(msg.topic) || (this.#topics && !this.#topics.has(msg.topic))) return;
    this.#messages++;
    this.#lost += msg.lost;
    const o = this.#origin(msg.source.runtime, msg.source.board, msg.source.endpoint);
    const recvMinusPub = this.#now() - msg.mono_ms;
    if (recvMinusPub < o.minOffsetMs) o.minOffsetMs = recvMinusPub;
    o.lastMonoMs = msg.mono_ms;
    if (Number.isNaN(o.lastOffsetMs)) o.lastOffsetMs = recvMinusPub;
    this.#record(o, msg.topic, msg.body, msg.mono_ms);
  }

  stats(): RecorderStats {
    const streams: RecorderStreamStats[] = [];
    for (const o of this.#origins.values()) for (const e of o.entries) streams.push({ ...e.stats });
    return { messages: this.#messages, lost: this.#lost, bytes: this.#writer.bytes, writeMs: this.#writer.writeMs, streams };
  }

  /** Final clock offsets, stream footers, fsync, close. Throws when writing failed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#offsets();
    this.#writer.close();
  }

  #record(o: Origin, topic: Topic, body: unknown, monoMs: number): void {
    const stampS = monoMs / 1000;
    switch (topic) {
      case 'emg.raw':
      case 'emg.features':
      case 'tracker': {
        const b = body as TopicBodies['tracker'];
        const e = this.#blockEntry(o, topic, b.stream, b.rate, b.unit, b.channels);
        this.#writeBlock(e, b.data, b.samples, b.first_sample, b.block_seq, b.device_time_us, b.host_time_ms, b.host_period_ms, b.valid, monoMs);
        return;
      }
      case 'prediction': {
        const b = body as PredictionBody;
        // Every loop cycle arrives here: the stream's description is rebuilt only when it changed.
        const last = this.#current(o, topic);
        let e = last;
        if (!(e?.pred && e.pred.model === b.model && e.pred.unit === b.unit && sameList(e.pred.names, b.names))) {
          e = this.#entry(o, topic, NO_SUB, `${b.model}\u0000${b.unit}\u0000${b.names.join('\u0000')}`, (name, meta) => predictionSpec(name, b, meta));
          e.pred = { model: b.model, unit: b.unit, names: [...b.names] };
        }
        const r = e.row;
        r[0] = b.tick;
        r[1] = b.window_end_ms;
        r[2] = b.latency_ms;
        for (let i = 0; i < b.values.length; i++) r[3 + i] = b.values[i]!;
        this.#row(e, cycleStamp(b.cycle_ms, stampS));
        return;
      }
      case 'actuators': {
        const b = body as ActuatorsBody;
        const last = this.#current(o, topic);
        let e = last;
        if (!(e?.act && sameList(e.act.names, b.names) && sameList(e.act.units, b.units))) {
          e = this.#entry(o, topic, NO_SUB, `${b.names.join('\u0000')}\u0001${b.units.join('\u0000')}`, (name, meta) => actuatorsSpec(name, b, meta));
          e.act = { names: [...b.names], units: [...b.units] };
        }
        const r = e.row;
        const n = b.names.length;
        r[0] = b.tick;
        r[1] = b.safe_state ? 1 : 0;
        for (let i = 0; i < n; i++) {
          r[2 + i] = b.requested[i]!;
          r[2 + n + i] = b.applied[i]!;
          r[2 + 2 * n + i] = b.limited[i]!;
        }
        this.#row(e, cycleStamp(b.cycle_ms, stampS));
        return;
      }
      case 'loop': {
        const b = body as LoopBody;
        const e = this.#entry(o, topic, NO_SUB, '', (name, meta) => loopSpec(name, meta));
        for (let i = 0; i < LOOP_CHANNELS.length; i++) e.row[i] = b[LOOP_CHANNELS[i]!];
        this.#row(e, stampS);
        return;
      }
      case 'clock': {
        const b = body as ClockBody;
        const e = this.#entry(o, topic, b.source, b.time_base, (name, meta) => clockSpec(name, b, meta));
        const r = e.row;
        r[0] = CLOCK_STATES.indexOf(b.state);
        r[1] = b.offset_ms;
        r[2] = b.drift_ppm;
        r[3] = b.residual_ms;
        r[4] = b.points;
        this.#row(e, stampS);
        return;
      }
      case 'health':
      case 'event': {
        const e = this.#entry(o, topic, NO_SUB, '', (name, meta) => markerSpec(topic, name, meta));
        this.#writer.writeString(e.id, JSON.stringify(body), stampS);
        e.stats.samples++;
        return;
      }
    }
  }

  #current(o: Origin, topic: Topic): Entry | undefined {
    return this.#byKey.get(o)?.get(topic)?.get(NO_SUB);
  }

  #row(e: Entry, stampS: number): void {
    this.#writer.writeSample(e.id, e.row, stampS);
    e.stats.samples++;
  }

  #blockEntry(o: Origin, topic: Topic, stream: string, rate: number, unit: string, channels: readonly string[]): Entry {
    const current = this.#byKey.get(o)?.get(topic)?.get(stream);
    // The common case, checked without building the shape string: same description as last time.
    if (current?.block && current.block.rate === rate && current.block.unit === unit && sameList(current.block.channels, channels)) return current;
    const e = this.#entry(
      o,
      topic,
      stream,
      shapeOf(rate, unit, channels),
      (name, meta) => blockSpec(topic, name, { rate, unit, channels }, { ...meta, stream }),
      true,
    );
    e.block = { rate, unit, channels };
    return e;
  }

  #writeBlock(
    e: Entry,
    data: Float32Array,
    samples: number,
    first: number,
    seq: number,
    deviceUs: number,
    hostMs: number,
    periodMs: number,
    valid: boolean,
    monoMs: number,
  ): void {
    this.#writer.writeBlock(e.id, data, samples, true, hostMs, periodMs);
    const r = this.#companionRow;
    r[0] = first;
    r[1] = seq;
    r[2] = samples;
    r[3] = deviceUs;
    r[4] = hostMs;
    r[5] = periodMs;
    r[6] = valid ? 1 : 0;
    this.#writer.writeSample(e.companion, r, (Number.isNaN(hostMs) ? monoMs : hostMs) / 1000);
    if (e.stats.samples > 0 && first > e.nextFirst) e.stats.gaps += first - e.nextFirst;
    e.nextFirst = first + samples;
    e.stats.samples += samples;
  }

  /** The current entry for (origin, topic, sub), or a new XDF stream when there is none or its shape changed. */
  #entry(o: Origin, topic: Topic, sub: string, shape: string, spec: (name: string, meta: ReflexStreamMeta) => XdfStreamSpec, withCompanion = false): Entry {
    let byTopic = this.#byKey.get(o);
    if (!byTopic) this.#byKey.set(o, (byTopic = new Map<Topic, Map<string, Entry>>()));
    let bySub = byTopic.get(topic);
    if (!bySub) byTopic.set(topic, (bySub = new Map<string, Entry>()));
    const current = bySub.get(sub);
    if (current && current.shape === shape) return current;

    let name = streamName(topic, sub === NO_SUB ? undefined : sub);
    // A second runtime on the same recording (a workstation subscribed to several) is named apart.
    if (this.#origins.keys().next().value !== o.runtime) name += ` [${o.runtime}]`;
    const seen = (this.#names.get(name) ?? 0) + 1;
    this.#names.set(name, seen);
    if (seen > 1) name += ` (${seen})`;
    const meta: ReflexStreamMeta = {
      ...this.#opts.run,
      topic,
      runtime: o.runtime,
      board: o.board,
      ...(o.endpoint !== undefined && { endpoint: o.endpoint }),
      ...(topic === 'clock' && { source: sub }),
      ...(seen > 1 && { segment: seen }),
    };
    const s = spec(name, meta);
    const id = this.#writer.addStream(s);
    const companion = withCompanion ? this.#writer.addStream(companionSpec(name, meta)) : 0;
    const e: Entry = {
      id,
      companion,
      topic,
      shape,
      row: new Float64Array(s.channels.length),
      nextFirst: 0,
      stats: { name, topic, samples: 0, gaps: 0 },
    };
    bySub.set(sub, e);
    o.entries.push(e);
    // Every stream gets an offset before its first sample, so clock-syncing readers never guess.
    this.#offset(o, e);
    return e;
  }

  #local(): Origin {
    const src = this.#opts.source;
    return this.#origin(src?.runtime ?? 'reflex', src?.board ?? 'unknown', undefined);
  }

  #origin(runtime: string, board: string, endpoint: string | undefined): Origin {
    let o = this.#origins.get(runtime);
    if (!o) {
      o = { runtime, board, ...(endpoint !== undefined && { endpoint }), minOffsetMs: Infinity, lastOffsetMs: NaN, lastMonoMs: NaN, entries: [] };
      this.#origins.set(runtime, o);
    }
    return o;
  }

  #offset(o: Origin, e: Entry): void {
    if (this.#opts.clock === 'local') {
      this.#writer.clockOffset(e.id, this.#now() / 1000, 0);
      if (e.companion) this.#writer.clockOffset(e.companion, this.#now() / 1000, 0);
      return;
    }
    if (Number.isNaN(o.lastOffsetMs)) return;
    // Collection time on the stamps' (the board's) clock, where clock-syncing readers look it up.
    this.#writer.clockOffset(e.id, o.lastMonoMs / 1000, o.lastOffsetMs / 1000);
    if (e.companion) this.#writer.clockOffset(e.companion, o.lastMonoMs / 1000, o.lastOffsetMs / 1000);
  }

  #offsets(): void {
    for (const o of this.#origins.values()) {
      if (o.minOffsetMs !== Infinity) o.lastOffsetMs = o.minOffsetMs;
      o.minOffsetMs = Infinity;
      for (const e of o.entries) this.#offset(o, e);
    }
  }

  #tick(): void {
    if (this.#closed) return;
    this.#offsets();
    if (++this.#ticks % 2 === 0) this.#writer.boundary();
  }
}

function shapeOf(rate: number, unit: string, channels: readonly string[]): string {
  return `${rate}\u0000${unit}\u0000${channels.join('\u0000')}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
