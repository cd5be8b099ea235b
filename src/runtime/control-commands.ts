/**
 * The runtime's answers to control commands (docs/runtime.md): status, e-stop and release,
 * stop and start acquisition, switching the model, and run-time parameters.
 */
import { existsSync } from 'node:fs';
import type { ActuatorSet } from '../actuate/set.js';
import { ReflexError } from '../core/errors.js';
import type { ControlLoop } from '../loop/loop.js';
import { releaseAndWait } from '../loop/release.js';
import type { ControlArgs, PlainValue, SetValue } from '../telemetry/control-protocol.js';
import { monotonicMs } from '../time/monotonic.js';
import type { ControlServer } from '../telemetry/control-server.js';
import type { SampleChain } from './chain.js';
import type { ModelSwitch } from './loop-setup.js';
import type { Source } from './source.js';
import type { RunEvent, RuntimeState } from './types.js';
import { RuntimeCodes } from './codes.js';
import { LoopCodes } from '../loop/codes.js';
import { ModelCodes } from '../predict/errors.js';

/** Longest wait for the loop worker to apply a release (it does so at its next cycle). */
const RELEASE_WAIT_MS = 2000;

/** What the commands act on; `state` is written by "stop" and "start". */
export interface ControlTarget {
  state: RuntimeState;
  readonly loop: ControlLoop | null;
  /** The main thread's actuator set, driven safe directly when no loop is running. */
  readonly actuators: ActuatorSet | null;
  readonly source: Pick<Source, 'pause' | 'resume'>;
  readonly features: Pick<SampleChain, 'setFeature'>;
  status(): Record<string, unknown>;
  /**
   * Swaps the model in `dir` into the running loop once it is checked and verified (a refusal
   * changes nothing), or starts a loop on it, safe until released, when none runs.
   */
  switchModel(dir: string): Promise<ModelSwitch>;
  event: RunEvent;
}

export function registerControl(server: ControlServer, target: ControlTarget): void {
  server.handle('status', () => target.status());
  server.handle('estop', (args: ControlArgs['estop']) => {
    const loop = target.loop;
    if (loop) loop.estop(`remote${args.reason ? `: ${args.reason}` : ''}`);
    else target.actuators?.safeAll();
    target.event('estop', 'warn', `e-stop from control${args.reason ? `: ${args.reason}` : ''}`);
    return { safe: true };
  });
  server.handle('release', async () => {
    // State first: while the run is still starting there is no loop yet, and "no model" would mislead.
    if (target.state !== 'running') {
      throw new ReflexError(
        RuntimeCodes.state,
        `cannot release while ${target.state}: ${target.state === 'paused' ? 'send "start" first' : 'wait until the run is running'}`,
      );
    }
    const loop = target.loop;
    if (!loop) throw new ReflexError(LoopCodes.noLoop, 'no model is loaded, so there is nothing to release; load one with the "model" command');
    if (!loop.safe) return { safe: false };
    // The worker applies a release at its next cycle: answer with what it did, not with the state before it.
    const outcome = await releaseAndWait(loop, RELEASE_WAIT_MS);
    target.event('release', 'info', `released from safe state by control${outcome === 'released' ? '' : ` (${outcome})`}`);
    return { safe: outcome === 'released' ? false : loop.safe, ...(outcome !== 'released' && { outcome }) };
  });
  server.handle('stop', async () => {
    if (target.state !== 'running') return { state: target.state };
    target.loop?.enterSafe('stopped', 'control stop');
    target.actuators?.safeAll();
    await target.source.pause();
    target.state = 'paused';
    target.event('stop', 'info', 'acquisition stopped by control; actuators safe');
    return { state: target.state };
  });
  server.handle('start', async () => {
    if (target.state !== 'paused') return { state: target.state };
    await target.source.resume();
    target.state = 'running';
    target.event('start', 'info', 'acquisition resumed by control; actuators stay safe until "release"');
    return { state: target.state };
  });
  server.handle('model', async (args: ControlArgs['model']) => {
    if (!existsSync(args.dir)) throw new ReflexError(ModelCodes.missing, `model directory ${args.dir} does not exist on the runtime's machine`);
    const { loop, cycle, marginMs } = await target.switchModel(args.dir);
    const p = loop.predictor.model;
    return { model: args.dir, backend: p?.backend.name ?? null, path: p?.path ?? null, swapped_at_cycle: cycle, swap_margin_ms: marginMs, safe: loop.safe };
  });
  server.handle('set', (args: ControlArgs['set']) => set(target, args.path, args.value));
  server.handle('mark', (args: Record<string, PlainValue>) => mark(target, args), checkMark);
}

const MARK_LABEL = /^[A-Za-z0-9_.:-]{1,128}$/;
const MARK_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** `mark {label, data?}`: label like "calibration.flex"; data a flat map of at most 16 short scalars. */
export function checkMark(a: Record<string, PlainValue>): string | undefined {
  const extra = Object.keys(a).filter((k) => k !== 'label' && k !== 'data');
  if (extra.length > 0) return `unknown arguments: ${extra.slice(0, 5).join(', ')} (allowed: label, data)`;
  if (typeof a.label !== 'string' || !MARK_LABEL.test(a.label)) return 'label must be 1..128 letters, digits, "_", ".", ":" or "-", e.g. "calibration.flex"';
  if (a.data === undefined) return undefined;
  const d = a.data;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'data must be a map of numbers, booleans and short strings';
  const entries = Object.entries(d);
  if (entries.length > 16) return 'data may hold at most 16 entries';
  for (const [k, v] of entries) {
    if (!MARK_KEY.test(k)) return `data key "${k.slice(0, 64)}" must be a plain identifier`;
    if (!(typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 256)))
      return `data.${k} must be a number, a boolean or a string of at most 256 characters`;
  }
  return undefined;
}

/**
 * Puts a marker on the run's timeline: an `event` of kind "mark" (message: the label), so a
 * recording of the run (board or workstation) holds it among the runtime's own events, stamped
 * on the runtime's clock when the request arrived.
 */
function mark(target: ControlTarget, a: Record<string, PlainValue>): { label: string; at_ms: number } {
  const label = a.label as string;
  const data = (a.data ?? {}) as Record<string, string | number | boolean>;
  const atMs = monotonicMs();
  target.event('mark', 'info', label, data);
  return { label, at_ms: atMs };
}

/** Parameters settable at run time; each path is documented in docs/runtime.md. */
function set(target: ControlTarget, path: string, value: SetValue): unknown {
  const m = /^telemetry\.decimate\.([a-z.]+)$/.exec(path);
  if (m) {
    throw new ReflexError(RuntimeCodes.setUnsupported, `"${path}": telemetry decimation is fixed at start; set it in the run configuration`);
  }
  const f = /^features\.(\d+)\.([A-Za-z]+)$/.exec(path);
  if (f && target.features.setFeature(path, Number(f[1]), f[2]!, value)) {
    target.event('set', 'info', `${path} = ${String(value)}`);
    return { path, value };
  }
  throw new ReflexError(RuntimeCodes.setPath, `unknown parameter "${path}": settable are features.<unit index>.<setting> (e.g. features.0.low)`);
}
