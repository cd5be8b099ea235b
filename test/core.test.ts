import test from 'ava';
import { createBlock, defaultChannelNames } from '../src/core/block.js';
import { Counters } from '../src/core/counters.js';
import { ConfigError, DisconnectedError, ReflexError } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import { monotonicMs } from '../src/time/monotonic.js';

test('createBlock is channel-major and checks its size', (t) => {
  const b = createBlock({ stream: 'emg', channels: 2, samples: 3, rate: 1000 });
  t.is(b.data.length, 6);
  t.deepEqual(b.channelNames, ['ch1', 'ch2']);
  t.is(b.hostPeriodMs, 1);
  const err = t.throws(() => createBlock({ stream: 'emg', channels: 2, samples: 3, rate: 1000, data: new Float32Array(5) }));
  t.true(err instanceof RangeError);
  t.is(defaultChannelNames(4), defaultChannelNames(4));
});

test('errors carry stable codes', (t) => {
  t.is(new ReflexError('E_CONFIG', 'm').code, 'E_CONFIG');
  t.true(new ConfigError('E_USAGE', 'm') instanceof ReflexError);
  const d = new DisconnectedError('gone');
  t.is(d.code, 'E_DISCONNECTED');
  t.true(d.disconnected);
});

test('rate-limited logging suppresses repeats and reports how many', (t) => {
  const lines: string[] = [];
  let now = 0;
  const log = new Logger({ sink: (_l, m) => lines.push(m), level: 'debug', intervalMs: 1000, now: () => now });
  t.true(log.limited('warn', 'crc', 'bad crc'));
  t.false(log.limited('warn', 'crc', 'bad crc'));
  t.false(log.limited('warn', 'crc', 'bad crc'));
  now = 1500;
  t.true(log.limited('warn', 'crc', 'bad crc'));
  t.deepEqual(lines, ['bad crc', 'bad crc (2 similar suppressed)']);
});

test('counters count', (t) => {
  const c = new Counters<'a' | 'b'>();
  c.inc('a');
  c.inc('a', 2);
  t.is(c.get('a'), 3);
  t.is(c.get('b'), 0);
  t.deepEqual(c.snapshot(), { a: 3 });
});

test('monotonicMs matches CLOCK_MONOTONIC from hrtime', (t) => {
  const a = Number(process.hrtime.bigint()) / 1e6;
  const m = monotonicMs();
  const b = Number(process.hrtime.bigint()) / 1e6;
  t.true(m >= a - 0.05 && m <= b + 0.05, `${a} <= ${m} <= ${b}`);
});
