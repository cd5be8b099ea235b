import test from 'ava';
import { applyThreadPriority, currentTid } from '../src/loop/priority.js';

test('thread priority: refusals are reported, not thrown', (t) => {
  t.true(currentTid() > 0);
  const r = applyThreadPriority({ fifo: 0 });
  t.deepEqual(r.applied, []);
  t.regex(r.failed[0]!, /fifo priority must be 1\.\.99/);
  // Raising nice (lower priority) is always allowed for the calling thread.
  const n = applyThreadPriority({ nice: 1 });
  t.deepEqual(n.applied, ['nice 1']);
});
