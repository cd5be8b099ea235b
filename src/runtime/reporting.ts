/**
 * What a run says about itself: the periodic telemetry (prediction, actuators requested and
 * applied, loop timing, clock, health) and the control `status` answer. Its buffers are made
 * once per loop and reused on every tick.
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
import type { ClockTimeBase } from '../telemetry/topics.js';
import { monotonicMs } from '../time/monotonic.js';
import type { RunConfig } from './config.js';
import type { Source } from './source.js';
import type { RuntimeState } from './types.js';

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
}

export class RunReporter {
  readonly #run: RunReporterOptions;
  // Preallocated buffers; re-made only when a loop starts (its outputs may differ).
  #out: LoopOutput | null = null;
  #lastPublishedCycle = -1;
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
    this.#out = loop.createOutput();
    this.#lastPublishedCycle = -1;
    const k = this.#run.board.actuators.length;
    this.#requested = new Float32Array(k);
    this.#applied = new Float32Array(k);
    this.#limited = new Uint8Array(k);
    this.#target = new Float64Array(k);
    this.#map = new OutputMap(mapping, this.#run.board.actuators, loop.outputNames);
  }

  /** The loop's output names and latest outputs (tests and `status`). */
  latest(): LoopOutput | null {
    const loop = this.#run.live.loop;
    if (!loop || !this.#out) return null;
    loop.readLatest(this.#out);
    return this.#out;
  }

  tick(): void {
    const loop = this.#run.live.loop;
    if (loop && this.#out && loop.readLatest(this.#out) && this.#out.cycle !== this.#lastPublishedCycle) {
      const o = this.#out;
      this.#lastPublishedCycle = o.cycle;
      this.#run.pub.publish('prediction', {
        tick: o.cycle,
        model: basename(this.#run.config.model ?? ''),
        names: loop.outputNames,
        unit: this.#run.live.meta?.outputs.map((x) => x.unit).join('|') ?? '',
        values: o.outputs,
        window_end_ms: o.timeMs,
        latency_ms: this.#stats.computeP50Us / 1000,
      });
      // What the model asked for (before limits), beside what the loop drove: the difference is the safety layer at work.
      this.#map!.map(o.outputs, this.#target);
      for (let i = 0; i < this.#applied.length; i++) {
        this.#applied[i] = o.commands[i]!;
        this.#requested[i] = o.safe ? this.#applied[i]! : this.#target[i]!;
        this.#limited[i] = this.#requested[i] === this.#applied[i] ? 0 : 1;
      }
      this.#run.pub.publish('actuators', {
        tick: o.cycle,
        names: loop.actuatorNames,
        units: this.#run.board.actuators.map((a) => a.unit),
        requested: this.#requested,
        applied: this.#applied,
        limited: this.#limited,
        safe_state: o.safe,
      });
    }
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
    }
    const control = this.#run.live.control;
    if (control) for (const [k, v] of Object.entries(control.counters.snapshot())) out[`control.${k}`] = v;
    return out;
  }
}
