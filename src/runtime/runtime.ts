/**
 * One run of Reflex: source -> clock map -> units -> aligner -> loop worker -> actuators,
 * with everything published on telemetry and steerable through the control socket.
 *
 * The main thread does I/O, decoding, units and alignment; the loop worker runs the
 * predictor and safety on its own deadlines and never waits for this thread.
 *
 * This file owns the run's parts and the order they start and stop in; the per-sample path
 * is chain.ts, the loop's start loop-setup.ts, reports reporting.ts, commands control-commands.ts.
 */
import { basename } from 'node:path';
import { allocatorSetting } from '../core/allocator.js';
import { createActuators, type ActuatorSet } from '../actuate/set.js';
import { loadBoard } from '../boards/load.js';
import type { BoardDef } from '../boards/types.js';
import { Counters } from '../core/counters.js';
import { ReflexError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { FakeGpio } from '../hal/gpio-fake.js';
import { selectGpio, SIM_CHIP } from '../hal/gpio-select.js';
import type { GpioInputLine } from '../hal/gpio.js';
import { watchEstopInput } from '../actuate/estop.js';
import { installSafetyHandlers } from '../loop/guard.js';
import type { ControlLoop, LoopOutput } from '../loop/loop.js';
import type { SafetyEvent } from '../loop/watchdog.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import { ControlServer } from '../telemetry/control-server.js';
import { TelemetryPublisher } from '../telemetry/publisher.js';
import type { Topic } from '../telemetry/topics.js';
import { monotonicMs } from '../time/monotonic.js';
import { SampleChain } from './chain.js';
import type { RunConfig } from './config.js';
import { registerControl, type ControlTarget } from './control-commands.js';
import { describeLoop, followActuatorFd, hasLineActuators, launchLoop, outputMapping, readFittingModel } from './loop-setup.js';
import { RunReporter } from './reporting.js';
import { serverSecurity } from './security.js';
import { openSource, type Source } from './source.js';
import { wireSourceEvents } from './source-events.js';
import type { RunEvent, RuntimeState } from './types.js';
import { SerialTracker } from '../devices/tracker-serial.js';
import { ZmqTracker } from '../devices/tracker-zmq.js';
import type { TrackerFeed } from '../devices/tracker-types.js';
import { openNodeSerial } from '../hal/serial-node.js';

export type { RuntimeState } from './types.js';

export interface RuntimeOptions {
  log: Logger;
  /** Install SIGINT/SIGTERM/uncaught handlers that put actuators safe (default true; tests turn it off). */
  guardProcess?: boolean;
  /** Start with actuators driven (default: only on the simulated board, where nothing physical moves). */
  arm?: boolean;
}

const TELEMETRY_HZ = 10;

export class Runtime {
  readonly config: RunConfig;
  readonly board: BoardDef;
  readonly counters = new Counters();
  #log: Logger;
  #state: RuntimeState = 'starting';
  #source!: Source;
  #pub!: TelemetryPublisher;
  #control: ControlServer | null = null;
  #chain!: SampleChain;
  #reporter!: RunReporter;
  #loop: ControlLoop | null = null;
  #actuators: ActuatorSet | null = null;
  #offActuatorFd: (() => void) | null = null;
  #estopLine: GpioInputLine | null = null;
  #tracker: TrackerFeed | null = null;
  #simGpio: FakeGpio | null = null;
  #uninstallGuard: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #startedMs = monotonicMs();
  #arm: boolean;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  private constructor(config: RunConfig, board: BoardDef, opts: RuntimeOptions) {
    this.config = config;
    this.board = board;
    this.#log = opts.log;
    this.#arm = opts.arm ?? (board.source.kind === 'bridge' && board.source.transport === 'sim');
    this.#stopped = new Promise((r) => (this.#resolveStopped = r));
  }

  static async start(config: RunConfig, opts: RuntimeOptions): Promise<Runtime> {
    const board = loadBoard(config.board);
    const rt = new Runtime(config, board, opts);
    try {
      await rt.#start(opts);
    } catch (err) {
      await rt.stop().catch((e: Error) => opts.log.error(`cleanup after failed start: ${e.message}`));
      throw err;
    }
    return rt;
  }

  get state(): RuntimeState {
    return this.#state;
  }

  /** Resolves when the runtime has stopped (by stop(), a control request, or a fatal error). */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  get telemetryEndpoints(): readonly string[] {
    return this.#pub.endpoints;
  }

  get controlEndpoints(): readonly string[] {
    return this.#control?.endpoints ?? [];
  }

  async #start(opts: RuntimeOptions): Promise<void> {
    const cfg = this.config;
    const security = serverSecurity(cfg);
    this.#pub = new TelemetryPublisher({
      endpoints: cfg.telemetry.endpoints,
      runtimeId: cfg.runtimeId,
      boardId: this.board.id,
      ...(security && { curve: security }),
      insecure: cfg.telemetry.insecure,
      decimate: cfg.telemetry.decimate as Partial<Record<Topic, number>>,
      logger: this.#log,
    });
    await this.#pub.start();
    this.#log.info(`telemetry on ${this.#pub.endpoints.join(', ')}`);
    const alloc = allocatorSetting();
    // Matters for large telemetry messages only; say how to get the setting Reflex is measured with.
    this.#log.info(alloc === 'default'
      ? 'allocator: glibc defaults (start through bin/reflex, or set GLIBC_TUNABLES as docs/telemetry.md says, for faster large messages)'
      : `allocator: ${alloc} GLIBC_TUNABLES`);

    const chain = this.#chain = new SampleChain({ config: cfg, board: this.board, counters: this.counters, pub: this.#pub, loop: () => this.#loop });
    // Model first: its metadata fixes the feature pipeline and the window the aligner must hold.
    const meta = cfg.model !== null ? readFittingModel(cfg.model, this.board) : null;
    chain.setModel(meta);

    this.#source = await openSource(this.board, { log: this.#log });
    this.#source.on('samples', (block) => chain.onSamples(block));
    wireSourceEvents(this.#source, { counters: this.counters, event: this.#event });
    this.#tracker = await this.#openTracker();
    this.#tracker?.onSample((s) => chain.onTracker(s));
    const rt = this;
    this.#reporter = new RunReporter({
      config: cfg, board: this.board, counters: this.counters, pub: this.#pub, source: this.#source, startedMs: this.#startedMs,
      live: {
        get state() { return rt.#state; },
        get loop() { return rt.#loop; },
        get meta() { return chain.meta; },
        get control() { return rt.#control; },
      },
    });

    // GPIO and sysfs-PWM lines are opened by the loop worker (it drives them inside its cycle);
    // the main thread keeps its own set only where nothing would be opened twice.
    this.#actuators = hasLineActuators(this.board) ? null : createActuators(this.board.actuators, {
      ...(this.#source.actuatorSink && { bridge: this.#source.actuatorSink }),
    });
    // Streaming before the loop starts: an armed loop would otherwise trip its stale-input
    // watchdog while it waits for the first window.
    await this.#source.start();
    if (meta) await this.#startLoop(cfg.model!, meta);

    if (opts.guardProcess !== false) {
      this.#uninstallGuard = installSafetyHandlers(() => [this.#loop ?? { enterSafe: () => this.#actuators?.safeAll() }], { log: this.#log });
    }
    this.#openEstopInput();

    if (cfg.telemetry.control) {
      this.#control = new ControlServer({
        endpoints: [cfg.telemetry.control],
        ...(security && { curve: security }),
        insecure: cfg.telemetry.insecure,
        logger: this.#log,
      });
      registerControl(this.#control, this.#controlTarget());
      await this.#control.start();
      this.#log.info(`control on ${this.#control.endpoints.join(', ')}`);
    }

    this.#timer = setInterval(() => this.#reporter.tick(), 1000 / TELEMETRY_HZ);
    this.#timer.unref();
    this.#state = 'running';
    this.#event('start', 'info', `running board ${this.board.id}${this.#loop ? ` with model ${basename(cfg.model!)}` : ' without a model'}`);
  }

  /** The run configuration's external tracker if it names one, else the board's built-in feed. */
  async #openTracker(): Promise<TrackerFeed | null> {
    const t = this.config.tracker;
    if (t === null) return this.#source.tracker;
    if (t.kind === 'zmq') return ZmqTracker.open({ name: 'tracker', endpoint: t.endpoint, dims: t.dims, bind: t.bind, topic: t.topic });
    return SerialTracker.open({ name: 'tracker', opener: openNodeSerial, path: t.path, dims: t.dims, baudRate: t.baudRate });
  }

  /** `meta`: the directory's metadata, already checked against the board (readFittingModel). */
  async #startLoop(dir: string, meta: ReflexModelMeta): Promise<ControlLoop> {
    this.#chain.sizeWindow(meta);
    const launched = await launchLoop(dir, {
      config: this.config, board: this.board, source: this.#source, actuators: this.#actuators, arm: this.#arm, log: this.#log,
    });
    const { loop } = launched;
    try {
      loop.onSafetyEvent((e) => this.#onSafety(e));
      this.#offActuatorFd?.();
      this.#offActuatorFd = followActuatorFd(launched, loop);
    } catch (err) {
      // Not yet this.#loop, so stop() would never reach it: a worker holding GPIO lines must not outlive the failure.
      loop.enterSafe('stopped', 'loop set-up failed');
      await loop.stop();
      throw err;
    }
    this.#loop = loop;
    this.#reporter.attach(loop, outputMapping(this.config, this.board));
    this.#event('model', 'info', ...describeLoop(dir, loop));
    return loop;
  }

  /** Control "model": the old loop goes safe and stops before the new model loads; the new one starts safe. */
  async #switchModel(dir: string): Promise<ControlLoop> {
    const previous = this.#loop;
    // Safe first: the old loop must not drive while the new one loads.
    previous?.enterSafe('stopped', 'switching model');
    this.#loop = null;
    await previous?.stop();
    // Checked before anything is rebuilt for it: a model that does not fit the board changes nothing.
    const meta = readFittingModel(dir, this.board);
    this.config.model = dir;
    this.#chain.setModel(meta);
    const wasArmed = this.#arm;
    this.#arm = false; // a switched model starts safe; the operator releases it
    try {
      return await this.#startLoop(dir, meta);
    } finally {
      this.#arm = wasArmed;
    }
  }

  #controlTarget(): ControlTarget {
    const rt = this;
    return {
      get state() { return rt.#state; },
      set state(s: RuntimeState) { rt.#state = s; },
      get loop() { return rt.#loop; },
      get actuators() { return rt.#actuators; },
      source: this.#source,
      features: this.#chain,
      status: () => this.status(),
      switchModel: (dir) => this.#switchModel(dir),
      event: this.#event,
    };
  }

  #onSafety(e: SafetyEvent): void {
    this.counters.inc(`safety.${e.reason}`);
    this.#event('safety', e.entered ? 'warn' : 'info', `${e.reason}${e.detail ? `: ${e.detail}` : ''}${e.entered ? ' -> actuators safe' : ''}`, {
      reason: e.reason, entered: e.entered, cycle: e.cycle,
    });
  }

  readonly #event: RunEvent = (kind, level, message, data) => {
    this.#log.log(level === 'warn' ? 'warn' : level, message);
    this.#pub?.publish('event', { kind, level, message, ...(data && { data }) });
  };

  #openEstopInput(): void {
    const ref = this.board.pins?.estop;
    if (!ref) return;
    const gpio = selectGpio({ logger: this.#log });
    this.#simGpio = gpio.sim;
    // The simulated button rests released, as a real normally-closed e-stop with its pull-up does.
    if (ref.chip === SIM_CHIP) gpio.sim.drive(ref, 0);
    const line = gpio.providerFor(ref).input(ref, 'both');
    this.#estopLine = line;
    // The loop may be replaced (model switch): resolve it at press time; without one, drive safe directly.
    watchEstopInput(line, { estop: (source) => (this.#loop ? this.#loop.estop(source) : this.#actuators?.safeAll()) });
  }

  status(): Record<string, unknown> {
    return this.#reporter.status();
  }

  /** The loop's output names and latest outputs (tests and `status`). */
  latest(): LoopOutput | null {
    return this.#reporter.latest();
  }

  /** The simulated board's GPIO chip ("reflex-sim"), so tests and demos can press its e-stop; null on hardware. */
  get simGpio(): FakeGpio | null {
    return this.#simGpio;
  }

  get loop(): ControlLoop | null {
    return this.#loop;
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return this.#stopped;
    this.#state = 'stopping';
    if (this.#timer) clearInterval(this.#timer);
    // Actuators safe before anything else is torn down.
    this.#loop?.enterSafe('stopped', 'runtime stopping');
    this.#actuators?.safeAll();
    const errors: Error[] = [];
    const step = async (what: string, fn: () => Promise<unknown> | unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(new ReflexError('E_STOP', `${what}: ${(err as Error).message}`, { cause: err }));
      }
    };
    await step('loop', () => this.#loop?.stop());
    this.#offActuatorFd?.();
    await step('control', () => this.#control?.close());
    if (this.#tracker !== this.#source?.tracker) await step('tracker', () => this.#tracker?.close());
    await step('source', () => this.#source?.stop());
    this.#estopLine?.close();
    if (this.#pub) {
      this.#event('stop', 'info', 'runtime stopped');
      await step('telemetry', () => this.#pub.close());
    }
    this.#actuators?.close();
    this.#uninstallGuard?.();
    this.#state = 'stopped';
    this.#resolveStopped();
    if (errors.length > 0) throw errors[0];
  }
}
