import test from 'ava';
import { Staleness, StalenessWatch } from '../src/time/staleness.js';

test('a stream is stale after the configured silence, fresh on its next delivery', (t) => {
  let now = 1000;
  const s = new Staleness({ staleAfterMs: 250, now: () => now });
  t.true(s.isStale(), 'never delivered');
  t.is(s.silenceMs(), Number.POSITIVE_INFINITY);
  s.touch();
  now += 250;
  t.false(s.isStale());
  now += 1;
  t.true(s.isStale());
  t.is(s.silenceMs(), 251);
  s.touch(now - 10);
  t.false(s.isStale());
  // An older timestamp never moves freshness backwards.
  s.touch(0);
  t.is(s.lastMs, now - 10);
});

test('rejects a non-positive limit', (t) => {
  t.throws(() => new Staleness({ staleAfterMs: 0 }), { instanceOf: RangeError });
  t.throws(() => new StalenessWatch({ staleAfterMs: -1 }), { instanceOf: RangeError });
});

test('watch emits stale and fresh once per transition, per-stream limits', (t) => {
  let now = 0;
  const w = new StalenessWatch({ staleAfterMs: 100, now: () => now });
  const events: string[] = [];
  w.on('stale', (name, silence) => events.push(`stale ${name} ${silence}`));
  w.on('fresh', (name) => events.push(`fresh ${name}`));
  w.add('emg');
  w.add('tracker', 500);
  t.is(w.check(), 0, 'streams never seen are not reported by default');
  w.touch('emg');
  w.touch('tracker');
  now = 101;
  t.is(w.check(), 1);
  t.is(w.check(), 1);
  now = 501;
  t.is(w.check(), 2);
  w.touch('emg');
  t.is(w.check(), 1);
  t.true(w.isStale('tracker'));
  t.false(w.isStale('emg'));
  t.deepEqual(events, ['stale emg 101', 'stale tracker 501', 'fresh emg']);
  t.throws(() => w.touch('nope'), { instanceOf: RangeError, message: /add\("nope"\)/ });
});

test('reportNeverSeen reports streams that never delivered', (t) => {
  let now = 0;
  const w = new StalenessWatch({ staleAfterMs: 100, now: () => now, reportNeverSeen: true });
  const stale: string[] = [];
  w.on('stale', (name) => stale.push(name));
  w.add('emg');
  now = 50;
  t.is(w.check(), 1);
  t.deepEqual(stale, ['emg']);
});

test('start() checks on a timer until stop()', async (t) => {
  let now = 0;
  const w = new StalenessWatch({ staleAfterMs: 10, now: () => now });
  w.add('emg').touch();
  now = 20;
  const name = await new Promise<string>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('no stale event within 2 s')), 2000);
    w.once('stale', (n) => {
      clearTimeout(guard);
      resolve(n);
    });
    w.start(5);
  });
  w.stop();
  t.is(name, 'emg');
});
