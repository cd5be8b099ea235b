/**
 * The runtime's answers to control commands (docs/runtime.md): status, e-stop and release,
 * stop and start acquisition, switching the model, and run-time parameters.
 */
import { existsSync } from 'node:fs';
import type { ActuatorSet } from '../actuate/set.js';
import { ReflexError } from '../core/errors.js';
import type { ControlLoop } from '../loop/loop.js';
import type { ControlArgs, SetValue } from '../telemetry/control-protocol.js';
import type { ControlServer } from '../telemetry/control-server.js';
import type { SampleChain } from './chain.js';
import type { Source } from './source.js';
import type { RunEvent, RuntimeState } from './types.js';

/** What the commands act on; `state` is written by "stop" and "start". */
export interface ControlTarget {
  state: RuntimeState;
  readonly loop: ControlLoop | null;
  /** The main thread's actuator set, driven safe directly when no loop is running. */
  readonly actuators: ActuatorSet | null;
  readonly source: Pick<Source, 'pause' | 'resume'>;
  readonly features: Pick<SampleChain, 'setFeature'>;
  status(): Record<string, unknown>;
  /** Stops the running loop (safe first) and starts one on the model in `dir`, safe until released. */
  switchModel(dir: string): Promise<ControlLoop>;
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
  server.handle('release', () => {
    const loop = target.loop;
    if (!loop) throw new ReflexError('E_NO_LOOP', 'no model is loaded, so there is nothing to release; load one with the "model" command');
    if (target.state !== 'running') throw new ReflexError('E_STATE', `cannot release while ${target.state}: send "start" first`);
    loop.release();
    target.event('release', 'info', 'released from safe state by control');
    return { safe: loop.safe };
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
    if (!existsSync(args.dir)) throw new ReflexError('E_MODEL_MISSING', `model directory ${args.dir} does not exist on the runtime's machine`);
    const loop = await target.switchModel(args.dir);
    return { model: args.dir, backend: loop.predictor.model?.backend.name ?? null, safe: true };
  });
  server.handle('set', (args: ControlArgs['set']) => set(target, args.path, args.value));
}

/** Parameters settable at run time; each path is documented in docs/runtime.md. */
function set(target: ControlTarget, path: string, value: SetValue): unknown {
  const m = /^telemetry\.decimate\.([a-z.]+)$/.exec(path);
  if (m) {
    throw new ReflexError('E_SET_UNSUPPORTED', `"${path}": telemetry decimation is fixed at start; set it in the run configuration`);
  }
  const f = /^features\.(\d+)\.([A-Za-z]+)$/.exec(path);
  if (f && target.features.setFeature(path, Number(f[1]), f[2]!, value)) {
    target.event('set', 'info', `${path} = ${String(value)}`);
    return { path, value };
  }
  throw new ReflexError('E_SET_PATH', `unknown parameter "${path}": settable are features.<unit index>.<setting> (e.g. features.0.low)`);
}
