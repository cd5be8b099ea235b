import type { OutputMap } from '../actuate/mapping.js';
import type { SafetyLimiter } from '../actuate/safety.js';
import type { SafetyCounts } from './stats.js';
import { type SafetyEvent, Watchdog, type WatchdogOptions } from './watchdog.js';

/**
 * What the loop needs from a predictor: fixed sizes, a synchronous call into preallocated
 * output. `input` is the window exactly as pushed: TIME-MAJOR [samples x channels], oldest
 * sample first (`input[t * channels + c]`), the layout Predictor and Aligner.window use.
 */
export interface CorePredictor {
  readonly inputSize: number;
  readonly outputSize: number;
  predict(input: Float32Array, out: Float32Array): void;
}

export interface ControlCoreOptions {
  predictor: CorePredictor;
  map: OutputMap;
  limiter: SafetyLimiter;
  watchdog: WatchdogOptions;
  /** Start driving actuators without a release() first (default false: start in the safe state). */
  startArmed?: boolean;
  /** Run the predictor every cycle even when no new window arrived (default false: only on a new window). */
  predictEveryCycle?: boolean;
  onEvent: (e: SafetyEvent) => void;
}

/**
 * One control cycle, with no clock and no threads: the worker (or a test, or a replay)
 * copies the latest window into `input`, says how fresh it is, and gets `commands`
 * back, already limited. Everything is preallocated; a cycle allocates nothing unless
 * it reports a safety event.
 */
export class ControlCore {
  /** The window the next prediction uses: time-major, `predictor.inputSize` values (see CorePredictor). */
  readonly input: Float32Array;
  readonly outputs: Float32Array;
  readonly targets: Float64Array;
  readonly commands: Float64Array;
  readonly watchdog: Watchdog;
  readonly counts: SafetyCounts = { safetyEvents: 0, nonFinite: 0, predictorErrors: 0, staleInputs: 0, inputsSeen: 0, safe: true };
  #p: CorePredictor;
  #map: OutputMap;
  readonly #lim: SafetyLimiter;
  readonly #every: boolean;
  #wasStale = false;
  #havePrediction = false;

  constructor(o: ControlCoreOptions) {
    this.#p = o.predictor;
    this.#map = o.map;
    this.#lim = o.limiter;
    this.#every = o.predictEveryCycle ?? false;
    if (o.map.outputIndex.length !== o.limiter.size) {
      throw new RangeError(`output map covers ${o.map.outputIndex.length} actuators, limiter ${o.limiter.size}`);
    }
    this.input = new Float32Array(o.predictor.inputSize);
    this.outputs = new Float32Array(o.predictor.outputSize).fill(Number.NaN);
    this.targets = new Float64Array(o.limiter.size);
    this.commands = Float64Array.from(o.limiter.safeValues);
    this.watchdog = new Watchdog(
      o.watchdog,
      (e) => {
        this.counts.safetyEvents++;
        o.onEvent(e);
      },
      !(o.startArmed ?? false),
    );
    this.counts.safe = this.watchdog.safe;
  }

  get safe(): boolean {
    return this.watchdog.safe;
  }

  /**
   * Run one cycle. `fresh`: `input` holds a window not seen before; `inputAtMs`: when
   * the newest window was published (NaN if never); `dtS`: time since the previous
   * command, for the slew limit.
   */
  cycle(cycle: number, nowMs: number, dtS: number, fresh: boolean, inputAtMs: number): void {
    const wd = this.watchdog;
    wd.cyclesRun++;
    const stale = wd.isStale(nowMs, inputAtMs);
    if (stale) {
      if (!this.#wasStale) this.counts.staleInputs++;
      this.#wasStale = true;
      wd.trip('stale_input', nowMs, cycle, `no fresh input window for more than ${wd.opts.staleMs} ms`);
    } else {
      this.#wasStale = false;
    }
    if (fresh) this.counts.inputsSeen++;
    if (!stale && (fresh || this.#every || !this.#havePrediction)) this.#predict(cycle, nowMs);
    if (!wd.safe) {
      this.#map.map(this.outputs, this.targets);
      if (!this.#lim.limit(this.targets, dtS, this.commands)) {
        this.counts.nonFinite++;
        wd.trip('non_finite', nowMs, cycle, 'a mapped actuator target was NaN or infinite');
      }
    }
    if (wd.safe) this.#lim.toSafe(this.commands);
    this.counts.safe = wd.safe;
  }

  #predict(cycle: number, nowMs: number): void {
    try {
      this.#p.predict(this.input, this.outputs);
    } catch (err) {
      this.counts.predictorErrors++;
      this.outputs.fill(Number.NaN);
      this.#havePrediction = false;
      this.watchdog.trip('predictor_error', nowMs, cycle, err instanceof Error ? err.message : String(err));
      return;
    }
    this.#havePrediction = true;
    const o = this.outputs;
    for (let i = 0; i < o.length; i++) {
      if (!Number.isFinite(o[i]!)) {
        this.counts.nonFinite++;
        this.watchdog.trip('non_finite', nowMs, cycle, `predictor output ${i} is ${o[i]}`);
        return;
      }
    }
  }

  /**
   * Put another predictor and output map in place between two cycles. The watchdog, the
   * limiter (its slew state included) and the safe/armed state are untouched: a latched loop
   * stays latched, an armed one goes on driving, now from the new model, slew-limited from the
   * last command. The next cycle predicts from the current window even if no new one came.
   * Returns the predictor it replaced.
   */
  swapPredictor(p: CorePredictor, map: OutputMap): CorePredictor {
    if (p.inputSize !== this.input.length || p.outputSize !== this.outputs.length) {
      throw new RangeError(
        `the new predictor takes ${p.inputSize} inputs and gives ${p.outputSize} outputs; the loop runs ${this.input.length} and ${this.outputs.length}`,
      );
    }
    if (map.outputIndex.length !== this.#lim.size) throw new RangeError(`output map covers ${map.outputIndex.length} actuators, limiter ${this.#lim.size}`);
    const old = this.#p;
    this.#p = p;
    this.#map = map;
    this.#havePrediction = false;
    return old;
  }

  /** Overrun streak reached the limit (the driver checks after each cycle). */
  overrunTrip(cycle: number, nowMs: number, streak: number): void {
    this.watchdog.trip('overrun_streak', nowMs, cycle, `${streak} consecutive cycles overran their period`);
    this.#lim.toSafe(this.commands);
    this.counts.safe = true;
  }

  /** E-stop (GPIO edge, remote command, signal): safe now, commands hold safe values. */
  estop(reason: 'estop' | 'signal' | 'uncaught' | 'stopped', cycle: number, nowMs: number, detail = ''): void {
    this.watchdog.trip(reason, nowMs, cycle, detail);
    this.#lim.toSafe(this.commands);
    this.counts.safe = true;
  }

  /** Explicit recovery. Slew starts from the safe values, so motion resumes gradually. */
  release(cycle: number, nowMs: number, detail = ''): boolean {
    const ok = this.watchdog.release(nowMs, cycle, detail);
    this.counts.safe = this.watchdog.safe;
    return ok;
  }
}
