import test from 'ava';
import { Counters } from '../src/core/counters.js';
import { DisconnectedError, type ReflexError } from '../src/core/errors.js';
import { FrameType } from '../src/bridge/frames.js';
import { BridgeCommander } from '../src/devices/bridge/commander.js';
import type { LinkCounterKey } from '../src/devices/bridge/link-types.js';
import type { SerialPortLike } from '../src/hal/serial.js';

/** A port whose write lets the test act while the bytes are "in flight". */
function portWithSlowWrite(during: () => void, outcome: 'resolve' | 'reject'): SerialPortLike {
  return {
    path: '/dev/fake',
    isOpen: true,
    async write() {
      during();
      // Give Node a full turn of the event loop, so a rejection nobody listens to yet is reported.
      await new Promise<void>((r) => setImmediate(r));
      if (outcome === 'reject') throw new DisconnectedError('EIO');
    },
    async close() {},
    onData() {},
    onClose() {},
  };
}

for (const outcome of ['resolve', 'reject'] as const) {
  // Regression: the reply promise was rejected by detach() before command() returned it, so
  // Node saw an unhandled rejection (and, under --unhandled-rejections=throw, the process died).
  test.serial(`link lost while a command is being written (write ${outcome}s): the caller gets E_DISCONNECTED, nothing is unhandled`, async (t) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const counters = new Counters<LinkCounterKey>();
      const cmd = new BridgeCommander(
        { path: '/dev/fake', helloTimeoutMs: 100, helloAttempts: 1, commandTimeoutMs: 10_000 },
        { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
        counters,
      );
      cmd.attach(portWithSlowWrite(() => cmd.detach(new DisconnectedError('unplugged during write')), outcome));
      const err = await t.throwsAsync<ReflexError>(cmd.command(FrameType.ACTUATE, 'ACTUATE', () => new Uint8Array([1, 2, 3])));
      t.is(err?.code, 'E_DISCONNECTED');
      await new Promise<void>((r) => setImmediate(r));
      t.deepEqual(unhandled, []);
      t.is(counters.get('write_errors'), outcome === 'reject' ? 1 : 0);
      t.false(cmd.connected);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
}
