/**
 * One run of Reflex: source -> clock map -> units -> aligner -> loop worker -> actuators,
 * with everything published on telemetry and steerable through the control socket.
 *
 * The main thread does I/O, decoding, units and alignment; the loop worker runs the
 * predictor and safety on its own deadlines and never waits for this thread.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { allocatorSetting } from '../core/allocator.js';
import { OutputMap } from '../actuate/mapping.js';
import { createActuators, type ActuatorSet } from '../actuate/set.js';
import { Aligner } from '../align/aligner.js';
import { loadBoard } from '../boards/load.js';
import type { BoardDef } from '../boards/types.js';
import type { SampleBlock } from '../core/block.js';
import { Counters } from '../core/counters.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { FakeGpio } from '../hal/gpio-fake.js';
import { listSysfsGpioChips } from '../hal/gpio-resolve.js';
import { selectGpio, SIM_CHIP } from '../hal/gpio-select.js';
import type { GpioInputLine } from '../hal/gpio.js';
import { watchEstopInput } from '../actuate/estop.js';
import { installSafetyHandlers } from '../loop/guard.js';
import { ControlLoop, type LoopOutput } from '../loop/loop.js';
import { emptyStats, type LoopStatsSnapshot } from '../loop/stats.js';
import type { SafetyEvent } from '../loop/watchdog.js';
import { readModelMeta, type ReflexModelMeta } from '../predict/metadata.js';
import { ControlServer } from '../telemetry/control-server.js';
import type { ControlArgs } from '../telemetry/control-protocol.js';
import { TelemetryPublisher } from '../telemetry/publisher.js';
import type { Topic, TopicBodies } from '../telemetry/topics.js';
import { monotonicMs } from '../time/monotonic.js';
import { buildPipeline, type Pipeline } from '../units/index.js';
import type { RunConfig } from './config.js';
import { serverSecurity } from './security.js';
import { openSource, type Source } from './source.js';
import { SerialTracker } from '../devices/tracker-serial.js';
import { ZmqTracker } from '../devices/tracker-zmq.js';
import type { TrackerFeed } from '../devices/tracker-types.js';
import { openNodeSerial } from '../hal/serial-node.js';

export interface RuntimeOptions {
  log: Logger;
  /** Install SIGINT/SIGTERM/uncaught handlers that put actuators safe (default true; tests turn it off). */
  guardProcess?: boolean;
  /** Start with actuators driven (default: only on the simulated board, where nothing physical moves). */
  arm?: boolean;
}

export type RuntimeState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped';

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
  #aligner!: Aligner;
  #pipeline: Pipeline | null = null;
  #meta: ReflexModelMeta | null = null;
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
  // Preallocated hot-path buffers; re-made only when the model (and so the window shape) changes.
  #windowTimeMajor = new Float32Array(0);
  #out: LoopOutput | null = null;
  #lastPublishedCycle = -1;
  #stats: LoopStatsSnapshot = emptyStats();
  #requested = new Float32Array(0);
  #applied = new Float32Array(0);
  #limited = new Uint8Array(0);
  #target = new Float64Array(0);
  #map: OutputMap | null = null;
  #prevCycles = 0;
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

    // Model first: its metadata fixes the feature pipeline and the window the aligner must hold.
    if (cfg.model !== null) this.#meta = readModelMeta(cfg.model);
    this.#buildPipeline();
    this.#aligner = new Aligner({ capacitySeconds: Math.max(2, ((this.#meta?.input.windowMs ?? 200) / 1000) * 4) });
    this.#addAlignerStreams();

    this.#source = await openSource(this.board, { log: this.#log });
    this.#source.on('samples', (block, arrivalMs) => this.#onSamples(block, arrivalMs));
    this.#source.on('gap', (g) => {
      this.counters.inc('gaps');
      this.counters.inc('gap_samples', Math.max(0, g.missingSamples || 0));
      this.#event('gap', 'warn', `${g.cause} gap: ${g.missingSamples} samples, ${g.hostSpanMs.toFixed(1)} ms${g.deviceReset ? ' (device reset)' : ''}`);
    });
    this.#source.on('state', (s) => this.#event('source', 'info', `source ${s}`));
    this.#tracker = await this.#openTracker();
    this.#tracker?.onSample((s) => {
      this.#aligner.pushTracker('tracker', s);
      this.#publishTracker(s.hostTimeMs, s.values, s.valid, s.seq);
    });

    // GPIO and sysfs-PWM lines are opened by the loop worker (it drives them inside its cycle);
    // the main thread keeps its own set only where nothing would be opened twice.
    this.#actuators = this.#hasLineActuators() ? null : createActuators(this.board.actuators, {
      ...(this.#source.actuatorSink && { bridge: this.#source.actuatorSink }),
    });
    // Streaming before the loop starts: an armed loop would otherwise trip its stale-input
    // watchdog while it waits for the first window.
    await this.#source.start();
    if (this.#meta) await this.#startLoop(cfg.model!);

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
      this.#registerControl(this.#control);
      await this.#control.start();
      this.#log.info(`control on ${this.#control.endpoints.join(', ')}`);
    }

    this.#timer = setInterval(() => this.#tick(), 1000 / TELEMETRY_HZ);
    this.#timer.unref();
    this.#state = 'running';
    this.#event('start', 'info', `running board ${this.board.id}${this.#loop ? ` with model ${basename(cfg.model!)}` : ' without a model'}`);
  }

  #buildPipeline(): void {
    const features = featureSpecs(this.#meta);
    this.#pipeline = features === undefined ? null : buildPipeline(features, {
      at: 'features',
      input: { rate: this.board.source.kind === 'cyton' ? 250 : this.board.source.rate, channels: this.#emgChannels() },
    });
  }

  /** The run configuration's external tracker if it names one, else the board's built-in feed. */
  async #openTracker(): Promise<TrackerFeed | null> {
    const t = this.config.tracker;
    if (t === null) return this.#source.tracker;
    if (t.kind === 'zmq') return ZmqTracker.open({ name: 'tracker', endpoint: t.endpoint, dims: t.dims, bind: t.bind, topic: t.topic });
    return SerialTracker.open({ name: 'tracker', opener: openNodeSerial, path: t.path, dims: t.dims, baudRate: t.baudRate });
  }

  #trackerDims(): { dims: number; names: readonly string[]; unit: string } | null {
    const t = this.config.tracker;
    if (t) return { dims: t.dims, names: t.names, unit: '' };
    return this.board.tracker ? { dims: this.board.tracker.dims, names: this.board.tracker.names, unit: this.board.tracker.unit } : null;
  }

  #emgChannels(): number {
    return this.board.source.kind === 'cyton' ? 8 : this.board.source.channels;
  }

  #addAlignerStreams(): void {
    const rawRate = this.board.source.kind === 'cyton' ? 250 : this.board.source.rate;
    const rate = this.#meta?.input.rateHz ?? rawRate;
    // Units keep the stream name, so features arrive as "emg" at the model's rate.
    this.#aligner.addEmg('emg', { channels: this.#emgChannels(), rate });
    const t = this.#trackerDims();
    if (t) this.#aligner.addTracker('tracker', { dims: t.dims, maxRateHz: 1000 });
  }

  async #startLoop(dir: string): Promise<void> {
    const meta = readModelMeta(dir);
    if (meta.input.channels !== this.#emgChannels()) {
      throw new ConfigError('E_MODEL_SHAPE', `${dir}: the model expects ${meta.input.channels} channels, board ${this.board.id} streams ${this.#emgChannels()}: pick a model trained for this board`);
    }
    const n = meta.input.samples * meta.input.channels;
    this.#windowTimeMajor = new Float32Array(n);
    // The loop worker writes bridge ACTUATE frames to the port's fd itself when the source
    // offers one and every actuator is bridge or sim; the main-thread sink stays as the
    // second safe-state path. Otherwise the main-thread dispatcher drives the sink.
    const fdSource = this.#source.onActuatorFd ? this.#source : null;
    const lines = this.#hasLineActuators();
    const inWorker = lines || (fdSource !== null && this.board.actuators.every((a) => a.via === 'bridge' || a.via === 'sim'));
    const actuation = {
      ...(fdSource && { bridge: {} }),
      ...(this.board.actuators.some((a) => a.via === 'gpio') && { gpio: this.#gpioBackend() }),
      ...(this.board.actuators.some((a) => a.via === 'sysfs-pwm') && { pwm: 'sysfs' as const }),
    };
    const loop = await ControlLoop.start({
      ...(inWorker ? { actuateIn: 'worker' as const, actuation } : { actuateIn: 'main' as const }),
      schedule: { rateHz: this.config.loop.rateHz, policy: this.config.loop.overrun },
      watchdog: { staleMs: this.config.loop.staleMs, overrunStreak: this.config.loop.overrunStreak },
      predictor: { kind: 'model', dir },
      actuators: this.board.actuators,
      mapping: this.#mapping(),
      ...(this.#actuators && { sink: this.#actuators }),
      startArmed: this.#arm,
      ...(this.config.loop.priority && { priority: this.config.loop.priority }),
      log: this.#log,
    });
    loop.onSafetyEvent((e) => this.#onSafety(e));
    this.#offActuatorFd?.();
    this.#offActuatorFd = inWorker ? fdSource!.onActuatorFd!((fd) => loop.setBridgeFd(fd)) : null;
    this.#loop = loop;
    this.#out = loop.createOutput();
    this.#lastPublishedCycle = -1;
    const k = this.board.actuators.length;
    this.#requested = new Float32Array(k);
    this.#applied = new Float32Array(k);
    this.#limited = new Uint8Array(k);
    this.#target = new Float64Array(k);
    this.#map = new OutputMap(this.#mapping(), this.board.actuators, loop.outputNames);
    const p = loop.predictor.model;
    this.#event('model', 'info', `model ${dir}: ${p ? `${p.backend.name} backend, ${p.path} path${p.compiled.ok ? '' : ` (compiled kernel refused: ${p.compiled.reason ?? 'unknown'})`}` : loop.predictor.kind}`, {
      dir,
      ...(p && { backend: p.backend.name, mode: p.path }),
    });
  }

  #hasLineActuators(): boolean {
    return this.board.actuators.some((a) => a.via === 'gpio' || a.via === 'sysfs-pwm');
  }

  /** One GPIO backend for the board's actuator lines, chosen like the e-stop's (hal/gpio-select.ts). */
  #gpioBackend(): 'onoff' | 'chardev' | 'fake' {
    const chips = new Set(this.board.actuators.filter((a) => a.via === 'gpio').map((a) => a.line!.chip));
    if (chips.size > 1 && chips.has(SIM_CHIP)) {
      throw new ConfigError('E_BOARD_GPIO', `board ${this.board.id}: GPIO actuators mix the simulated chip with real ones (${[...chips].join(', ')}); use one or the other`);
    }
    if (chips.has(SIM_CHIP)) return 'fake';
    return listSysfsGpioChips().length > 0 ? 'onoff' : 'chardev';
  }

  /** The run configuration's output map, restricted to the actuators this board has. */
  #mapping(): OutputMap['entries'] {
    return this.config.outputs.filter((m) => this.board.actuators.some((a) => a.name === m.actuator));
  }

  #onSamples(block: SampleBlock, _arrivalMs: number): void {
    this.counters.inc('blocks');
    this.#pub.publishBlock('emg.raw', block);
    if (!Number.isFinite(block.hostTimeMs)) {
      // The clock model rejected this block's time: it must not reach the aligner as if it were good.
      this.counters.inc('unmapped_blocks');
      return;
    }
    let feat = block;
    if (this.#pipeline) {
      feat = this.#pipeline.process(block);
      if (feat.samples === 0) return;
      this.#pub.publishBlock('emg.features', feat);
    }
    this.#aligner.pushBlock(feat);
    if (!this.#loop || !this.#meta) return;
    const endMs = feat.hostTimeMs + (feat.samples - 1) * feat.hostPeriodMs;
    if (!this.#aligner.window(endMs, this.#meta.input.windowMs, this.#windowTimeMajor)) {
      this.counters.inc('invalid_windows');
      return;
    }
    // Time-major, as the loop and the model take it: handed on as is.
    this.#loop.pushWindow(this.#windowTimeMajor, endMs);
  }

  /** Reused for every tracker sample: one message per sample, no body object per sample. */
  #trackerBody: TopicBodies['tracker'] | null = null;

  #publishTracker(hostTimeMs: number, values: Float32Array, valid: boolean, seq: number): void {
    let b = this.#trackerBody;
    if (b === null) {
      const t = this.#trackerDims();
      // The sim firmware sends its pose at 100 Hz (firmware-bridge/README.md); an external feed
      // declares no rate, so none is claimed (NaN) rather than a made-up one.
      const rate = this.config.tracker === null ? 100 : Number.NaN;
      b = this.#trackerBody = {
        stream: 'tracker', rate, unit: t?.unit ?? '', channels: t?.names ?? [], samples: 1,
        first_sample: 0, block_seq: 0, device_time_us: Number.NaN, host_time_ms: 0,
        host_period_ms: 1000 / rate, valid: true, data: values,
      };
    }
    b.first_sample = seq;
    b.block_seq = seq;
    b.host_time_ms = hostTimeMs;
    b.valid = valid;
    b.data = values;
    this.#pub.publish('tracker', b);
  }


  #tick(): void {
    const loop = this.#loop;
    if (loop && this.#out && loop.readLatest(this.#out) && this.#out.cycle !== this.#lastPublishedCycle) {
      const o = this.#out;
      this.#lastPublishedCycle = o.cycle;
      this.#pub.publish('prediction', {
        tick: o.cycle, model: basename(this.config.model ?? ''), names: loop.outputNames,
        unit: this.#meta?.outputs.map((x) => x.unit).join('|') ?? '', values: o.outputs,
        window_end_ms: o.timeMs, latency_ms: this.#stats.computeP50Us / 1000,
      });
      // What the model asked for (before limits), beside what the loop drove: the difference is the safety layer at work.
      this.#map!.map(o.outputs, this.#target);
      for (let i = 0; i < this.#applied.length; i++) {
        this.#applied[i] = o.commands[i]!;
        this.#requested[i] = o.safe ? this.#applied[i]! : this.#target[i]!;
        this.#limited[i] = this.#requested[i] === this.#applied[i] ? 0 : 1;
      }
      this.#pub.publish('actuators', {
        tick: o.cycle, names: loop.actuatorNames, units: this.board.actuators.map((a) => a.unit),
        requested: this.#requested, applied: this.#applied, limited: this.#limited, safe_state: o.safe,
      });
    }
    if (loop) {
      loop.readStats(this.#stats);
      const s = this.#stats;
      this.#pub.publish('loop', {
        ticks: s.cycles - this.#prevCycles, period_ms: s.periodUs / 1000, missed: s.overruns,
        lateness_p50_ms: s.latenessP50Us / 1000, lateness_p99_ms: s.latenessP99Us / 1000, lateness_max_ms: s.latenessMaxUs / 1000,
        compute_p50_ms: s.computeP50Us / 1000, compute_p99_ms: s.computeP99Us / 1000, compute_max_ms: s.computeMaxUs / 1000,
      });
      this.#prevCycles = s.cycles;
    }
    const c = this.#source.clock.status();
    this.#pub.publish('clock', {
      source: 'emg', state: c.state, offset_ms: c.offsetMs, drift_ppm: c.driftPpm, residual_ms: c.residualMs, points: c.observations,
    });
    this.#pub.publish('health', { state: this.#healthState(), uptime_s: (monotonicMs() - this.#startedMs) / 1000, counters: this.#allCounters() });
  }

  #healthState(): string {
    if (this.#loop?.safe) return this.#state === 'running' ? 'safe' : this.#state;
    return this.#state;
  }

  #allCounters(): Record<string, number> {
    const out: Record<string, number> = { ...this.counters.snapshot() };
    for (const [k, v] of Object.entries(this.#source.counters())) out[`source.${k}`] = v;
    if (this.#loop) {
      const s = this.#stats;
      out['loop.cycles'] = s.cycles;
      out['loop.overruns'] = s.overruns;
      out['loop.safety_events'] = s.safetyEvents;
      out['loop.non_finite'] = s.nonFinite;
      out['loop.predictor_errors'] = s.predictorErrors;
      out['loop.stale_inputs'] = s.staleInputs;
      out['loop.dispatch_errors'] = this.#loop.dispatchErrors;
    }
    if (this.#control) for (const [k, v] of Object.entries(this.#control.counters.snapshot())) out[`control.${k}`] = v;
    return out;
  }

  #onSafety(e: SafetyEvent): void {
    this.counters.inc(`safety.${e.reason}`);
    this.#event('safety', e.entered ? 'warn' : 'info', `${e.reason}${e.detail ? `: ${e.detail}` : ''}${e.entered ? ' -> actuators safe' : ''}`, {
      reason: e.reason, entered: e.entered, cycle: e.cycle,
    });
  }

  #event(kind: string, level: 'info' | 'warn' | 'error', message: string, data?: Record<string, string | number | boolean>): void {
    this.#log.log(level === 'warn' ? 'warn' : level, message);
    this.#pub?.publish('event', { kind, level, message, ...(data && { data }) });
  }

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


  #registerControl(server: ControlServer): void {
    server.handle('status', () => this.status());
    server.handle('estop', (args: ControlArgs['estop']) => {
      if (this.#loop) this.#loop.estop(`remote${args.reason ? `: ${args.reason}` : ''}`);
      else this.#actuators?.safeAll();
      this.#event('estop', 'warn', `e-stop from control${args.reason ? `: ${args.reason}` : ''}`);
      return { safe: true };
    });
    server.handle('release', () => {
      if (!this.#loop) throw new ReflexError('E_NO_LOOP', 'no model is loaded, so there is nothing to release; load one with the "model" command');
      if (this.#state !== 'running') throw new ReflexError('E_STATE', `cannot release while ${this.#state}: send "start" first`);
      this.#loop.release();
      this.#event('release', 'info', 'released from safe state by control');
      return { safe: this.#loop.safe };
    });
    server.handle('stop', async () => {
      if (this.#state !== 'running') return { state: this.#state };
      this.#loop?.enterSafe('stopped', 'control stop');
      this.#actuators?.safeAll();
      await this.#source.pause();
      this.#state = 'paused';
      this.#event('stop', 'info', 'acquisition stopped by control; actuators safe');
      return { state: this.#state };
    });
    server.handle('start', async () => {
      if (this.#state !== 'paused') return { state: this.#state };
      await this.#source.resume();
      this.#state = 'running';
      this.#event('start', 'info', 'acquisition resumed by control; actuators stay safe until "release"');
      return { state: this.#state };
    });
    server.handle('model', async (args: ControlArgs['model']) => {
      if (!existsSync(args.dir)) throw new ReflexError('E_MODEL_MISSING', `model directory ${args.dir} does not exist on the runtime's machine`);
      const previous = this.#loop;
      // Safe first: the old loop must not drive while the new one loads.
      previous?.enterSafe('stopped', 'switching model');
      this.#loop = null;
      await previous?.stop();
      this.#meta = readModelMeta(args.dir);
      this.config.model = args.dir;
      this.#buildPipeline();
      this.#aligner = new Aligner({ capacitySeconds: Math.max(2, (this.#meta.input.windowMs / 1000) * 4) });
      this.#addAlignerStreams();
      const wasArmed = this.#arm;
      this.#arm = false; // a switched model starts safe; the operator releases it
      try {
        await this.#startLoop(args.dir);
      } finally {
        this.#arm = wasArmed;
      }
      return { model: args.dir, backend: this.#loop!.predictor.model?.backend.name ?? null, safe: true };
    });
    server.handle('set', (args: ControlArgs['set']) => this.#set(args.path, args.value));
  }

  /** Parameters settable at run time; each path is documented in docs/runtime.md. */
  #set(path: string, value: number | boolean | string): unknown {
    const m = /^telemetry\.decimate\.([a-z.]+)$/.exec(path);
    if (m) {
      throw new ReflexError('E_SET_UNSUPPORTED', `"${path}": telemetry decimation is fixed at start; set it in the run configuration`);
    }
    const f = /^features\.(\d+)\.([A-Za-z]+)$/.exec(path);
    const current = featureSpecs(this.#meta);
    if (f && this.#meta && current !== undefined) {
      const specs = structuredClone(current) as Array<Record<string, unknown>>;
      const i = Number(f[1]);
      if (!Array.isArray(specs) || !specs[i]) throw new ReflexError('E_SET_PATH', `"${path}": the feature pipeline has no unit ${i}`);
      specs[i]![f[2]!] = value;
      // Validate the whole pipeline before swapping: a bad value must change nothing.
      const next = buildPipeline(specs, { at: 'features', input: { rate: this.board.source.kind === 'cyton' ? 250 : this.board.source.rate, channels: this.#emgChannels() } });
      this.#pipeline = next;
      const feat = this.#meta.features;
      if (isPipelineHolder(feat)) feat.pipeline = specs;
      else this.#meta.features = specs;
      this.#event('set', 'info', `${path} = ${String(value)}`);
      return { path, value };
    }
    throw new ReflexError('E_SET_PATH', `unknown parameter "${path}": settable are features.<unit index>.<setting> (e.g. features.0.low)`);
  }

  status(): Record<string, unknown> {
    const clock = this.#source.clock.status();
    return {
      runtime: this.config.runtimeId,
      board: this.board.id,
      state: this.#state,
      safe: this.#loop?.safe ?? true,
      model: this.config.model,
      predictor: this.#loop ? { backend: this.#loop.predictor.model?.backend.name ?? null, mode: this.#loop.predictor.model?.path ?? null, outputs: [...this.#loop.outputNames] } : null,
      source: this.#source.describe(),
      clock: { state: clock.state, offset_ms: clock.offsetMs, drift_ppm: clock.driftPpm, residual_ms: clock.residualMs },
      loop: this.#loop ? {
        rate_hz: this.config.loop.rateHz, cycles: this.#stats.cycles, lateness_p99_us: this.#stats.latenessP99Us, overruns: this.#stats.overruns,
        actuate_in: this.#loop.actuateIn, tid: this.#loop.predictor.priority?.tid ?? null,
        priority: this.#loop.predictor.priority ? { applied: this.#loop.predictor.priority.applied, failed: this.#loop.predictor.priority.failed } : null,
        actuation: this.#loop.actuationCounters(),
      } : null,
      telemetry: this.#pub.endpoints,
      counters: this.#allCounters(),
    };
  }

  /** The loop's output names and latest outputs (tests and `status`). */
  latest(): LoopOutput | null {
    if (!this.#loop || !this.#out) return null;
    this.#loop.readLatest(this.#out);
    return this.#out;
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

/**
 * The feature pipeline a model was trained with: `features` in reflex-model.json is either the
 * units' JSON list itself or an object holding it under `pipeline` (with the source rate it expects).
 */
function featureSpecs(meta: ReflexModelMeta | null): unknown {
  const f = meta?.features;
  return isPipelineHolder(f) ? f.pipeline : f;
}

function isPipelineHolder(f: unknown): f is { pipeline: unknown } {
  return typeof f === 'object' && f !== null && !Array.isArray(f) && 'pipeline' in f;
}
