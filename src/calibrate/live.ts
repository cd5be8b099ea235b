/**
 * What a calibration runs against: a control client to mark the run's timeline and a recorder
 * writing everything to XDF. Either a runtime started here on a local board (its publisher's
 * tap feeds the recorder, every stamp on this host's clock), or a runtime already running
 * elsewhere (its telemetry feeds the recorder, with clock offsets as `reflex record` writes them).
 * Both mark phases the same way, through the runtime's `mark` control command, so the markers
 * sit on the runtime's clock among its own events whichever side records.
 */
import { existsSync, rmSync } from 'node:fs';
import { ReflexError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { loadBoard } from '../boards/load.js';
import { Recorder, type RecorderStats } from '../record/recorder.js';
import { defaultConfig, type RunConfig } from '../runtime/config.js';
import { Runtime } from '../runtime/runtime.js';
import { TelemetryClient } from '../telemetry/client.js';
import type { PublishTap } from '../telemetry/publisher.js';
import { EmgCoverage } from './coverage.js';
import { ControlClient } from '../telemetry/control-client.js';
import type { KeyPair } from '../telemetry/keys.js';
import { TelemetryCodes } from '../telemetry/codes.js';
import { CoreCodes } from '../core/codes.js';

export interface LiveTarget {
  /** The runtime's control socket (the `mark` command). */
  readonly control: ControlClient;
  readonly recorder: Recorder;
  /** One line for the operator: which runtime, where. */
  readonly describe: string;
  /**
   * Resolves once the recording's EMG reaches the runtime's monotonic time `atMs` (a `mark`
   * reply's `at_ms`), so the last phase ends inside the recorded EMG; rejects after `timeoutMs`.
   */
  drain(atMs: number, timeoutMs?: number): Promise<void>;
  /** Stops what was started here and closes the recording; resolves with its statistics. */
  close(): Promise<RecorderStats>;
}

export interface RecordingOptions {
  path: string;
  /** Replace an existing file (default: refuse). */
  overwrite?: boolean;
  /** Extra JSON-safe header fields (the calibration program). */
  run: Record<string, unknown>;
}

export interface LocalOptions {
  /** Board id or path; its source is opened by a runtime started here. */
  board: string;
  /** Run configuration to start from (default: the board's defaults); no model is loaded either way. */
  config?: RunConfig;
  recording: RecordingOptions;
  log: Logger;
  /** Install the runtime's SIGINT/SIGTERM safety handlers (the CLI: yes; tests: no). */
  guardProcess?: boolean;
  signal?: AbortSignal;
}

/** Starts a runtime on `board` recording to the file; its actuators stay safe (no model runs). */
export async function startLocal(o: LocalOptions): Promise<LiveTarget> {
  const cfg = o.config ?? defaultConfig(o.board);
  cfg.board = o.board;
  // Calibration records what the person does; nothing is predicted and nothing moves.
  cfg.model = null;
  // Loopback and free ports: never in the way of a `reflex run` on this machine.
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  cfg.telemetry.keysDir = null;
  const board = loadBoard(cfg.board);
  const existed = existsSync(o.recording.path);
  const recorder = new Recorder({
    path: o.recording.path,
    overwrite: o.recording.overwrite,
    clock: 'local',
    source: { runtime: cfg.runtimeId, board: board.id },
    run: {
      ...o.recording.run,
      run_config: JSON.parse(JSON.stringify(cfg)) as unknown,
      board_def: JSON.parse(JSON.stringify(board)) as unknown,
    },
  });
  const coverage = new EmgCoverage();
  const tap: PublishTap = {
    message: (topic, body, monoMs) => recorder.message(topic, body, monoMs),
    block: (topic, b, monoMs) => {
      recorder.block(topic, b, monoMs);
      if (topic === 'emg.raw') coverage.block(b.hostTimeMs, b.hostPeriodMs, b.samples, monoMs);
    },
  };
  let rt: Runtime;
  try {
    rt = await Runtime.start(cfg, { log: o.log, tap, arm: false, guardProcess: o.guardProcess ?? false, ...(o.signal && { signal: o.signal }) });
  } catch (err) {
    recorder.close();
    // Nothing was recorded: a file this call created goes again.
    if (!existed) rmSync(o.recording.path, { force: true });
    throw err;
  }
  const control = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 5000 });
  return {
    control,
    recorder,
    describe: `board ${board.id} (runtime ${cfg.runtimeId} started here)`,
    drain: (atMs, timeoutMs) => coverage.reach(atMs, `board ${board.id}`, timeoutMs),
    close: async () => {
      await control.close();
      try {
        await rt.stop();
      } finally {
        recorder.close();
      }
      return recorder.stats();
    },
  };
}

export interface RemoteOptions {
  /** The runtime's telemetry endpoint (what `reflex subscribe` takes). */
  telemetry: string;
  /** Its control endpoint. */
  control: string;
  /** CURVE: the runtime's public key and this workstation's keypair. */
  serverKey?: string;
  keyPair?: KeyPair;
  recording: RecordingOptions;
  log: Logger;
  /** Longest wait for the first EMG block before giving up (default 10 s). */
  firstDataMs?: number;
}

/** Records a running runtime's telemetry to the file; resolves once its EMG arrives. */
export async function connectRemote(o: RemoteOptions): Promise<LiveTarget> {
  const recorder = new Recorder({ path: o.recording.path, overwrite: o.recording.overwrite, clock: 'remote', run: o.recording.run });
  const client = new TelemetryClient({
    endpoints: [{ endpoint: o.telemetry, ...(o.serverKey !== undefined && { serverKey: o.serverKey }) }],
    ...(o.keyPair && { keyPair: o.keyPair }),
    logger: o.log,
  });
  let sawEmg!: () => void;
  const firstEmg = new Promise<void>((r) => (sawEmg = r));
  const coverage = new EmgCoverage();
  const pump = (async () => {
    for await (const msg of client) {
      recorder.add(msg);
      if (msg.topic === 'emg.raw') {
        sawEmg();
        const b = msg.body;
        coverage.block(b.host_time_ms, b.host_period_ms, b.samples, msg.mono_ms);
      }
    }
  })();
  const drain = (atMs: number, timeoutMs?: number): Promise<void> => coverage.reach(atMs, o.telemetry, timeoutMs);
  const control = new ControlClient({
    endpoint: o.control,
    ...(o.serverKey !== undefined && { serverKey: o.serverKey }),
    ...(o.keyPair && { keyPair: o.keyPair }),
    timeoutMs: 5000,
  });
  const close = async (): Promise<RecorderStats> => {
    await control.close();
    await client.close();
    try {
      await pump;
    } finally {
      recorder.close();
    }
    return recorder.stats();
  };
  const waitMs = o.firstDataMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), waitMs)));
  const first = await Promise.race([firstEmg.then(() => 'emg' as const), pump.then(() => 'ended' as const), timedOut]);
  clearTimeout(timer);
  if (first !== 'emg') {
    await close();
    throw new ReflexError(
      first === 'timeout' ? TelemetryCodes.timeout : CoreCodes.disconnected,
      `no EMG from ${o.telemetry} within ${waitMs} ms: is the runtime running, and this client's key allowed?`,
    );
  }
  return { control, recorder, describe: `runtime at ${o.telemetry} (control ${o.control})`, drain, close };
}
