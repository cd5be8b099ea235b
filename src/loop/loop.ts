import type { Worker } from 'node:worker_threads';
import type { OutputMapEntry } from '../actuate/mapping.js';
import { OutputMap } from '../actuate/mapping.js';
import { validateActuatorDef } from '../actuate/safety.js';
import { ACT, type ActuationCounters, createActuationBlock, MainSafeFrame, readActuationCounters } from '../actuate/fd-bridge.js';
import type { ActuatorSet } from '../actuate/set.js';
import { validateWorkerBackends, type WorkerActuatorBackends } from '../actuate/worker-backends.js';
import type { ActuatorDef } from '../boards/types.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { monotonicMs } from '../time/monotonic.js';
import { IN, IN_META, OUT, OUT_META, type PredictorReport, type PredictorSpec, type WorkerInit, type WorkerMessage } from './messages.js';
import type { ThreadPriority } from './priority.js';
import { type ScheduleOptions, validateScheduleOptions } from './schedule.js';
import { sizesOf, spawnWorker } from './spawn.js';
import { CTRL, createControl, request, SharedFrame } from './shared.js';
import { createStatsFrame, type LoopStatsSnapshot, StatsReader } from './stats.js';
import { WriteLog } from './write-log.js';
import { reasonCode, reasonOf, type SafetyEvent, type SafetyReason, type WatchdogOptions, validateWatchdogOptions } from './watchdog.js';

export interface ControlLoopOptions {
  schedule: ScheduleOptions;
  /** Spin (instead of sleeping) for this long before each deadline, µs. Default 150. */
  spinUs?: number;
  watchdog: WatchdogOptions;
  predictor: PredictorSpec;
  actuators: readonly ActuatorDef[];
  mapping: readonly OutputMapEntry[];
  /**
   * Where commands are applied. 'worker' (the default when `actuation` is given): the loop
   * worker opens the board's actuators from `actuation` and drives them in the cycle that
   * computed the command. 'main': a dispatcher on this thread applies each published
   * command set to `sink` when the event loop gets to it (the fallback).
   */
  actuateIn?: 'worker' | 'main';
  /** Backends the worker opens the actuators with, described as data (see worker-backends.ts). */
  actuation?: WorkerActuatorBackends;
  /** Worker path: keep a ring of this many (input host time, write time) pairs (writeLog). Default off. */
  writeLogSize?: number;
  /**
   * actuateIn 'main': where commands go on this thread; omit to only read them (readLatest).
   * actuateIn 'worker': an optional second, main-thread path used only to put actuators
   * safe (e-stop, guard, stop), e.g. bridge actuators through BridgeLink; it must not hold
   * GPIO or PWM outputs, which the worker owns.
   */
  sink?: ActuatorSet;
  /** Drive actuators from the first cycle (default false: start safe, wait for release()). */
  startArmed?: boolean;
  /** Predict every cycle, not only when a new window arrived (default false). */
  predictEveryCycle?: boolean;
  /** Cycles the lateness/compute percentiles cover. Default 2048. */
  statsWindow?: number;
  log?: Logger;
  /** Scheduling priority of the loop thread (SCHED_FIFO via chrt, or nice); needs root or CAP_SYS_NICE. */
  priority?: ThreadPriority;
  /** Give up waiting for the worker to load its predictor after this long. Default 60 s. */
  startTimeoutMs?: number;
}

/** The latest cycle's outputs and commands, copied into caller-owned arrays. */
export interface LoopOutput {
  cycle: number;
  timeMs: number;
  safe: boolean;
  reason: SafetyReason | null;
  inputsSeen: number;
  /** hostTimeMs given with the newest window the loop has taken (NaN if none). */
  inputHostTimeMs: number;
  outputs: Float32Array;
  commands: Float64Array;
}

/**
 * The fixed-period control loop as the runtime sees it: start it, push input windows,
 * read stats and commands, e-stop and release, stop. The loop runs in a worker;
 * everything here is shared memory plus a few messages for rare events.
 */
export class ControlLoop {
  readonly outputNames: readonly string[];
  readonly actuatorNames: readonly string[];
  readonly inputSize: number;
  readonly predictor: PredictorReport;
  /** The worker's write log, when writeLogSize was given (worker path only). */
  readonly writeLog: WriteLog | null;
  readonly #worker: Worker;
  readonly #ctrl: Int32Array;
  readonly #input: SharedFrame;
  readonly #output: SharedFrame;
  readonly #stats: StatsReader;
  readonly #sink: ActuatorSet | undefined;
  readonly #log: Logger | undefined;
  readonly #listeners = new Set<(e: SafetyEvent) => void>();
  readonly #outMeta = new Float64Array(OUT_META);
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
  #exited: Promise<void>;
  #tensorsAtStop = Number.NaN;
  #dispatching: Promise<void> = Promise.resolve();
  #dispatchErrors = 0;

  private constructor(
    worker: Worker, ctrl: Int32Array, input: SharedFrame, output: SharedFrame, stats: StatsReader,
    opts: ControlLoopOptions, outputNames: string[], inputSize: number, report: PredictorReport, exited: Promise<void>,
    act: Int32Array, mode: 'worker' | 'main', writeLog: WriteLog | null,
  ) {
    this.writeLog = writeLog;
    this.#worker = worker;
    this.#ctrl = ctrl;
    this.#input = input;
    this.#output = output;
    this.#stats = stats;
    this.#sink = opts.sink;
    this.#log = opts.log;
    this.outputNames = outputNames;
    this.actuatorNames = opts.actuators.map((a) => a.name);
    this.inputSize = inputSize;
    this.predictor = report;
    this.#cmd = new Float64Array(opts.actuators.length);
    this.#safeCmd = Float64Array.from(opts.actuators, (a) => a.safe);
    this.#exited = exited;
    this.#act = act;
    this.#mode = mode;
    this.#safeFrame = new MainSafeFrame(mode === 'worker' ? opts.actuators : [], act);
  }

  static async start(opts: ControlLoopOptions): Promise<ControlLoop> {
    const schedule = validateScheduleOptions(opts.schedule);
    validateWatchdogOptions(opts.watchdog);
    for (const a of opts.actuators) validateActuatorDef(a);
    if (opts.sink && opts.sink.defs.length !== opts.actuators.length) {
      throw new ConfigError('E_LOOP_SINK', `the actuator sink drives ${opts.sink.defs.length} actuators, the loop ${opts.actuators.length}; build both from the same board`);
    }
    const mode = opts.actuateIn ?? (opts.actuation ? 'worker' : 'main');
    if (mode !== 'worker' && mode !== 'main') throw new ConfigError('E_LOOP_ACTUATE_IN', `actuateIn must be "worker" or "main", got "${String(mode)}"`);
    if (mode === 'worker') {
      if (!opts.actuation) throw new ConfigError('E_LOOP_ACTUATE_IN', 'actuateIn "worker" needs `actuation` (the backends the worker opens the actuators with); or use actuateIn "main" with a sink');
      validateWorkerBackends(opts.actuators, opts.actuation);
      const owned = opts.sink?.defs.find((d) => d.via === 'gpio' || d.via === 'sysfs-pwm');
      if (owned) throw new ConfigError('E_LOOP_SINK', `actuator "${owned.name}" (via ${owned.via}) is opened by the loop worker; the main-thread sink must not open it too (drop it from the sink, or use actuateIn "main")`);
    }
    const spinUs = opts.spinUs ?? 150;
    if (!(spinUs >= 0 && spinUs <= 5000)) throw new ConfigError('E_LOOP_SPIN', `spinUs must be 0..5000, got ${spinUs}`);
    const { inputSize, outputNames } = sizesOf(opts.predictor);
    // Mapping errors surface here, on the caller's thread, with the key named.
    new OutputMap(opts.mapping, opts.actuators, outputNames);
    const statsWindow = opts.statsWindow ?? 2048;
    const ctrl = createControl();
    const input = new SharedFrame({ meta: IN_META, f64: 0, f32: inputSize });
    const output = new SharedFrame({ meta: OUT_META, f64: opts.actuators.length, f32: outputNames.length });
    const statsFrame = createStatsFrame(statsWindow);
    const act = createActuationBlock();
    const writeLog = mode === 'worker' && opts.writeLogSize ? new WriteLog(opts.writeLogSize) : null;
    input.meta[IN.publishedAtMs] = Number.NaN;
    const init: WorkerInit = {
      schedule, spinMs: spinUs / 1000, watchdog: opts.watchdog,
      startArmed: opts.startArmed ?? false, predictEveryCycle: opts.predictEveryCycle ?? false,
      actuators: opts.actuators.map((a) => ({ ...a })), mapping: opts.mapping.map((m) => ({ ...m })),
      predictor: opts.predictor, inputSize, outputSize: outputNames.length, statsWindow,
      ...(opts.priority ? { priority: { ...opts.priority } } : {}),
      ...(mode === 'worker' && { actuation: { ...opts.actuation! } }),
      buffers: { control: ctrl.buffer as SharedArrayBuffer, input: input.buffer, output: output.buffer, stats: statsFrame.buffer, actuation: act.buffer as SharedArrayBuffer, ...(writeLog && { writeLog: writeLog.buffer }) },
      ...(writeLog && { writeLogSize: writeLog.size }),
    };
    opts.sink?.safeAll();
    const worker = spawnWorker(init);
    let onEvent: (e: SafetyEvent) => void = () => {};
    let loop: ControlLoop | undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const ready = new Promise<PredictorReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ReflexError('E_LOOP_START', `the loop worker did not become ready within ${opts.startTimeoutMs ?? 60000} ms (predictor load + warm-up)`)), opts.startTimeoutMs ?? 60000);
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'ready':
            clearTimeout(timer);
            resolve(m.predictor);
            return;
          case 'event':
            onEvent(m.event);
            return;
          case 'fatal':
            clearTimeout(timer);
            reject(new ReflexError(m.code, m.message));
            loop?.failed(`loop worker failed (${m.code}): ${m.message}`);
            return;
          case 'stopped':
            // The exit event follows; stop() waits for that.
            if (loop && m.tensors !== undefined) loop.#tensorsAtStop = m.tensors;
            return;
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
        loop?.failed(`loop worker crashed: ${err.message}`);
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new ReflexError('E_LOOP_START', `the loop worker exited (code ${code}) before it was ready`));
        loop?.workerExited(code);
      });
    });
    let report: PredictorReport;
    try {
      report = await ready;
    } catch (err) {
      await worker.terminate();
      opts.sink?.safeAll();
      throw err;
    }
    loop = new ControlLoop(worker, ctrl, input, output, new StatsReader(statsFrame), opts, outputNames, inputSize, report, exited, act, mode, writeLog);
    const l = loop;
    onEvent = (e) => l.emit(e);
    if (mode === 'main') l.#dispatching = l.#dispatchLoop();
    return l;
  }

  /**
   * Hand the loop the newest input window (channel-major, raw units, `inputSize` values).
   * No allocation; the loop picks it up at its next cycle.
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
    into.reason = m[OUT.reason]! < 0 ? null : reasonOf(m[OUT.reason]!) ?? null;
    into.inputsSeen = m[OUT.inputsSeen]!;
    into.inputHostTimeMs = m[OUT.inputHostTimeMs]!;
    return true;
  }

  createOutput(): LoopOutput {
    return { cycle: -1, timeMs: Number.NaN, safe: true, reason: null, inputsSeen: 0, inputHostTimeMs: Number.NaN, outputs: new Float32Array(this.outputNames.length), commands: new Float64Array(this.actuatorNames.length) };
  }

  /** Safety events (enter safe state, release) in order, as they reach this thread. */
  onSafetyEvent(listener: (e: SafetyEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
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
    const gaveUp = await Promise.race([
      this.#exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 5000))),
    ]);
    clearTimeout(timer);
    if (gaveUp) await this.#worker.terminate();
    await this.#dispatching;
    this.#applySafe();
  }

  /**
   * TensorFlow.js tensors alive in the worker when it stopped, minus those after warm-up
   * (`predictor.tensors`): 0 when the predictor leaks nothing. NaN before stop() or without a model.
   */
  get tensorsGrowth(): number {
    return this.#tensorsAtStop - (this.predictor.tensors ?? Number.NaN);
  }

  /** Errors the command dispatcher hit writing to actuators (each also put them safe). */
  get dispatchErrors(): number {
    return this.#dispatchErrors;
  }

  private emit(e: SafetyEvent): void {
    if (e.reason === 'estop' && this.#estopSource) e.detail = this.#estopSource;
    for (const l of this.#listeners) l(e);
  }

  /** The worker failed after start: safe here, and say so (the worker cannot any more). */
  private failed(detail: string): void {
    this.#workerGone = true;
    const was = this.safe;
    this.enterSafe('uncaught', detail);
    this.emit({ reason: 'uncaught', timeMs: monotonicMs(), cycle: -1, cyclesRun: -1, detail, entered: !was });
  }

  private workerExited(code: number): void {
    this.#workerGone = true;
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
const waitAsync = (Atomics as unknown as {
  waitAsync(view: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

export { workerUrl } from './spawn.js';
