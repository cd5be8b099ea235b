/**
 * The reproduction on the real runtime (simulated board, loop armed): with an e-stop
 * latched, `{"id":1,"cmd":"status","cmd":"release"}` used to release it and move the
 * actuators. It must be refused and leave the loop safe.
 */
import test from 'ava';
import { Dealer } from 'zeromq';
import { Logger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { createDecoder } from '../src/telemetry/codec.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { cborMap } from './telemetry-control-cbor.js';

const dec = createDecoder();

test('real runtime: a latched e-stop survives {cmd: status, cmd: release}; a proper release still works', async (t) => {
  t.timeout(60_000);
  const cfg = defaultConfig('sim');
  cfg.runtimeId = 'strict-test';
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  // Loose watchdogs: this test is about the e-stop latch, not about timing on a loaded machine.
  cfg.loop.staleMs = 2000;
  cfg.loop.overrunStreak = 100_000;
  const lines: string[] = [];
  const rt = await Runtime.start(cfg, { log: new Logger({ sink: (_l, m) => lines.push(m), level: 'info' }), guardProcess: false, arm: true });
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 20_000 });
  const raw = new Dealer({ linger: 0 });
  raw.connect(rt.controlEndpoints[0]!);
  try {
    const loop = rt.loop;
    t.truthy(loop, 'the runtime runs a loop');
    t.deepEqual(await ctl.request('estop', { reason: 'strict test' }), { safe: true });
    t.true(loop!.safe);
    for (const frame of [
      cborMap([
        ['id', 1],
        ['cmd', 'status'],
        ['cmd', 'release'],
      ]),
      cborMap([
        ['id', 2],
        ['cmd', 'release'],
        ['cmd', 'status'],
      ]),
    ]) {
      await raw.send(frame);
      const reply = dec.decode((await raw.receive())[0]!) as { id: unknown; ok: boolean; error?: { code: string } };
      t.like(reply, { id: null, ok: false, error: { code: 'E_DUPLICATE_KEY' } });
    }
    t.true(loop!.safe, `still safe after the ambiguous requests: ${lines.slice(-3).join(' | ')}`);
    t.like(await ctl.request('status'), { safe: true });
    const counters = ((await ctl.request('status')) as { counters: Record<string, number> }).counters;
    t.is(counters['control.duplicate_keys'], 2);
    // The latch is releasable by an unambiguous request, so the refusal above is what held it.
    // The reply comes once the worker applied the release, and says what the loop then is.
    t.like(await ctl.request('release'), { safe: false });
    t.false(loop!.safe, `released: ${lines.slice(-3).join(' | ')}`);
    t.like(await ctl.request('status'), { safe: false });
  } finally {
    raw.close();
    await ctl.close();
    await rt.stop();
  }
});
