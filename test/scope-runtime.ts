/** The live telemetry the scope tests watch: the simulated board's runtime, armed, publishing over tcp with no control socket. */
import { nullLogger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';

export async function startScopeRuntime(runtimeId: string): Promise<Runtime> {
  const cfg = defaultConfig('sim');
  cfg.runtimeId = runtimeId;
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = null;
  // Generous: a loaded test machine must not trip the stale-input or overrun watchdogs.
  cfg.loop.staleMs = 2000;
  cfg.loop.overrunStreak = 1000;
  return await Runtime.start(cfg, { log: nullLogger(), guardProcess: false, arm: true });
}
