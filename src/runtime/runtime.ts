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
import { TelemetryPublisher, type PublishTap } from '../telemetry/publisher.js';
import { monotonicMs } from '../time/monotonic.js';
import { SampleChain } from './chain.js';
import type { RunConfig } from './config.js';
import { registerControl, type ControlTarget } from './control-commands.js';
import { registerDeploy, type DeployService } from './deploy-commands.js';
import { describeLoop, followActuatorFd, hasLineActuators, launchLoop, type ModelSwitch, outputMapping, readFittingModel } from './loop-setup.js';
import { emgChannels } from './board-facts.js';
import { RunReporter } from './reporting.js';
import { serverSecurity } from './security.js';
import { checkBindSecurity } from '../telemetry/security.js';
import { checkDevice, checkModelFit, checkOutputs } from './checks.js';
import { armWhenInputFlows, connectSource, runSignal, stopWithin } from './startup.js';
import type { Source } from './source.js';
import { openSource } from './source-open.js';
import { wireSourceEvents } from './source-events.js';
import type { RunEvent, RuntimeState } from './types.js';
import type { TrackerFeed } from '../devices/tracker/types.js';
import { TrackerMonitor } from '../devices/tracker/monitor.js';
import { openConfiguredTracker, TRACKER_STREAM } from './tracker-feed.js';
import { RuntimeCodes } from './codes.js';

export type { RuntimeState } from './types.js';

export interface RuntimeOptions {
  log: Logger;
  /** Install SIGINT/SIGTERM/uncaught handlers that put actuators safe (default true; tests turn it off). */
  guardProcess?: boolean;
  /**
   * Drive actuators once start-up has finished and input reaches the loop (default: only on the
   * simulated board, where nothing physical moves). The loop always starts safe.
   */
  arm?: boolean;
  /**
   * Ends start-up early (SIGINT, SIGTERM, --duration): while the source is still connecting,
   * start() stops it and rejects with E_SOURCE_NOT_CONNECTED; later, it skips arming.
   */
  signal?: AbortSignal;
  /** Sees every telemetry message before decimation (`reflex run --record`: src/record/recorder.ts). */
  tap?: PublishTap;
}

const TELEMETRY_HZ = 10;
/** Longest wait at start-up for the first input window before arming is given up (the run stays safe). */
const ARM_WAIT_MS = 10_000;
/** Longest wait for the source to stop when the run stops (a hung device must not hold the exit). */
const SOURCE_STOP_MS = 3_000;

export class Runtime {
  readonly config: RunConfig;
  readonly board: BoardDef;
  readonly counters = new Counters();
  #log: Logger;
  #state: RuntimeState = 'starting';
  #source!: Source;
  #pub!: TelemetryPublisher;
  #control: ControlServer | null = null;
  #deploy: DeployService | null = null;
  #chain!: SampleChain;
  #reporter!: RunReporter;
  #loop: ControlLoop | null = null;
  #actuators: ActuatorSet | null = null;
  #offActuatorFd: (() => void) | null = null;
  #estopLine: GpioInputLine | null = null;
  #tracker: TrackerFeed | null = null;
  #trackerMonitor: TrackerMonitor | null = null;
  /** Aggregated gap events: flushed before the source stops, so no gap goes unreported. */
  #sourceEvents: { close(): void } | null = null;
  #simGpio: FakeGpio | null = null;
  #uninstallGuard: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #startedMs = monotonicMs();
  #arm: boolean;
  /** Set by an e-stop during start-up: the run must not arm itself after it. */
  #armHold: string | null = null;
  /** Ends the run after config.durationS. */
  #endTimer: NodeJS.Timeout | undefined;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  private constructor(config: RunConfig, board: BoardDef, opts: RuntimeOptions) {
    this.config = config;
    this.board = board;
    this.#log = opts.log;
    this.#arm = opts.arm ?? (board.source.kind === 'bridge' && board.source.transport === 'sim');
    this.#stopped = new Promise((r) => (this.#resolveStopped = r));
  }

  /**
   * Runs start-up (docs/runtime.md, "Start-up") and resolves once the run is running (and armed,
   * if it arms). `opts.signal` and `config.durationS` end the run: during start-up as described
   * there, afterwards by stop().
   */
  static async start(config: RunConfig, opts: RuntimeOptions): Promise<Runtime> {
    const board = loadBoard(config.board);
    const rt = new Runtime(config, board, opts);
    const ends = runSignal(opts.signal, config.durationS);
    rt.#endTimer = ends.timer;
    try {
      await rt.#start({ ...opts, signal: ends.signal });
    } catch (err) {
      await rt.stop().catch((e: Error) => opts.log.error(`cleanup after failed start: ${e.message}`));
      throw err;
    }
    const stop = (): void => void rt.stop().catch((e: Error) => opts.log.error(`stopping: ${e.message}`));
    if (ends.signal.aborted) stop();
    else ends.signal.addEventListener('abort', stop, { once: true });
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

  /**
   * The start-up order (docs/runtime.md, "Start-up"): everything that needs no I/O is checked
   * first, then every endpoint is bound, then the source is opened and connected and its device
   * checked against the board, then the loop starts SAFE, and only then is it armed (if asked).
   * Whatever fails on the way, nothing has been driven but the safe values.
   */
  async #start(opts: RuntimeOptions): Promise<void> {
    const cfg = this.config;
    // 1. No I/O: keys, which endpoints may be bound in plaintext, the model against the board and the configuration.
    const security = serverSecurity(cfg);
    checkBindSecurity('telemetry', cfg.telemetry.endpoints, security, cfg.telemetry.insecure);
    if (cfg.telemetry.control) checkBindSecurity('control', [cfg.telemetry.control], security, cfg.telemetry.insecure);
    // Model first: its metadata fixes the feature pipeline and the window the aligner must hold.
    const meta = cfg.model !== null ? readFittingModel(cfg.model, this.board) : null;
    if (meta) checkModelFit(meta, this.board, cfg.model!);
    checkOutputs(cfg, this.board, meta);

    // 2. Every endpoint bound before any device is opened: a port in use ends the run here.
    this.#pub = new TelemetryPublisher({
      endpoints: cfg.telemetry.endpoints,
      runtimeId: cfg.runtimeId,
      boardId: this.board.id,
      ...(security && { curve: security }),
      insecure: cfg.telemetry.insecure,
      decimate: cfg.telemetry.decimate,
      logger: this.#log,
      ...(opts.tap && { tap: opts.tap }),
    });
    await this.#pub.start();
    this.#log.info(`telemetry on ${this.#pub.endpoints.join(', ')}`);
    const alloc = allocatorSetting();
    // Matters for large telemetry messages only; say how to get the setting Reflex is measured with.
    this.#log.info(
      alloc === 'default'
        ? 'allocator: glibc defaults (start through bin/reflex, or set GLIBC_TUNABLES as docs/telemetry.md says, for faster large messages)'
        : `allocator: ${alloc} GLIBC_TUNABLES`,
    );
    const chain = (this.#chain = new SampleChain({ config: cfg, board: this.board, counters: this.counters, pub: this.#pub, loop: () => this.#loop }));
    chain.setModel(meta);
    if (cfg.telemetry.control) {
      this.#control = new ControlServer({
        endpoints: [cfg.telemetry.control],
        ...(security && { curve: security }),
        insecure: cfg.telemetry.insecure,
        logger: this.#log,
      });
      // Served from here on: `status` answers while the source connects.
      const target = this.#controlTarget();
      registerControl(this.#control, target);
      this.#deploy = registerDeploy(this.#control, { switchModel: (dir) => target.switchModel(dir), event: this.#event }, cfg.deploy);
      await this.#control.start();
      this.#log.info(`control on ${this.#control.endpoints.join(', ')}`);
    }
    if (opts.guardProcess !== false) {
      this.#uninstallGuard = installSafetyHandlers(
        () => {
          this.#armHold ??= 'a signal or uncaught error put the actuators safe';
          return [this.#loop ?? { enterSafe: () => this.#actuators?.safeAll() }];
        },
        { log: this.#log },
      );
    }
    this.#openEstopInput();

    // 3. The source: opened, connected (given up on abort), its device checked against the board.
    this.#state = 'connecting';
    this.#source = await openSource(this.board, { log: this.#log });
    this.#source.on('samples', (block) => chain.onSamples(block));
    this.#sourceEvents = wireSourceEvents(this.#source, { counters: this.counters, event: this.#event });
    this.#tracker = await this.#openTracker();
    this.#tracker?.onSample((s) => chain.onTracker(s));
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters in an object literal bind their own `this`
    const rt = this;
    this.#reporter = new RunReporter({
      config: cfg,
      board: this.board,
      counters: this.counters,
      pub: this.#pub,
      source: this.#source,
      startedMs: this.#startedMs,
      live: {
        get state() {
          return rt.#state;
        },
        get loop() {
          return rt.#loop;
        },
        get meta() {
          return chain.meta;
        },
        get control() {
          return rt.#control;
        },
        get tracker() {
          return rt.#trackerMonitor;
        },
      },
      event: this.#event,
    });
    // `health` and `clock` go out while the source connects too.
    this.#timer = setInterval(() => this.#reporter.tick(), 1000 / TELEMETRY_HZ);
    this.#timer.unref();
    // GPIO and sysfs-PWM lines are opened by the loop worker (it drives them inside its cycle);
    // the main thread keeps its own set only where nothing would be opened twice.
    this.#actuators = hasLineActuators(this.board)
      ? null
      : createActuators(this.board.actuators, {
          ...(this.#source.actuatorSink && { bridge: this.#source.actuatorSink }),
        });
    // Streaming before the loop starts, so the loop has windows from its first cycles.
    await connectSource(this.#source, this.board, opts.signal);
    checkDevice(this.board, this.#source.device?.() ?? null);

    // 4. The loop, safe until step 5 (its worker has loaded the model when this resolves).
    if (meta) await this.#startLoop(cfg.model!, meta);
    this.#state = 'running';
    this.#event('start', 'info', `running board ${this.board.id}${this.#loop ? ` with model ${basename(cfg.model!)}` : ' without a model'}`);

    // 5. Armed last, and only once input reaches the loop.
    if (this.#arm && this.#loop) {
      const why = await armWhenInputFlows(this.#loop, { signal: opts.signal, timeoutMs: ARM_WAIT_MS, held: () => this.#armHold });
      if (why === null) this.#event('arm', 'info', 'armed at start-up: the loop drives the actuators');
      else this.#event('arm', 'warn', `not armed at start-up: ${why}; actuators stay safe until "release"`);
    }
  }

  /**
   * The run configuration's external tracker if it names one (a bad endpoint or path is a
   * ConfigError naming the key), else the board's built-in feed; watched for staleness, transport
   * losses and its clock, which the reporter publishes.
   */
  async #openTracker(): Promise<TrackerFeed | null> {
    const t = this.config.tracker;
    const feed = t === null ? this.#source.tracker : await openConfiguredTracker(t, { log: this.#log });
    if (feed) {
      this.#trackerMonitor = new TrackerMonitor(feed, { stream: TRACKER_STREAM, ...(t?.staleMs !== undefined && { staleAfterMs: t.staleMs }) }, (e) =>
        this.#event(e.kind, e.level, e.message, e.data),
      );
    }
    return feed;
  }

  /** `meta`: the directory's metadata, already checked against the board (readFittingModel). */
  async #startLoop(dir: string, meta: ReflexModelMeta): Promise<ControlLoop> {
    this.#chain.sizeWindow(meta);
    // Always safe at first: arming is the last step of start-up (#start), or a "release".
    const launched = await launchLoop(dir, {
      config: this.config,
      board: this.board,
      source: this.#source,
      actuators: this.#actuators,
      arm: false,
      log: this.#log,
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

  /**
   * Control "model". With a loop running, the new model is checked and verified off this thread
   * while the old one keeps running, then swapped in between two cycles with the safety state
   * held (ControlLoop.swapModel): a refused model changes nothing. Without a loop (a run started
   * with --no-model) one is started on the model, safe until released.
   */
  async #switchModel(dir: string): Promise<ModelSwitch> {
    const loop = this.#loop;
    const running = this.#chain.meta;
    if (loop && running) {
      const r = await loop.swapModel(dir, {
        board: { id: this.board.id, channels: emgChannels(this.board) },
        running: { input: running.input, features: running.features },
      });
      this.config.model = r.dir;
      const [message, data] = describeLoop(r.dir, loop);
      this.#event('model', 'info', `${message}, swapped in at cycle ${r.cycle}`, { ...data, cycle: String(r.cycle) });
      return { loop, cycle: r.cycle, marginMs: r.marginMs };
    }
    // Checked before anything is rebuilt for it: a model that does not fit the board changes nothing.
    const meta = readFittingModel(dir, this.board);
    const previous = { model: this.config.model, meta: this.#chain.meta };
    this.config.model = dir;
    this.#chain.setModel(meta);
    try {
      return { loop: await this.#startLoop(dir, meta), cycle: null, marginMs: null };
    } catch (err) {
      this.config.model = previous.model;
      this.#chain.setModel(previous.meta);
      throw err;
    }
  }

  #controlTarget(): ControlTarget {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters and setters in an object literal bind their own `this`
    const rt = this;
    return {
      get state() {
        return rt.#state;
      },
      set state(s: RuntimeState) {
        rt.#state = s;
      },
      get loop() {
        return rt.#loop;
      },
      get actuators() {
        return rt.#actuators;
      },
      // Bound before the source opens: resolved at call time ("stop"/"start" act only while running or paused).
      source: {
        pause: () => rt.#source.pause(),
        resume: () => rt.#source.resume(),
      },
      features: this.#chain,
      status: () => this.status(),
      switchModel: (dir) => {
        if (rt.#state === 'starting' || rt.#state === 'connecting') {
          return Promise.reject(new ReflexError(RuntimeCodes.state, `cannot switch the model while ${rt.#state}: wait until the run is running`));
        }
        return this.#switchModel(dir);
      },
      event: (kind, level, message, data) => {
        // An e-stop from control during start-up must stop the run from arming itself afterwards.
        if (kind === 'estop') rt.#armHold ??= 'e-stop from control during start-up';
        this.#event(kind, level, message, data);
      },
    };
  }

  #onSafety(e: SafetyEvent): void {
    this.counters.inc(`safety.${e.reason}`);
    this.#event('safety', e.entered ? 'warn' : 'info', `${e.reason}${e.detail ? `: ${e.detail}` : ''}${e.entered ? ' -> actuators safe' : ''}`, {
      reason: e.reason,
      entered: e.entered,
      cycle: e.cycle,
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
    watchEstopInput(line, {
      estop: (source) => {
        this.#armHold ??= 'e-stop input pressed during start-up';
        return this.#loop ? this.#loop.estop(source) : this.#actuators?.safeAll();
      },
    });
  }

  /** The control `status` answer; before the source is open (binding, checks) only what is known yet. */
  status(): Record<string, unknown> {
    if (this.#reporter) return this.#reporter.status();
    return {
      runtime: this.config.runtimeId,
      board: this.board.id,
      state: this.#state,
      safe: true,
      model: this.config.model,
      predictor: null,
      source: null,
      loop: null,
      telemetry: this.#pub?.endpoints ?? [],
      counters: this.counters.snapshot(),
    };
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
    clearTimeout(this.#endTimer);
    // Actuators safe before anything else is torn down.
    this.#loop?.enterSafe('stopped', 'runtime stopping');
    this.#actuators?.safeAll();
    const errors: Error[] = [];
    const step = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(new ReflexError(RuntimeCodes.stop, `${what}: ${(err as Error).message}`, { cause: err }));
      }
    };
    await step('loop', () => this.#loop?.stop());
    // The last cycles before the stop are in the output ring: to the recorder and subscribers too.
    this.#reporter?.drainCycles();
    this.#offActuatorFd?.();
    await step('control', () => this.#control?.close());
    await step('deploy', () => this.#deploy?.close());
    if (this.#tracker !== this.#source?.tracker) await step('tracker', () => this.#tracker?.close());
    this.#trackerMonitor?.close();
    await step('source', () => this.#source && stopWithin(this.#source, SOURCE_STOP_MS));
    // After the source stopped, while telemetry is still open: its last gaps and state are reported.
    this.#sourceEvents?.close();
    this.#estopLine?.close();
    if (this.#pub) {
      this.#event('stop', 'info', 'runtime stopped');
      await step('telemetry', () => this.#pub.close());
    }
    this.#actuators?.close();
    this.#uninstallGuard?.();
    this.#state = 'stopped';
    this.#resolveStopped();
    const first = errors[0];
    if (first) throw first;
  }
}
