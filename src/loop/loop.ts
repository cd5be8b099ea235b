import type { Worker } from 'node:worker_threads';
import type { OutputMapEntry } from '../actuate/mapping.js';
import type { ActuatorDef } from '../boards/types.js';
import { ReflexError } from '../core/errors.js';
import { Listeners } from '../core/listeners.js';
import { ACT, type ActuationCounters, MainSafeFrame, readActuationCounters } from '../actuate/fd-bridge.js';
import type { ActuatorSet } from '../actuate/set.js';
import type { Logger } from '../core/log.js';
import { monotonicMs } from '../time/monotonic.js';
import { type LaunchedWorker, launchWorker, type LoopSetup, prepareLoop } from './launch.js';
import { IN, OUT, OUT_META, type PredictorReport } from './messages.js';
import type { SwapRequirements } from './swap-check.js';
import { type SwapCheck, SwapClient } from './swap-client.js';
import type { ControlLoopOptions, LoopOutput } from './options.js';
import type { OutputRing } from './output-ring.js';
import { CTRL, request, SharedFrame } from './shared.js';
import { type LoopStatsSnapshot, StatsReader } from './stats.js';
import type { WriteLog } from './write-log.js';
import { reasonCode, reasonOf, type SafetyEvent } from './watchdog.js';
import { LoopCodes } from './codes.js';

export type { ControlLoopOptions, LoopOutput } from './options.js';

/** A model switch that took effect (ControlLoop.swapModel). */
export interface SwapResult {
  dir: string;
  /** The first cycle run on the new model. */
  cycle: number;
  /** Time the loop worker spent building the predictor in a gap between cycles. */
  buildMs: number;
  /** Time left before the next deadline when it was done: positive, so the swap delayed no cycle. */
  marginMs: number;
  predictor: PredictorReport;
}

export type { SwapCheck } from './swap-client.js';

/**
 * The fixed-period control loop as the runtime sees it: start it, push input windows,
 * read stats and commands, e-stop and release, stop. The loop runs in a worker;
 * everything here is shared memory plus a few messages for rare events.
 */
export class ControlLoop {
  readonly actuatorNames: readonly string[];
  readonly inputSize: number;
  /** The worker's write log, when writeLogSize was given (worker path only). */
  readonly writeLog: WriteLog | null;
  readonly #worker: Worker;
  readonly #ctrl: Int32Array;
  readonly #input: SharedFrame;
  readonly #output: SharedFrame;
  readonly #stats: StatsReader;
  readonly #sink: ActuatorSet | undefined;
  readonly #log: Logger | undefined;
  readonly #listeners = new Listeners<SafetyEvent>();
  readonly #outMeta = new Float64Array(OUT_META);
  readonly #ring: OutputRing;
  /** One ring record, copied before it is taken apart. */
  readonly #record: Float64Array;
  readonly #cmd: Float64Array;
  readonly #safeCmd: Float64Array;
  readonly #act: Int32Array;
  readonly #mode: 'worker' | 'main';
  readonly #safeFrame: MainSafeFrame;
  #workerGone = false;
  #safeAckTimeouts = 0;
  #mainLatch = false;
  #estopSource = '';
  #stopped = false;
  readonly #exited: Promise<void>;
  #tensorsAtStop = Number.NaN;
  #gcsAtStop = Number.NaN;
  #dispatching: Promise<void> = Promise.resolve();
  #dispatchErrors = 0;
  #outputNames: readonly string[];
  #predictor: PredictorReport;
  readonly #actuators: readonly ActuatorDef[];
  readonly #mapping: readonly OutputMapEntry[];
  readonly #swap: SwapClient;
  /** Backends a model switch is verified with: the ones the loop's own model was given. */
  readonly #backends: SwapCheck['backends'];

  private constructor(setup: LoopSetup, launched: LaunchedWorker, opts: ControlLoopOptions) {
    this.writeLog = setup.writeLog;
    this.#worker = launched.worker;
    this.#ctrl = setup.ctrl;
    this.#input = setup.input;
    this.#output = setup.output;
    this.#ring = setup.outputRing;
    this.#record = new Float64Array(setup.outputRing.stride);
    this.#stats = new StatsReader(setup.stats);
    this.#sink = opts.sink;
    this.#log = opts.log;
    this.#outputNames = setup.outputNames;
    this.actuatorNames = opts.actuators.map((a) => a.name);
    this.inputSize = setup.inputSize;
    this.#predictor = launched.report;
    this.#actuators = opts.actuators.map((a) => ({ ...a }));
    this.#mapping = opts.mapping.map((m) => ({ ...m }));
    this.#swap = new SwapClient(setup.swapPort, setup.ctrl);
    this.#backends = opts.predictor.kind === 'model' ? opts.predictor.backends : undefined;
    this.#cmd = new Float64Array(opts.actuators.length);
    this.#safeCmd = Float64Array.from(opts.actuators, (a) => a.safe);
    this.#exited = launched.exited;
    this.#act = setup.act;
    this.#mode = setup.mode;
    this.#safeFrame = new MainSafeFrame(setup.mode === 'worker' ? opts.actuators : [], setup.act);
  }

  static async start(opts: ControlLoopOptions): Promise<ControlLoop> {
    const setup = prepareLoop(opts);
    opts.sink?.safeAll();
    let launched: LaunchedWorker;
    try {
      launched = await launchWorker(setup.init, opts.startTimeoutMs ?? 60000);
    } catch (err) {
      setup.swapPort.close();
      opts.sink?.safeAll();
      throw err;
    }
    const l = new ControlLoop(setup, launched, opts);
    launched.attach({
      event: (e) => l.emit(e),
      failed: (detail) => l.failed(detail),
      exited: (code) => l.workerExited(code),
      stopped: (tensors, gcs) => {
        if (tensors !== undefined) l.#tensorsAtStop = tensors;
        if (gcs !== undefined) l.#gcsAtStop = gcs;
      },
      swap: (m) => l.#swap.reply(m),
    });
    if (setup.mode === 'main') l.#dispatching = l.#dispatchLoop();
    return l;
  }

  /** The model's output names, in the order of LoopOutput.outputs (a model switch may change them). */
  get outputNames(): readonly string[] {
    return this.#outputNames;
  }

  /** What the worker runs: after a model switch, the new model's report. */
  get predictor(): PredictorReport {
    return this.#predictor;
  }

  /**
   * Replace the running model with the one in `dir` without stopping the loop. The directory is
   * loaded, checked (window, outputs, output mapping, and `check`: board channels, the running
   * feature pipeline) and its compiled kernel verified against TensorFlow.js in a short-lived
   * worker, while the old model keeps running; the loop worker then builds the new predictor
   * in a gap between cycles and swaps it in, with the safety state held (a latched e-stop stays
   * latched, an armed loop stays armed). Resolves once the swap took effect; on any failure it
   * rejects with the file and the mismatch named, and nothing changed.
   */
  async swapModel(dir: string, check: SwapCheck = {}): Promise<SwapResult> {
    if (this.#stopped || this.#workerGone) throw new ReflexError(LoopCodes.noLoop, 'the loop is not running; start one to load a model');
    const req: SwapRequirements = {
      inputSize: this.inputSize,
      outputCount: this.#outputNames.length,
      actuators: this.#actuators,
      mapping: this.#mapping,
      ...(check.board && { board: check.board }),
      ...(check.running && { running: check.running }),
    };
    const backends = check.backends ?? this.#backends;
    const done = await this.#swap.swap(dir, req, { ...check, ...(backends && { backends }) });
    const v = done.model;
    this.#outputNames = v.meta.outputs.map((o) => o.name);
    this.#predictor = { ...this.#predictor, kind: 'model', model: v.info, warmUpMs: v.loadMs, ...(done.tensors !== undefined && { tensors: done.tensors }) };
    return { dir: v.dir, cycle: done.cycle, buildMs: done.buildMs, marginMs: done.marginMs, predictor: this.#predictor };
  }

  /**
   * Hand the loop the newest input window: TIME-MAJOR [samples x channels], oldest sample
   * first (`data[t * channels + c]`, as `Aligner.window` fills it and the model takes it),
   * raw units, `inputSize` values. Copied into shared memory with no allocation; the loop
   * picks it up at its next cycle, so `data` may be reused at once. `hostTimeMs`: the
   * window's time on the host clock, echoed back as `LoopOutput.inputHostTimeMs`.
   */
  pushWindow(data: Float32Array, hostTimeMs = Number.NaN): void {
    if (data.length !== this.inputSize) throw new RangeError(`window has ${data.length} values, the loop takes ${this.inputSize}`);
    const f = this.#input;
    f.begin();
    f.f32.set(data);
    f.meta[IN.publishedAtMs] = monotonicMs();
    f.meta[IN.hostTimeMs] = hostTimeMs;
    f.end();
  }

  /** Fill a reused snapshot; false if the worker kept it busy (try again next tick). */
  readStats(into: LoopStatsSnapshot): boolean {
    return this.#stats.read(into);
  }

  readLatest(into: LoopOutput): boolean {
    if (!this.#output.read(this.#outMeta, into.commands, into.outputs)) return false;
    const m = this.#outMeta;
    into.cycle = m[OUT.cycle]!;
    into.timeMs = m[OUT.timeMs]!;
    into.safe = m[OUT.safe] === 1;
    into.reason = m[OUT.reason]! < 0 ? null : (reasonOf(m[OUT.reason]!) ?? null);
    into.inputsSeen = m[OUT.inputsSeen]!;
    into.inputHostTimeMs = m[OUT.inputHostTimeMs]!;
    return true;
  }

  /**
   * The oldest cycle not read yet, from the output ring: every cycle the worker ran, in order,
   * each as it ended (readLatest gives only the newest frame). False when there is none.
   * Allocates nothing; a single reader only (the runtime's reporter). Cycles the worker
   * overwrote before they were read are skipped and counted in `outputRingOverruns`.
   */
  nextCycle(into: LoopOutput): boolean {
    const r = this.#record;
    if (!this.#ring.read(r)) return false;
    into.cycle = r[OUT.cycle]!;
    into.timeMs = r[OUT.timeMs]!;
    into.safe = r[OUT.safe] === 1;
    into.reason = r[OUT.reason]! < 0 ? null : (reasonOf(r[OUT.reason]!) ?? null);
    into.inputsSeen = r[OUT.inputsSeen]!;
    into.inputHostTimeMs = r[OUT.inputHostTimeMs]!;
    const c = into.commands;
    const A = this.actuatorNames.length;
    for (let i = 0; i < A && i < c.length; i++) c[i] = r[OUT_META + i]!;
    const o = into.outputs;
    const O = r.length - OUT_META - A;
    for (let i = 0; i < O && i < o.length; i++) o[i] = r[OUT_META + A + i]!;
    return true;
  }

  /** Cycles lost from the output ring because nextCycle() was not called in time (0 in a healthy run). */
  get outputRingOverruns(): number {
    return this.#ring.lost;
  }

  /** Cycles in the output ring not read by nextCycle() yet. */
  get outputRingPending(): number {
    return this.#ring.pending;
  }

  /** Cycles the output ring can hold between two reads (its capacity less the writer's slot). */
  get outputRingCycles(): number {
    return this.#ring.capacity - 1;
  }

  createOutput(): LoopOutput {
    return {
      cycle: -1,
      timeMs: Number.NaN,
      safe: true,
      reason: null,
      inputsSeen: 0,
      inputHostTimeMs: Number.NaN,
      outputs: new Float32Array(this.outputNames.length),
      commands: new Float64Array(this.actuatorNames.length),
    };
  }

  /** Safety events (enter safe state, release) in order, as they reach this thread. */
  onSafetyEvent(listener: (e: SafetyEvent) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** True while the loop (or this thread's latch) holds the actuators safe. */
  get safe(): boolean {
    return this.#mainLatch || Atomics.load(this.#ctrl, CTRL.safe) === 1;
  }

  /** E-stop from a GPIO edge or a remote command. Safe now on this thread, and in the worker at once. */
  estop(source: string): void {
    this.#estopSource = source;
    this.enterSafe('estop', source);
  }

  /**
   * Safe state from this thread (e-stop, signal, uncaught error): latch so no command
   * from the worker can move anything until release(), put the actuators safe
   * synchronously, and tell the worker.
   */
  enterSafe(reason: 'estop' | 'signal' | 'uncaught' | 'stopped', detail = ''): void {
    this.#mainLatch = true;
    if (reason !== 'estop') this.#estopSource = detail;
    Atomics.store(this.#ctrl, CTRL.estopReason, reasonCode(reason));
    const acked = Atomics.load(this.#act, ACT.safeAck);
    request(this.#ctrl, CTRL.estop);
    this.#applySafe();
    // The worker holds the GPIO/PWM outputs: on a signal the process may die right after
    // this returns, so wait (bounded) until the worker says the safe values are out.
    if (this.#mode === 'worker' && !this.#workerGone && !this.#stopped) {
      this.#awaitSafeAck(acked);
      // A cycle already under way when the request came may have written one last command
      // after the safe frame above; the worker is latched now, so this one is the last word.
      if (this.#safeFrame.needed) this.#safeFrame.write();
    }
  }

  /** Where commands are applied (see ControlLoopOptions.actuateIn). */
  get actuateIn(): 'worker' | 'main' {
    return this.#mode;
  }

  /**
   * The serial port fd bridge actuators are written to (worker path), or -1 while the link
   * is not streaming. Call with -1 BEFORE the port's fd is closed: this returns only once
   * the worker is not inside a write with the old fd, so a reused fd number never gets
   * ACTUATE bytes. BridgeLink.onActuatorFd gives exactly these calls.
   */
  setBridgeFd(fd: number): void {
    if (!Number.isInteger(fd) || fd < -1) throw new RangeError(`bridge fd must be an integer >= -1, got ${fd}`);
    const was = Atomics.exchange(this.#act, ACT.fd, fd);
    if (was < 0 || was === fd) return;
    // A non-blocking write takes microseconds; the bound only guards a wedged worker.
    const until = monotonicMs() + 20;
    while (Atomics.load(this.#act, ACT.busy) === 1 && monotonicMs() < until);
  }

  /** Frames and failures of the worker's own actuation (all zero on the 'main' path). */
  actuationCounters(): ActuationCounters & { safeAckTimeouts: number } {
    return { ...readActuationCounters(this.#act), safeAckTimeouts: this.#safeAckTimeouts };
  }

  #awaitSafeAck(before: number): void {
    const until = monotonicMs() + SAFE_ACK_WAIT_MS;
    for (;;) {
      if (Atomics.load(this.#act, ACT.safeAck) !== before) return;
      const left = until - monotonicMs();
      if (left <= 0) {
        this.#safeAckTimeouts++;
        this.#log?.limited('error', 'loop-safe-ack', `the loop worker did not confirm the safe state within ${SAFE_ACK_WAIT_MS} ms`);
        return;
      }
      Atomics.wait(this.#act, ACT.safeAck, before, left);
    }
  }

  /** Explicit recovery from the safe state. Motion resumes slew-limited from the safe values. */
  release(): void {
    this.#mainLatch = false;
    request(this.#ctrl, CTRL.release);
  }

  /** Stop the loop: actuators end safe, the worker exits. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#exited;
    this.#stopped = true;
    this.#mainLatch = true;
    request(this.#ctrl, CTRL.stop);
    Atomics.notify(this.#output.seqView, SharedFrame.SEQ_INDEX);
    this.#applySafe();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([this.#exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 5000)))]);
    clearTimeout(timer);
    if (gaveUp) await this.#worker.terminate();
    this.#swap.close('the loop stopped');
    await this.#dispatching;
    this.#applySafe();
  }

  /**
   * TensorFlow.js tensors alive in the worker when it stopped, minus those after warm-up
   * (`predictor.tensors`): 0 when the predictor leaks nothing. NaN before stop() or without a model.
   */
  /**
   * Garbage collections of the loop worker's heap between its first cycle and stop; NaN before
   * stop() or in main-thread mode. A cycle allocates nothing, so this stays 0 in a healthy run.
   */
  get workerGcs(): number {
    return this.#gcsAtStop;
  }

  get tensorsGrowth(): number {
    return this.#tensorsAtStop - (this.predictor.tensors ?? Number.NaN);
  }

  /** Errors the command dispatcher hit writing to actuators (each also put them safe). */
  get dispatchErrors(): number {
    return this.#dispatchErrors;
  }

  private emit(e: SafetyEvent): void {
    if (e.reason === 'estop' && this.#estopSource) e.detail = this.#estopSource;
    this.#listeners.emit(e);
  }

  /** The worker failed after start: safe here, and say so (the worker cannot any more). */
  private failed(detail: string): void {
    this.#workerGone = true;
    this.#swap.close('the loop worker failed');
    const was = this.safe;
    this.enterSafe('uncaught', detail);
    this.emit({ reason: 'uncaught', timeMs: monotonicMs(), cycle: -1, cyclesRun: -1, detail, entered: !was });
  }

  private workerExited(code: number): void {
    this.#workerGone = true;
    this.#swap.close(`the loop worker exited (code ${code})`);
    if (this.#stopped) return;
    this.#mainLatch = true;
    this.#applySafe();
    this.emit({ reason: 'worker_exit', timeMs: monotonicMs(), cycle: -1, cyclesRun: -1, detail: `loop worker exited with code ${code}`, entered: true });
  }

  #applySafe(): void {
    // Worker path: bridge actuators' safe frame straight onto the shared fd, from here,
    // without the event loop or the worker (which may be the thing that failed).
    if (this.#safeFrame.needed) this.#safeFrame.write();
    if (!this.#sink) return;
    try {
      this.#sink.safeAll();
    } catch (err) {
      this.#dispatchErrors++;
      this.#log?.limited('error', 'loop-safe', `actuators: ${(err as Error).message}`);
    }
  }

  /** Apply each newly published command set to the sink (latest wins: no queue can build up). */
  async #dispatchLoop(): Promise<void> {
    const seqView = this.#output.seqView;
    let last = -1;
    while (!this.#stopped) {
      const seq = Atomics.load(seqView, SharedFrame.SEQ_INDEX);
      if (seq !== last && (seq & 1) === 0) {
        last = seq;
        this.#dispatchOnce();
      }
      const w = waitAsync(seqView, SharedFrame.SEQ_INDEX, seq, 250);
      if (w.async) await w.value;
    }
  }

  #dispatchOnce(): void {
    if (!this.#sink) return;
    if (!this.#output.read(this.#outMeta, this.#cmd, null)) return;
    if (this.#mainLatch || this.#outMeta[OUT.safe] === 1) {
      if (!this.#sink.inSafeState) this.#applySafe();
      return;
    }
    try {
      this.#sink.apply(this.#cmd);
    } catch (err) {
      this.#dispatchErrors++;
      this.#log?.limited('error', 'loop-apply', `actuators: ${(err as Error).message}; going safe`);
      this.enterSafe('uncaught', `actuator write failed: ${(err as Error).message}`);
    }
  }

  /** The safe command values, board order (for telemetry and tests). */
  get safeCommands(): Float64Array {
    return this.#safeCmd;
  }
}

/** How long enterSafe waits for the worker to confirm its outputs are safe. */
const SAFE_ACK_WAIT_MS = 50;

// Node 20 has Atomics.waitAsync; TypeScript's ES2022 lib does not declare it.
const waitAsync = (view: Int32Array, index: number, value: number, timeoutMs: number) =>
  (
    Atomics as unknown as {
      waitAsync(view: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
    }
  ).waitAsync(view, index, value, timeoutMs);

export { workerUrl } from './spawn.js';
