import test from 'ava';
import { createBlock } from '../src/core/block.js';
import { applyThreadPriority, currentTid } from '../src/loop/priority.js';
import { FeatureWindow } from '../src/loop/window.js';

test('feature window: channel-major, newest sample last, one window per feature sample once full', (t) => {
  const fw = new FeatureWindow(2, 3);
  const got: number[][] = [];
  const block = (vals: number[][]) => createBlock({ stream: 'f', channels: 2, samples: vals[0]!.length, rate: 100, data: Float32Array.from(vals.flat()) });
  t.is(fw.push(block([[1, 2], [10, 20]]), (w) => got.push(Array.from(w))), 0);
  t.is(fw.push(block([[3, 4], [30, 40]]), (w) => got.push(Array.from(w))), 2);
  t.deepEqual(got, [[1, 2, 3, 10, 20, 30], [2, 3, 4, 20, 30, 40]]);
  t.throws(() => fw.push(createBlock({ stream: 'f', channels: 3, samples: 1, rate: 100 }), () => {}));
});

test('thread priority: refusals are reported, not thrown', (t) => {
  t.true(currentTid() > 0);
  const r = applyThreadPriority({ fifo: 0 });
  t.deepEqual(r.applied, []);
  t.regex(r.failed[0]!, /fifo priority must be 1\.\.99/);
  // Raising nice (lower priority) is always allowed for the calling thread.
  const n = applyThreadPriority({ nice: 1 });
  t.deepEqual(n.applied, ['nice 1']);
});
