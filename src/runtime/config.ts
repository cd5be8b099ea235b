import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { readJsonFile, Validator } from '../core/validate.js';
import { validateTracker, type TrackerConfig } from './config-tracker.js';
import { DEFAULT_DEPLOY_IDLE_MS, DEFAULT_DEPLOY_MAX_BYTES, DEFAULT_MODEL_STORE } from '../deploy/deploy-protocol.js';
import { RuntimeCodes } from './codes.js';

/** The package root, from src/ (tsx) or dist/ (built). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Maps one predictor output onto one actuator: value = output * scale + offset, then limits apply. */
export interface OutputMap {
  actuator: string;
  output: string;
  scale: number;
  offset: number;
}

export type { TrackerConfig } from './config-tracker.js';

export interface RunConfig {
  /** Names this runtime in every telemetry message; several SBCs in one lab must differ. */
  runtimeId: string;
  /** Board id (from boards/) or path to a board JSON file. */
  board: string;
  /** Model directory (model.json + weights + reflex-model.json), or null to run without a predictor. */
  model: string | null;
  loop: {
    rateHz: number;
    overrun: 'skip' | 'catch-up';
    /** Input older than this puts the actuators in their safe state. */
    staleMs: number;
    /** This many overruns in a row put the actuators in their safe state. */
    overrunStreak: number;
    /** Real-time scheduling of the loop thread (needs root or CAP_SYS_NICE; refusal is reported, not fatal). */
    priority?: { fifo?: number; nice?: number };
  };
  /**
   * External motion-tracker feed (docs/tracker.md), replacing the board's built-in one:
   * a ZeroMQ SUB socket fed by a mocap bridge, or a line-based serial tracker. Null: the board's own (if any).
   */
  tracker: TrackerConfig | null;
  /** Predictor output -> actuator. Empty: predictions are published but drive nothing. */
  outputs: OutputMap[];
  telemetry: {
    /** PUB endpoints (tcp://, ipc://). */
    endpoints: string[];
    /** ROUTER endpoint for remote control, or null for none. */
    control: string | null;
    /** Directory with the server key pair and the allow-list (see docs/telemetry.md); null for plaintext. */
    keysDir: string | null;
    /** Allow plaintext on a non-loopback endpoint. Off by default: anyone on the lab network could steer. */
    insecure: boolean;
    /** Publish every Nth message of a topic. */
    decimate: Record<string, number>;
  };
  /** Models received over control (docs/deploy.md). */
  deploy: {
    /** The model store: one directory per deployed model, named by its content hash. */
    store: string;
    /** Total bytes of one deployed model's files at most. */
    maxBytes: number;
    /** A deploy with no request for this long is dropped and its files removed. */
    idleTimeoutMs: number;
  };
  /** Stop by itself after this many seconds (null: run until SIGINT/SIGTERM). */
  durationS: number | null;
}

/**
 * The output map used when the run configuration gives none: the simulated board's servos.
 * An entry of it whose actuator a board lacks is dropped (checks.ts); entries a configuration
 * writes must name the board's actuators.
 */
export const DEFAULT_OUTPUTS: readonly Readonly<OutputMap>[] = Object.freeze([
  Object.freeze({ actuator: 'wrist', output: 'wrist_angle', scale: 500 / 60, offset: 1500 }),
  Object.freeze({ actuator: 'grip', output: 'grip', scale: 1000, offset: 1000 }),
]);

/** Letters, digits, ".", "_" and "-": the runtime id is part of every telemetry topic. */
export const RUNTIME_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function defaultConfig(board = 'sim'): RunConfig {
  return {
    runtimeId: `reflex-${hostname()}`,
    board,
    model: resolve(packageRoot, 'models', 'default'),
    tracker: null,
    loop: { rateHz: 100, overrun: 'skip', staleMs: 100, overrunStreak: 5 },
    outputs: DEFAULT_OUTPUTS.map((o) => ({ ...o })),
    telemetry: {
      endpoints: ['tcp://127.0.0.1:5556'],
      control: 'tcp://127.0.0.1:5557',
      keysDir: null,
      insecure: false,
      decimate: {},
    },
    deploy: { store: DEFAULT_MODEL_STORE, maxBytes: DEFAULT_DEPLOY_MAX_BYTES, idleTimeoutMs: DEFAULT_DEPLOY_IDLE_MS },
    durationS: null,
  };
}

/** Read a run configuration file over the defaults. Paths in it are relative to the file. */
export function loadConfig(file: string): RunConfig {
  if (!existsSync(file)) throw new ConfigError(RuntimeCodes.configMissing, `config file ${file} does not exist`);
  const raw = readJsonFile(file);
  return validateConfig(raw, file);
}

export function validateConfig(raw: unknown, file = '<config>'): RunConfig {
  const v = new Validator(file);
  const o = v.object(raw, '');
  v.onlyKeys(o, '', ['runtimeId', 'board', 'model', 'tracker', 'loop', 'outputs', 'telemetry', 'deploy', 'durationS']);
  const base = dirname(resolve(file));
  const rel = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const cfg = defaultConfig(o.board === undefined ? 'sim' : v.string(o.board, 'board'));
  if (o.runtimeId !== undefined) {
    cfg.runtimeId = v.string(o.runtimeId, 'runtimeId');
    if (!RUNTIME_ID.test(cfg.runtimeId)) v.fail('runtimeId', 'may use letters, digits, ".", "_" and "-" only (it is part of telemetry topics)');
  }
  if (typeof o.board === 'string' && o.board.endsWith('.json')) cfg.board = rel(o.board);
  if (o.model !== undefined) cfg.model = o.model === null ? null : rel(v.string(o.model, 'model'));
  if (o.tracker !== undefined && o.tracker !== null) cfg.tracker = validateTracker(v, o.tracker);
  if (o.loop !== undefined) {
    const l = v.object(o.loop, 'loop');
    v.onlyKeys(l, 'loop', ['rateHz', 'overrun', 'staleMs', 'overrunStreak', 'priority']);
    if (l.priority !== undefined) {
      const pr = v.object(l.priority, 'loop.priority');
      v.onlyKeys(pr, 'loop.priority', ['fifo', 'nice']);
      cfg.loop.priority = {
        ...(pr.fifo !== undefined && { fifo: v.integer(pr.fifo, 'loop.priority.fifo', [1, 99]) }),
        ...(pr.nice !== undefined && { nice: v.integer(pr.nice, 'loop.priority.nice', [-20, 19]) }),
      };
    }
    if (l.rateHz !== undefined) cfg.loop.rateHz = v.number(l.rateHz, 'loop.rateHz', [1, 2000]);
    if (l.overrun !== undefined) cfg.loop.overrun = v.oneOf(l.overrun, 'loop.overrun', ['skip', 'catch-up'] as const);
    if (l.staleMs !== undefined) cfg.loop.staleMs = v.number(l.staleMs, 'loop.staleMs', [1, 60_000]);
    if (l.overrunStreak !== undefined) cfg.loop.overrunStreak = v.integer(l.overrunStreak, 'loop.overrunStreak', [1, 10_000]);
  }
  if (o.outputs !== undefined) {
    cfg.outputs = v.array(o.outputs, 'outputs').map((m, i) => {
      const p = `outputs[${i}]`;
      const mo = v.object(m, p);
      v.onlyKeys(mo, p, ['actuator', 'output', 'scale', 'offset']);
      return {
        actuator: v.string(mo.actuator, `${p}.actuator`),
        output: v.string(mo.output, `${p}.output`),
        scale: mo.scale === undefined ? 1 : v.number(mo.scale, `${p}.scale`),
        offset: mo.offset === undefined ? 0 : v.number(mo.offset, `${p}.offset`),
      };
    });
  }
  if (o.telemetry !== undefined) {
    const t = v.object(o.telemetry, 'telemetry');
    v.onlyKeys(t, 'telemetry', ['endpoints', 'control', 'keysDir', 'insecure', 'decimate']);
    if (t.endpoints !== undefined)
      cfg.telemetry.endpoints = v.array(t.endpoints, 'telemetry.endpoints').map((e, i) => v.string(e, `telemetry.endpoints[${i}]`));
    if (t.control !== undefined) cfg.telemetry.control = t.control === null ? null : v.string(t.control, 'telemetry.control');
    if (t.keysDir !== undefined) cfg.telemetry.keysDir = t.keysDir === null ? null : rel(v.string(t.keysDir, 'telemetry.keysDir'));
    if (t.insecure !== undefined) cfg.telemetry.insecure = v.boolean(t.insecure, 'telemetry.insecure');
    if (t.decimate !== undefined) {
      const d = v.object(t.decimate, 'telemetry.decimate');
      cfg.telemetry.decimate = Object.fromEntries(Object.entries(d).map(([k, n]) => [k, v.integer(n, `telemetry.decimate.${k}`, [1, 1_000_000])]));
    }
  }
  if (o.deploy !== undefined) {
    const d = v.object(o.deploy, 'deploy');
    v.onlyKeys(d, 'deploy', ['store', 'maxBytes', 'idleTimeoutMs']);
    if (d.store !== undefined) cfg.deploy.store = rel(v.string(d.store, 'deploy.store'));
    if (d.maxBytes !== undefined) cfg.deploy.maxBytes = v.integer(d.maxBytes, 'deploy.maxBytes', [1024, 2 ** 40]);
    if (d.idleTimeoutMs !== undefined) cfg.deploy.idleTimeoutMs = v.number(d.idleTimeoutMs, 'deploy.idleTimeoutMs', [100, 3_600_000]);
  }
  if (o.durationS !== undefined) cfg.durationS = o.durationS === null ? null : v.number(o.durationS, 'durationS', [0.001, 1e9]);
  return cfg;
}
