/**
 * The window contract end to end: a SampleBlock (channel-major) goes into the Aligner, whose
 * TIME-MAJOR window ([samples x channels], oldest first) goes unchanged to the Predictor and
 * through ControlLoop.pushWindow to the predictor in the worker. The model weighs every
 * (sample, channel) position differently, so a window in any other layout gives other
 * outputs; the expected ones are worked out by hand below.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { Aligner } from '../src/align/aligner.js';
import type { ActuatorDef } from '../src/boards/types.js';
import { createBlock } from '../src/core/block.js';
import { ControlLoop } from '../src/loop/loop.js';
import type { ReflexModelMeta } from '../src/predict/metadata.js';
import { Predictor } from '../src/predict/predictor.js';
import { saveReflexModel } from '../src/train/save.js';

const S = 3;
const C = 2;
const T0 = 5000;
const tmp = mkdtempSync(join(tmpdir(), 'reflex-layout-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Kernel rows in time-major input order (t0c0, t0c1, t1c0, t1c1, t2c0, t2c1):
 * output a weighs channel 0 by 1, 2, 3 and channel 1 by 10, 20, 30 over the samples;
 * output b is channel 0 of the newest sample.
 */
const KERNEL_A = [1, 10, 2, 20, 3, 30];
const KERNEL_B = [0, 0, 0, 0, 1, 0];
const meta: ReflexModelMeta = {
  format: 'reflex-model',
  version: 1,
  input: { channels: C, samples: S, rateHz: 1000, windowMs: 3 },
  normalization: { mean: [1, 2], std: [2, 4] },
  outputs: [
    { name: 'a', unit: 'x', mean: -4, std: 0.5 },
    { name: 'b', unit: 'x' },
  ],
};

/** Channel 0 reads 3, 5, 7 and channel 1 reads 2, 6, 10 at T0, T0+1, T0+2 ms. */
const CH0 = [3, 5, 7];
const CH1 = [2, 6, 10];
/**
 * z-scored: channel 0 (x - 1) / 2 = 1, 2, 3; channel 1 (x - 2) / 4 = 0, 1, 2.
 * a = (1*1 + 10*0 + 2*2 + 20*1 + 3*3 + 30*2) * 0.5 - 4 = 94 * 0.5 - 4 = 43; b = 3.
 */
const EXPECTED = [43, 3];
/**
 * The same values channel-major ([3, 5, 7, 2, 6, 10]) read as time-major pair up as
 * (3, 5), (7, 2), (6, 10): z = (1, 0.75), (3, 0), (2.5, 2);
 * a = (1 + 7.5 + 6 + 0 + 7.5 + 60) * 0.5 - 4 = 37; b = 2.5.
 */
const IF_CHANNEL_MAJOR = [37, 2.5];

async function modelDir(): Promise<string> {
  const dir = join(tmp, 'layout');
  const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [S, C] }), tf.layers.dense({ units: 2, useBias: false })] });
  const w = new Float32Array(S * C * 2);
  for (let i = 0; i < S * C; i++) {
    w[i * 2] = KERNEL_A[i]!;
    w[i * 2 + 1] = KERNEL_B[i]!;
  }
  m.layers[1]!.setWeights([tf.tensor(w, [S * C, 2])]);
  await saveReflexModel(m, dir, meta);
  m.dispose();
  return dir;
}

/** The window the runtime would push: the block through the Aligner. */
function alignedWindow(): Float32Array {
  const aligner = new Aligner({ capacitySeconds: 1 });
  aligner.addEmg('emg', { channels: C, rate: 1000 });
  const b = createBlock({ stream: 'emg', channels: C, samples: S, rate: 1000, data: Float32Array.from([...CH0, ...CH1]) });
  b.hostTimeMs = T0;
  b.hostPeriodMs = 1;
  aligner.pushBlock(b);
  const w = new Float32Array(S * C);
  if (!aligner.window(T0 + 2, 3, w)) throw new Error('the aligner window should be complete');
  return w;
}

const close = (got: ArrayLike<number>, want: number[]): boolean => want.every((v, i) => Math.abs(got[i]! - v) < 1e-5);

test.serial('the aligner window is time-major and the Predictor reads it as such, on both paths', async (t) => {
  const w = alignedWindow();
  t.deepEqual(Array.from(w), [3, 2, 5, 6, 7, 10]);
  const p = await Predictor.load(await modelDir(), { warmUp: 1 });
  t.is(p.path, 'compiled');
  const y = new Float32Array(2);
  for (const path of ['compiled', 'tfjs'] as const) {
    p.predictWith(path, w, y);
    t.true(close(y, EXPECTED), `${path}: ${Array.from(y).join(',')}`);
    // The model tells the layouts apart: the block's own channel-major data gives something else.
    p.predictWith(path, Float32Array.from([...CH0, ...CH1]), y);
    t.true(close(y, IF_CHANNEL_MAJOR), `${path}, channel-major by mistake: ${Array.from(y).join(',')}`);
  }
  p.dispose();
});

test.serial("ControlLoop.pushWindow hands the time-major window to the worker's predictor unchanged", async (t) => {
  const defs: ActuatorDef[] = [{ name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e9, safe: 1500, unit: 'us' }];
  const loop = await ControlLoop.start({
    schedule: { rateHz: 500, policy: 'skip' },
    watchdog: { staleMs: 5000, overrunStreak: 1000 },
    predictor: { kind: 'model', dir: await modelDir(), warmUp: 1 },
    actuators: defs,
    mapping: [{ actuator: 'wrist', output: 'a', offset: 1500 }],
    startArmed: true,
  });
  t.teardown(() => loop.stop());
  t.is(loop.inputSize, S * C);
  const w = alignedWindow();
  const o = loop.createOutput();
  const t0 = Date.now();
  for (;;) {
    loop.pushWindow(w, T0 + 2);
    if (loop.readLatest(o) && o.inputsSeen > 0 && o.inputHostTimeMs === T0 + 2 && !o.safe) break;
    if (Date.now() - t0 > 10_000) throw new Error('the loop never predicted on the window');
    await new Promise((r) => setImmediate(r));
  }
  t.true(close(o.outputs, EXPECTED), `outputs ${Array.from(o.outputs).join(',')}`);
  t.is(o.commands[0], 1543);
});
