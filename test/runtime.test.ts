/**
 * End to end on the simulated board: the host firmware on a pseudo-terminal, the real serial
 * link and decoder, clock model, units, aligner, the loop worker with the default model, bridge
 * actuators, telemetry and control. What `npm start` runs, checked from a subscriber's and an
 * operator's side.
 */
import test from 'ava';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import type { TelemetryMessage, Topic } from '../src/telemetry/topics.js';

test.serial('sim board end to end: every topic flows, control steers, e-stop drives actuators to their safe values', async (t) => {
  t.timeout(120_000);
  const cfg = defaultConfig('sim');
  cfg.runtimeId = 'test-rt';
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  // This test steers a run; it does not test the watchdog (safety-*.test.ts do). On 2 cores
  // shared with the whole suite the main thread can stall for hundreds of ms, and a window that
  // late would rightly trip a tighter stale limit.
  cfg.loop.staleMs = 2000;
  cfg.loop.overrunStreak = 1000;
  const lines: string[] = [];
  const log = new Logger({ sink: (_level, msg) => lines.push(msg), level: 'info' });
  const rt = await Runtime.start(cfg, { log, guardProcess: false, arm: true });
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!] });
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 20_000 });
  try {
    const seen = new Map<Topic, TelemetryMessage>();
    const want: Topic[] = ['emg.raw', 'emg.features', 'tracker', 'prediction', 'actuators', 'loop', 'clock', 'health'];
    const iter = client[Symbol.asyncIterator]();
    const next = async (pred: (m: TelemetryMessage) => boolean, what: string): Promise<TelemetryMessage> => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const r = await iter.next();
        if (r.done) break;
        const m = r.value;
        seen.set(m.topic, m);
        if (pred(m)) return m;
      }
      throw new Error(`no telemetry message: ${what}`);
    };
    await next(() => want.every((w) => seen.has(w)), `all of ${want.join(', ')}`);

    const raw = seen.get('emg.raw')!;
    t.is(raw.source.runtime, 'test-rt');
    t.is(raw.source.board, 'sim');
    if (raw.topic === 'emg.raw') {
      t.true(raw.body.data instanceof Float32Array);
      t.is(raw.body.channels.length, 8);
      t.is(raw.body.unit, 'uV');
      t.is(raw.body.data.length, raw.body.samples * 8);
    }
    const feat = seen.get('emg.features')!;
    if (feat.topic === 'emg.features') t.is(feat.body.rate, 100, 'features decimated to the model rate');
    const pred = await next((m) => m.topic === 'prediction' && Array.from(m.body.values).every(Number.isFinite), 'a finite prediction');
    if (pred.topic === 'prediction') t.deepEqual([...pred.body.names], ['wrist_angle', 'grip']);
    const clock = await next((m) => m.topic === 'clock' && m.body.state === 'locked', 'a locked clock');
    t.truthy(clock);

    const status = (await ctl.request('status')) as {
      state: string;
      board: string;
      safe: boolean;
      predictor: { backend: string };
      loop: { actuate_in: string; actuation: Record<string, number> };
      counters: Record<string, number>;
    };
    t.is(status.state, 'running');
    t.is(status.board, 'sim');
    t.truthy(status.predictor.backend);
    // Regressions: the loop used to start before the source streamed, and later was armed before
    // its first window arrived, so a loaded machine tripped the stale-input watchdog at once and
    // the run sat in the safe state. Now the source streams first, the loop starts safe and is
    // armed (last step of start-up) once it has taken a window.
    const streaming = lines.findIndex((l) => l === 'source streaming');
    const model = lines.findIndex((l) => l.startsWith('model '));
    const armed = lines.findIndex((l) => l.startsWith('armed at start-up'));
    t.true(streaming >= 0 && model > streaming && armed > model, `source streams, then the loop starts, then it is armed: ${lines.join(' | ')}`);
    t.false(status.safe, `armed and not tripped at start: ${whySafe(rt, status.counters, lines)}`);
    t.is(status.loop.actuate_in, 'worker', 'the loop worker writes ACTUATE frames itself');

    // Armed: the loop drives actuators (not held at safe).
    await next((m) => m.topic === 'actuators' && m.body.safe_state === false, 'armed actuators').catch((err: Error) => {
      throw new Error(`${err.message}: ${whySafe(rt, rt.status().counters as Record<string, number>, lines)}`);
    });

    // E-stop from the workstation: safe state, and the applied commands are the board's safe values.
    await ctl.request('estop', { reason: 'test' });
    const safe = await next((m) => m.topic === 'actuators' && m.body.safe_state === true, 'actuators in the safe state');
    if (safe.topic === 'actuators') {
      const safeValues = rt.board.actuators.map((a) => a.safe);
      t.deepEqual(Array.from(safe.body.applied), safeValues);
    }
    // Nothing releases it by surprise: still safe a few messages later.
    const later = await next((m) => m.topic === 'actuators', 'actuators after e-stop');
    if (later.topic === 'actuators') t.true(later.body.safe_state);

    // Explicit release brings the loop back.
    await ctl.request('release');
    await next((m) => m.topic === 'actuators' && m.body.safe_state === false, 'released actuators');

    // The board's e-stop input (active-low line on the simulated chip): pressing it is an e-stop too,
    // and letting go of the button does not release the actuators.
    const estopPin = rt.board.pins!.estop!;
    rt.simGpio!.drive(estopPin, 1);
    await next((m) => m.topic === 'actuators' && m.body.safe_state === true, 'safe after the e-stop button');
    rt.simGpio!.drive(estopPin, 0);
    const still = await next((m) => m.topic === 'actuators', 'actuators after the button is let go');
    if (still.topic === 'actuators') t.true(still.body.safe_state, 'letting go of the button does not release');
    await ctl.request('release');
    await next((m) => m.topic === 'actuators' && m.body.safe_state === false, 'released again');

    // Parameters: a valid feature setting is taken, a bad one is refused with a code and changes nothing.
    const ok = (await ctl.request('set', { path: 'features.0.low', value: 25 })) as { path: string };
    t.is(ok.path, 'features.0.low');
    const bad = await ctl.send('set', { path: 'features.0.high', value: 5000 });
    t.false(bad.ok);
    const unknown = await ctl.send('set', { path: 'gains.nope', value: 1 });
    t.false(unknown.ok);
    if (!unknown.ok) t.is(unknown.error.code, 'E_SET_PATH');

    // Switching to a model that does not fit the board: refused with the reason before anything
    // changes (issue 11 item 3): the old model keeps running, still released, and the run's
    // configuration still names it.
    const wrong = mkdtempSync(join(tmpdir(), 'reflex-wrong-model-'));
    cpSync(cfg.model!, wrong, { recursive: true });
    const metaFile = join(wrong, 'reflex-model.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { input: { channels: number }; normalization: { mean: number[]; std: number[] } };
    meta.input.channels = 4;
    meta.normalization = { mean: meta.normalization.mean.slice(0, 4), std: meta.normalization.std.slice(0, 4) };
    writeFileSync(metaFile, JSON.stringify(meta));
    const before = rt.config.model;
    const refused = await ctl.send('model', { dir: wrong });
    t.false(refused.ok);
    if (!refused.ok) {
      t.is(refused.error.code, 'E_MODEL_SHAPE');
      t.regex(refused.error.message, /expects 4 channels/);
    }
    t.is(rt.config.model, before);
    const after = (await ctl.request('status')) as { safe: boolean; model: string | null; predictor: { backend: string } | null };
    t.like(after, { safe: false, model: before });
    t.truthy(after.predictor?.backend, 'the old model still predicts');
    rmSync(wrong, { recursive: true, force: true });
  } finally {
    await ctl.close();
    await client.close();
    await rt.stop();
  }
  t.is(rt.state, 'stopped');
});

/** Why the loop is safe, for failure messages: the watchdog's reason, the safety counters, the safety lines of the log. */
function whySafe(rt: Runtime, counters: Record<string, number>, lines: readonly string[]): string {
  const out = rt.latest();
  const counts = Object.entries(counters)
    .filter(([k]) => /^(safety\.|loop\.)/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const safety = lines.filter((l) => /safe|stale|released|arm/.test(l)).join(' | ');
  return `reason ${out?.reason ?? 'none'}, inputs seen ${out?.inputsSeen ?? 0}; ${counts}; log: ${safety}`;
}
