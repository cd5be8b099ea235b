/**
 * What a run says about itself: the telemetry (prediction and actuators for every loop cycle,
 * loop timing, clock, health at each report tick) and the control `status` answer. Its buffers
 * and message bodies are made once per loop and reused for every cycle.
 */
import { basename } from 'node:path';
import { OutputMap } from '../actuate/mapping.js';
import type { BoardDef } from '../boards/types.js';
import type { Counters } from '../core/counters.js';
import type { TrackerMonitor } from '../devices/tracker/monitor.js';
import type { ControlLoop, LoopOutput } from '../loop/loop.js';
import { emptyStats, type LoopStatsSnapshot } from '../loop/stats.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import type { ControlServer } from '../telemetry/control-server.js';
import type { TelemetryPublisher } from '../telemetry/publisher.js';
import type { ActuatorsBody, ClockTimeBase, PredictionBody } from '../telemetry/topics.js';
import { monotonicMs } from '../time/monotonic.js';
import type { RunConfig } from './config.js';
import type { Source } from './source.js';
import type { RunEvent, RuntimeState } from './types.js';

/**
 * Subscribers get `prediction` and `actuators` at most about this often by default: the loop
 * publishes both every cycle (a recorder's tap sees each one), and a 1 kHz loop's worth would
 * swamp a scope or a Wi-Fi link. `telemetry.decimate` for either topic overrides it.
 */
export const CYCLE_TOPICS_MAX_HZ = 100;

/** The parts of a run that change while it runs, read at each report. */
export interface LiveRun {
  readonly state: RuntimeState;
  readonly loop: ControlLoop | null;
  readonly meta: ReflexModelMeta | null;
  readonly control: ControlServer | null;
  /** The run's tracker feed as watched for staleness and its clock; null without one. */
  readonly tracker: TrackerMonitor | null;
}

export interface RunReporterOptions {
  config: RunConfig;
  board: BoardDef;
  counters: Counters;
  pub: TelemetryPublisher;
  source: Source;
  /** When the run began (monotonicMs), for the uptime in `health`. */
  startedMs: number;
  live: LiveRun;
  /** Logs and publishes an `event` (the runtime's); without it events are only published. */
  event?: RunEvent;
}

export class RunReporter {
  readonly #run: RunReporterOptions;
  // Preallocated buffers; re-made only when a loop starts (its outputs may differ).
  #out: LoopOutput | null = null;
  /** The loop whose cycles are published, and the buffer each cycle is read into. */
  #loop: ControlLoop | null = null;
  #cycle: LoopOutput | null = null;
  #pred: PredictionBody | null = null;
  #act: ActuatorsBody | null = null;
  #lastCycle = -1;
  #overrunsSeen = 0;
  #unitOf: ReflexModelMeta | null = null;
  #unit = '';
  #stats: LoopStatsSnapshot = emptyStats();
  #requested = new Float32Array(0);
  #applied = new Float32Array(0);
  #limited = new Uint8Array(0);
  #target = new Float64Array(0);
  #map: OutputMap | null = null;
  #prevCycles = 0;

  constructor(opts: RunReporterOptions) {
    this.#run = opts;
  }

  /** Makes the buffers for a newly started loop; `mapping` is the output map it was started with. */
  attach(loop: ControlLoop, mapping: OutputMap['entries']): void {
    // Whatever the loop before this one left unread is lost with it: publish it first.
    this.drainCycles();
    this.#out = loop.createOutput();
    this.#loop = loop;
    this.#cycle = loop.createOutput();
    this.#lastCycle = -1;
    this.#overrunsSeen = loop.outputRingOverruns;
    const k = this.#run.board.actuators.length;
    this.#requested = new Float32Array(k);
    this.#applied = new Float32Array(k);
    this.#limited = new Uint8Array(k);
    this.#target = new Float64Array(k);
    this.#map = new OutputMap(mapping, this.#run.board.actuators, loop.outputNames);
    // Bodies reused for every cycle: publish() encodes (copies) them, and the tap copies what it keeps.
    this.#pred = {
      tick: -1,
      model: '',
      names: loop.outputNames,
      unit: '',
      values: this.#cycle.outputs,
      window_end_ms: Number.NaN,
      cycle_ms: Number.NaN,
      latency_ms: Number.NaN,
    };
    this.#act = {
      tick: -1,
      names: loop.actuatorNames,
      units: this.#run.board.actuators.map((a) => a.unit),
      requested: this.#requested,
      applied: this.#applied,
      limited: this.#limited,
      safe_state: true,
      cycle_ms: Number.NaN,
    };
    const every = Math.max(1, Math.ceil(this.#run.config.loop.rateHz / CYCLE_TOPICS_MAX_HZ));
    this.#run.pub.decimateByDefault('prediction', every);
    this.#run.pub.decimateByDefault('actuators', every);
  }

  /**
   * Publish a `prediction` and an `actuators` message for every loop cycle not published yet,
   * oldest first, from the loop's output ring. Called at each report tick; call it once more
   * after the loop stopped so the last cycles reach the recorder too.
   */
  drainCycles(): void {
    const loop = this.#loop;
    const o = this.#cycle;
    const p = this.#pred;
    const a = this.#act;
    if (!loop || !o || !p || !a || loop.outputRingPending === 0) return;
    const pub = this.#run.pub;
    // Per drain, not per cycle: a model switch changes these between cycles at most this rarely.
    p.model = basename(this.#run.config.model ?? '');
    p.names = loop.outputNames;
    p.unit = this.#outputUnit();
    p.latency_ms = this.#stats.computeP50Us / 1000;
    while (loop.nextCycle(o)) {
      const lost = loop.outputRingOverruns;
      if (lost !== this.#overrunsSeen) {
        this.#ringGap(lost - this.#overrunsSeen, o.cycle);
        this.#overrunsSeen = lost;
      }
      this.#lastCycle = o.cycle;
      p.tick = o.cycle;
      p.window_end_ms = o.inputHostTimeMs;
      p.cycle_ms = o.timeMs;
      pub.publish('prediction', p);
      // What the model asked for (before limits), beside what the loop drove: the difference is the safety layer at work.
      this.#map!.map(o.outputs, this.#target);
      for (let i = 0; i < this.#applied.length; i++) {
        this.#applied[i] = o.commands[i]!;
        this.#requested[i] = o.safe ? this.#applied[i]! : this.#target[i]!;
        this.#limited[i] = this.#requested[i] === this.#applied[i] ? 0 : 1;
      }
      a.tick = o.cycle;
      a.safe_state = o.safe;
      a.cycle_ms = o.timeMs;
      pub.publish('actuators', a);
    }
  }

  /** Cycles the ring lost: counted in `health`, and an event the recording keeps where the ticks jump. */
  #ringGap(lost: number, next: number): void {
    const message =
      `${lost} loop cycle(s) before tick ${next} were overwritten before telemetry read them ` +
      '(the main thread was held up longer than the output ring lasts); prediction and actuators have a gap there';
    const data = { lost, after_tick: this.#lastCycle, next_tick: next };
    if (this.#run.event) this.#run.event('loop.output_ring_overrun', 'warn', message, data);
    else this.#run.pub.publish('event', { kind: 'loop.output_ring_overrun', level: 'warn', message, data });
  }

  #outputUnit(): string {
    const meta = this.#run.live.meta;
    if (meta !== this.#unitOf) {
      this.#unitOf = meta;
      this.#unit = meta?.outputs.map((x) => x.unit).join('|') ?? '';
    }
    return this.#unit;
  }

  /** The loop's output names and latest outputs (tests and `status`). */
  latest(): LoopOutput | null {
    const loop = this.#run.live.loop;
    if (!loop || !this.#out) return null;
    loop.readLatest(this.#out);
    return this.#out;
  }

  tick(): void {
    this.drainCycles();
    const loop = this.#run.live.loop;
    if (loop) {
      loop.readStats(this.#stats);
      const s = this.#stats;
      this.#run.pub.publish('loop', {
        ticks: s.cycles - this.#prevCycles,
        period_ms: s.periodUs / 1000,
        missed: s.overruns,
        lateness_p50_ms: s.latenessP50Us / 1000,
        lateness_p99_ms: s.latenessP99Us / 1000,
        lateness_max_ms: s.latenessMaxUs / 1000,
        compute_p50_ms: s.computeP50Us / 1000,
        compute_p99_ms: s.computeP99Us / 1000,
        compute_max_ms: s.computeMaxUs / 1000,
      });
      this.#prevCycles = s.cycles;
    }
    const c = this.#run.source.clock.status();
    this.#run.pub.publish('clock', {
      source: 'emg',
      state: c.state,
      time_base: this.#emgTimeBase(c.observations),
      offset_ms: c.offsetMs,
      drift_ppm: c.driftPpm,
      residual_ms: c.residualMs,
      points: c.observations,
    });
    const tracker = this.#run.live.tracker;
    tracker?.check();
    const tr = tracker?.report();
    if (tracker && tr) this.#run.pub.publish('clock', { source: tracker.stream, ...tr.clock });
    this.#run.pub.publish('health', {
      state: this.#healthState(),
      uptime_s: (monotonicMs() - this.#run.startedMs) / 1000,
      counters: this.#allCounters(),
      trackers: tracker && tr ? { [tracker.stream]: tr } : {},
    });
  }

  status(): Record<string, unknown> {
    const clock = this.#run.source.clock.status();
    const loop = this.#run.live.loop;
    return {
      runtime: this.#run.config.runtimeId,
      board: this.#run.board.id,
      state: this.#run.live.state,
      safe: loop?.safe ?? true,
      model: this.#run.config.model,
      predictor: loop
        ? { backend: loop.predictor.model?.backend.name ?? null, mode: loop.predictor.model?.path ?? null, outputs: [...loop.outputNames] }
        : null,
      source: this.#run.source.describe(),
      clock: { state: clock.state, offset_ms: clock.offsetMs, drift_ppm: clock.driftPpm, residual_ms: clock.residualMs },
      tracker: this.#trackerStatus(),
      loop: loop
        ? {
            rate_hz: this.#run.config.loop.rateHz,
            cycles: this.#stats.cycles,
            lateness_p99_us: this.#stats.latenessP99Us,
            overruns: this.#stats.overruns,
            actuate_in: loop.actuateIn,
            tid: loop.predictor.priority?.tid ?? null,
            priority: loop.predictor.priority ? { applied: loop.predictor.priority.applied, failed: loop.predictor.priority.failed } : null,
            actuation: loop.actuationCounters(),
          }
        : null,
      telemetry: this.#run.pub.endpoints,
      counters: this.#allCounters(),
    };
  }

  /** The tracker feed for `status`: freshness, transport and clock as in `health`, with its counters. */
  #trackerStatus(): Record<string, unknown> | null {
    const tracker = this.#run.live.tracker;
    return tracker ? { stream: tracker.stream, ...tracker.report(), counters: tracker.counters() } : null;
  }

  /** The Cyton and the ADS1299 stamp nothing: their models run on sample count / rate (docs/timing.md). */
  #emgTimeBase(observations: number): ClockTimeBase {
    if (observations === 0) return 'none';
    return this.#run.source.kind === 'cyton' || this.#run.source.kind === 'ads1299' ? 'synthetic' : 'device';
  }

  #healthState(): string {
    const state = this.#run.live.state;
    if (this.#run.live.loop?.safe) return state === 'running' ? 'safe' : state;
    return state;
  }

  #allCounters(): Record<string, number> {
    const out: Record<string, number> = { ...this.#run.counters.snapshot() };
    for (const [k, v] of Object.entries(this.#run.source.counters())) out[`source.${k}`] = v;
    const tracker = this.#run.live.tracker;
    if (tracker) for (const [k, v] of Object.entries(tracker.counters())) out[`${tracker.stream}.${k}`] = v;
    const loop = this.#run.live.loop;
    if (loop) {
      const s = this.#stats;
      out['loop.cycles'] = s.cycles;
      out['loop.overruns'] = s.overruns;
      out['loop.safety_events'] = s.safetyEvents;
      out['loop.non_finite'] = s.nonFinite;
      out['loop.predictor_errors'] = s.predictorErrors;
      out['loop.stale_inputs'] = s.staleInputs;
      out['loop.dispatch_errors'] = loop.dispatchErrors;
      out['loop.output_ring_overruns'] = loop.outputRingOverruns;
    }
    const control = this.#run.live.control;
    if (control) for (const [k, v] of Object.entries(control.counters.snapshot())) out[`control.${k}`] = v;
    return out;
  }
}
