/**
 * The `model` control command on a running runtime (sim board, real loop worker): a model that
 * does not fit is refused with the file and the mismatch named while the old model keeps
 * running; a good one is swapped in between two cycles without stopping the loop, with the
 * e-stop latch held.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { fourChannelModel, scaledModel } from './model-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-switch-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

interface Status {
  safe: boolean;
  model: string | null;
  predictor: { backend: string | null; mode: string | null; outputs: string[] } | null;
  loop: { cycles: number } | null;
}

test.serial('model switch: a misfit is refused and the old model keeps running; a good one is swapped in between cycles, latch held', async (t) => {
  t.timeout(120_000);
  const cfg = defaultConfig('sim');
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  cfg.loop.rateHz = 100;
  cfg.loop.staleMs = 500;
  cfg.loop.overrunStreak = 1000;
  const four = await fourChannelModel(cfg.model!, join(tmp, 'four'));
  const other = scaledModel(cfg.model!, join(tmp, 'other'), 0.9);
  const lines: string[] = [];
  const rt = await Runtime.start(cfg, { log: new Logger({ sink: (_l, msg) => lines.push(msg), level: 'info' }), guardProcess: false, arm: true });
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 60_000 });
  const status = async (): Promise<Status> => (await ctl.request('status')) as Status;
  /** Resolves once the loop has run more cycles than `n` (bounded: a stopped loop fails the test). */
  const cyclesPast = async (n: number): Promise<number> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const c = (await status()).loop?.cycles ?? -1;
      if (c > n) return c;
      if (Date.now() > until) throw new Error(`the loop did not run past cycle ${n}: ${lines.slice(-5).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    const original = cfg.model;
    const c0 = await cyclesPast(0);

    const refused = await ctl.send('model', { dir: four });
    t.false(refused.ok);
    if (!refused.ok) {
      t.is(refused.error.code, 'E_MODEL_SHAPE');
      t.true(refused.error.message.includes(join(four, 'reflex-model.json')), refused.error.message);
      t.regex(refused.error.message, /expects 4 channels, board sim streams 8/);
    }
    const s1 = await status();
    t.is(s1.model, original);
    t.not(s1.predictor, null, 'the old model is still loaded');
    await cyclesPast(Math.max(c0, s1.loop!.cycles));
    const release = await ctl.send('release');
    t.true(release.ok, release.ok ? '' : `${release.error.code}: ${release.error.message}`);

    // Latched before the switch: still latched after it.
    await ctl.request('estop', { reason: 'test' });
    const before = (await status()).loop!.cycles;
    const r = (await ctl.request('model', { dir: other })) as { model: string; path: string; swapped_at_cycle: number; swap_margin_ms: number; safe: boolean };
    t.is(r.model, other);
    t.is(r.path, 'compiled');
    t.true(r.swapped_at_cycle >= before, `swapped at ${r.swapped_at_cycle}, cycles before ${before}`);
    // Every stage of the swap ended before its cycle's deadline (100 Hz: 10 ms gaps for under 1 ms of work).
    t.true(r.swap_margin_ms > 0, `a swap stage ended ${-r.swap_margin_ms} ms after its deadline`);
    t.true(r.safe);
    const s2 = await status();
    t.is(s2.model, other);
    t.is(s2.predictor?.mode, 'compiled');
    t.true(s2.safe, 'the e-stop latch survived the switch');
    await cyclesPast(r.swapped_at_cycle + 5);
    t.true((await status()).safe);
    t.true(
      lines.some((l) => /model .*other.*swapped in at cycle/.test(l)),
      'a model event says so',
    );
    t.is(rt.loop?.predictor.model?.dir, other);
  } finally {
    await ctl.close();
    await rt.stop();
  }
});
