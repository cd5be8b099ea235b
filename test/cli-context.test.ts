import test from 'ava';
import { ConfigError } from '../src/core/errors.js';
import { numberFlag, parseDuration, withDuration } from '../src/cli/context.js';

test('withDuration fires even when nothing else holds the signal (garbage collection in between)', async (t) => {
  const parent = new AbortController();
  const fired = new Promise<unknown>((resolve) => {
    withDuration(parent.signal, 0.2).addEventListener('abort', (e) => resolve((e.target as AbortSignal).reason), { once: true });
  });
  // Regression: AbortSignal.any() results were collected here and never aborted.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  else for (let i = 0; i < 50; i++) new Array(100_000).fill(i);
  const reason = await fired;
  t.true(reason instanceof Error && /--duration/.test(reason.message));
});

test('withDuration follows the parent and passes through without a duration', (t) => {
  const parent = new AbortController();
  t.is(withDuration(parent.signal, undefined), parent.signal);
  const s = withDuration(parent.signal, 1000);
  parent.abort(new Error('SIGINT'));
  t.true(s.aborted);
  t.is((s.reason as Error).message, 'SIGINT');
});

test('flag parsing errors are ConfigErrors naming the flag', (t) => {
  t.is(parseDuration(undefined), undefined);
  t.is(parseDuration('2.5'), 2.5);
  const e = t.throws(() => parseDuration('-1'));
  t.true(e instanceof ConfigError && e.message.includes('--duration'));
  const e2 = t.throws(() => numberFlag('rate', '5000', 100, [1, 2000]));
  t.true(e2 instanceof ConfigError && e2.message.includes('--rate'));
  t.is(numberFlag('rate', undefined, 100), 100);
});
