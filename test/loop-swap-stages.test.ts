/**
 * The loop worker's side of a model swap (swap.ts) on a fake clock, without threads: a request
 * is read from its port only when CTRL.swap moved; each stage runs only in a gap long enough for
 * it, the rest waits for the next gap; a refused or timed-out swap leaves the running predictor.
 */
import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { OutputMap } from '../src/actuate/mapping.js';
import { SafetyLimiter } from '../src/actuate/safety.js';
import type { ActuatorDef } from '../src/boards/types.js';
import { ControlCore, type CorePredictor } from '../src/loop/core.js';
import type { SwapRequest, WorkerMessage } from '../src/loop/messages.js';
import { CTRL, createControl, request } from '../src/loop/shared.js';
import { ModelSwapper } from '../src/loop/swap.js';
import type { KernelSpec } from '../src/predict/kernel-spec.js';

const defs: ActuatorDef[] = [{ name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 1e9, safe: 1500, unit: 'us' }];
const mapping = [{ actuator: 'wrist', output: 'y', scale: 1, offset: 1500 }];

/** The running predictor: y = 7 whatever the window. */
type Seven = CorePredictor & { disposed: number; dispose(): void };
const sevenPredictor = (): Seven => ({
  inputSize: 2,
  outputSize: 1,
  disposed: 0,
  predict: (_x, y) => void (y[0] = 7),
  dispose() {
    this.disposed++;
  },
});

/** The new model as data: y = 2 * x0 + 3 * x1 (a one-op dense kernel, identity scaling). */
function request2x3(id: number, over: Partial<SwapRequest> = {}): SwapRequest {
  const spec: KernelSpec = {
    format: 'reflex-kernel',
    version: 1,
    inputShape: [2],
    outputShape: [1],
    ops: [{ op: 'dense', layer: 'd', inShape: [2], units: 1, act: 'linear', kernelT: Float32Array.from([2, 3]), bias: null }],
  };
  return {
    id,
    dir: '/models/new',
    spec,
    outputNames: ['y'],
    needMs: 0.3,
    giveUpMs: 100,
    scaling: {
      channels: 2,
      samples: 1,
      mean: new Float32Array(2),
      invStd: Float32Array.from([1, 1]),
      outMean: new Float32Array(1),
      outStd: Float32Array.from([1]),
    },
    ...over,
  };
}

function rig() {
  let now = 1000;
  const seven = sevenPredictor();
  const ctrl = createControl();
  const ch = new MessageChannel();
  const posted: WorkerMessage[] = [];
  const core = new ControlCore({
    predictor: seven,
    map: new OutputMap(mapping, defs, ['y']),
    limiter: new SafetyLimiter(defs),
    watchdog: { staleMs: 1e9, overrunStreak: 1e9 },
    startArmed: true,
    predictEveryCycle: true,
    onEvent: () => {},
  });
  core.input.set([1, 1]);
  const sw = new ModelSwapper({
    port: ch.port2,
    ctrl,
    core,
    actuators: defs,
    mapping,
    spinMs: 0.1,
    clock: () => now,
    post: (m) => posted.push(m),
    retire: (old) => {
      (old as Seven).dispose();
      return 0;
    },
  });
  const send = (r: SwapRequest): void => {
    ch.port1.postMessage(r);
    request(ctrl, CTRL.swap);
  };
  const output = (): number => {
    core.cycle(0, now, 0.01, true, now);
    return core.outputs[0]!;
  };
  const advance = (ms: number): void => void (now += ms);
  return { sw, seven, send, output, posted, advance, now: () => now, close: () => ch.port1.close() };
}

test('a message waits on the port until CTRL.swap says so; then stages run only in gaps long enough', (t) => {
  const r = rig();
  t.teardown(r.close);
  r.sw.poll();
  t.false(r.sw.pending);
  r.send(request2x3(1));
  r.sw.poll();
  t.true(r.sw.pending);
  // 0.2 ms before the deadline, spin 0.1: 0.1 ms left, less than the build's 0.15.
  t.false(r.sw.step(r.now() + 0.2, 10));
  t.is(r.output(), 7, 'the old model runs');
  // Enough for the build, not for the trial (0.3 ms).
  t.true(r.sw.step(r.now() + 0.4, 10));
  t.is(r.posted.length, 0);
  t.is(r.output(), 7, 'still the old model until the swap stage');
  // A full gap: trial, swap, retire, acknowledge.
  t.true(r.sw.step(r.now() + 5, 11));
  t.false(r.sw.pending);
  t.like(r.posted[0], { type: 'swapped', id: 1, cycle: 11 });
  const ack = r.posted[0] as Extract<WorkerMessage, { type: 'swapped' }>;
  t.true(ack.marginMs > 0);
  t.is(r.seven.disposed, 1, 'the old model was retired');
  t.is(r.output(), 5, 'y = 2 * 1 + 3 * 1 from the next cycle');
});

test('no gap long enough within giveUpMs: refused, the old model keeps running', (t) => {
  const r = rig();
  t.teardown(r.close);
  r.send(request2x3(2, { needMs: 50 }));
  r.sw.poll();
  t.true(r.sw.step(r.now() + 1, 1));
  for (let i = 0; i < 20; i++) {
    r.advance(10);
    r.sw.step(r.now() + 1, i + 2);
  }
  t.false(r.sw.pending);
  t.like(r.posted[0], { type: 'swap-failed', id: 2, code: 'E_SWAP_NO_GAP' });
  t.is(r.output(), 7);
});

test('a spec that does not build, or a model giving NaN on the current window, is refused and changes nothing', (t) => {
  const r = rig();
  t.teardown(r.close);
  const bad = request2x3(3);
  (bad.spec.ops[0] as { kernelT: Float32Array }).kernelT = new Float32Array(1);
  r.send(bad);
  r.sw.poll();
  r.sw.step(r.now() + 5, 1);
  t.like(r.posted[0], { type: 'swap-failed', id: 3, code: 'E_MODEL_FORMAT' });
  t.regex((r.posted[0] as { message: string }).message, /\/models\/new.*old model keeps running/);
  const nan = request2x3(4);
  nan.scaling.invStd = Float32Array.from([Number.NaN, 1]);
  r.send(nan);
  r.sw.poll();
  r.sw.step(r.now() + 5, 2);
  t.like(r.posted[1], { type: 'swap-failed', id: 4, code: 'E_SWAP_NON_FINITE' });
  t.is(r.output(), 7);
  // A newer request replaces one still waiting for its gap.
  r.send(request2x3(5, { needMs: 50 }));
  r.sw.poll();
  r.send(request2x3(6));
  r.sw.poll();
  t.like(r.posted[2], { type: 'swap-failed', id: 5, code: 'E_SWAP_SUPERSEDED' });
  r.sw.step(r.now() + 5, 3);
  t.like(r.posted[3], { type: 'swapped', id: 6 });
  t.is(r.output(), 5);
});
