/**
 * Entry point of a SPAWN fragment, in a worker thread (request in workerData) or a forked
 * child process (request over IPC). Runs the fragment and reports the registers it wrote.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock, VirtualClock } from './clock.js';
import { FunctionRegistry } from './functions.js';
import { run } from './run.js';
import type { SpawnMessage, SpawnRequest } from './spawn.js';
import { ProgramCodes } from './errors.js';

async function execute(req: SpawnRequest, post: (m: SpawnMessage) => void): Promise<void> {
  try {
    let functions = new FunctionRegistry();
    if (req.module !== null) {
      const mod = (await import(req.module)) as { functions?: unknown };
      if (!(mod.functions instanceof FunctionRegistry)) throw new Error(`module ${req.module} must export "functions", a FunctionRegistry`);
      functions = mod.functions;
    }
    const clock = req.clock.kind === 'system' ? systemClock : new VirtualClock(req.clock.now);
    const regs = await run(req.body, { functions, clock, registers: req.registers, print: (line) => post({ type: 'print', line }) });
    const written = Object.fromEntries(
      regs
        .written()
        .filter((k) => regs.has(k))
        .map((k) => [k, regs.get(k)!]),
    );
    post({ type: 'done', written });
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    post({ type: 'error', code: typeof e.code === 'string' ? e.code : ProgramCodes.spawn, message: String(e.message ?? err) });
  }
}

if (parentPort) {
  const port = parentPort;
  void execute(workerData as SpawnRequest, (m) => port.postMessage(m));
} else if (process.send) {
  process.once('message', (req) => {
    void execute(req as SpawnRequest, (m) => process.send!(m));
  });
}
