/** Shared by the tests that run a real Runtime on a device source (not a test file itself). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { boardsDir } from '../src/boards/load.js';
import { defaultConfig, type RunConfig } from '../src/runtime/config.js';
import type { Runtime } from '../src/runtime/runtime.js';
import type { TelemetryClient } from '../src/telemetry/client.js';
import type { TelemetryMessage } from '../src/telemetry/topics.js';

/** The shipped boards/<id>.json with only its serial path changed, written as `dir`/`file`; returns that path. */
export function shippedBoardAt(id: string, serialPath: string, dir: string, file: string): string {
  const board = JSON.parse(readFileSync(join(boardsDir, `${id}.json`), 'utf8')) as { source: { path: string } };
  board.source.path = serialPath;
  const boardFile = join(dir, file);
  writeFileSync(boardFile, JSON.stringify(board));
  return boardFile;
}

/** `board` without a model (what --no-model sets), telemetry and control on ephemeral loopback ports. */
export function noModelConfig(board: string, runtimeId: string): RunConfig {
  const cfg = defaultConfig(board);
  cfg.model = null;
  cfg.runtimeId = runtimeId;
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  return cfg;
}

export type NextMessage = (pred: (m: TelemetryMessage) => boolean, what: string) => Promise<TelemetryMessage>;

/**
 * Waits for the next message from `client` matching `pred`, each message passing by shown to
 * `seen` first; fails after 20 s with the runtime's status.
 */
export function telemetryWaiter(client: TelemetryClient, rt: Runtime, seen: (m: TelemetryMessage) => void = () => {}): NextMessage {
  const iter = client[Symbol.asyncIterator]();
  return async (pred, what) => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await iter.next();
      if (r.done) break;
      seen(r.value);
      if (pred(r.value)) return r.value;
    }
    throw new Error(`no telemetry message: ${what}; status ${JSON.stringify(rt.status())}`);
  };
}

/** The counters of the next `health` message whose counters match `pred`. */
export function healthWaiter(next: NextMessage): (pred: (c: Record<string, number>) => boolean, what: string) => Promise<Record<string, number>> {
  return (pred, what) => next((m) => m.topic === 'health' && pred(m.body.counters), what).then((m) => (m.topic === 'health' ? m.body.counters : {}));
}
