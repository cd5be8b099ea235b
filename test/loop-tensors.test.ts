import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ControlLoop } from '../src/loop/loop.js';
import { loadBoard } from '../src/boards/load.js';

const MODEL = fileURLToPath(new URL('../models/default', import.meta.url));

test('the worker reports its live tensor count after warm-up and at stop; predicting leaks none', async (t) => {
  t.timeout(60_000);
  const board = loadBoard('sim');
  const actuators = board.actuators.map((a) => ({ ...a, via: 'sim' as const }));
  const loop = await ControlLoop.start({
    schedule: { rateHz: 500, policy: 'skip' },
    watchdog: { staleMs: 60_000, overrunStreak: 1_000_000 },
    predictor: { kind: 'model', dir: MODEL, mode: 'tfjs' },
    actuators,
    mapping: [],
    startArmed: true,
  });
  t.true((loop.predictor.tensors ?? 0) > 0, 'the loaded model holds its weights as tensors');
  t.true(Number.isNaN(loop.tensorsGrowth), 'no figure before stop');
  // Drive the TensorFlow.js path (the one that could leak) with fresh windows.
  const w = new Float32Array(loop.inputSize);
  const out = loop.createOutput();
  for (let i = 0; i < 200; i++) {
    w.fill(i % 7);
    loop.pushWindow(w, performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
  t.true(loop.readLatest(out) && out.inputsSeen > 50, `the loop predicted on the windows (${out.inputsSeen})`);
  await loop.stop();
  t.is(loop.tensorsGrowth, 0);
});
