import test from 'ava';
import { formatLogRecord, Logger, parseLogFormat, type LogRecord } from '../src/core/log.js';
import { ConfigError } from '../src/core/errors.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function capture(format: 'text' | 'json', extra: { now?: () => number; component?: string } = {}): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = new Logger({ format, level: 'debug', write: (l) => lines.push(l), ...extra });
  return { log, lines };
}

test('text lines: ISO 8601 UTC time, padded level, [component], message, then code and data', (t) => {
  const { log, lines } = capture('text', { component: 'loop' });
  log.info('loop started');
  log.warn('bad frame', { code: 'E_CRC', data: { port: '/dev/ttyACM0', n: 3 } });
  t.is(lines.length, 2);
  const [time, ...rest] = lines[0]!.split(' ');
  t.regex(time!, ISO_UTC);
  t.is(rest.join(' '), 'info  [loop] loop started');
  t.is(lines[1]!.slice(25), 'warn  [loop] bad frame [E_CRC] {"port":"/dev/ttyACM0","n":3}');
});

test('json lines: one object per line with time, level, component, message, and code/data only when present', (t) => {
  const { log, lines } = capture('json', { component: 'runtime' });
  log.info('running board sim');
  log.error('source lost', { code: 'E_DISCONNECTED', data: { attempts: 2, err: new RangeError('gone'), big: 10n, nan: Number.NaN } });
  t.is(lines.length, 2);
  for (const l of lines) t.false(l.includes('\n'));
  const a = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.deepEqual(Object.keys(a), ['time', 'level', 'component', 'message']);
  t.regex(a.time as string, ISO_UTC);
  t.like(a, { level: 'info', component: 'runtime', message: 'running board sim' });
  const b = JSON.parse(lines[1]!) as Record<string, unknown>;
  t.like(b, { level: 'error', component: 'runtime', message: 'source lost', code: 'E_DISCONNECTED' });
  t.deepEqual(b.data, { attempts: 2, err: { name: 'RangeError', message: 'gone' }, big: '10', nan: null });
});

test('a message with newlines or quotes stays one valid JSON line', (t) => {
  const { log, lines } = capture('json');
  const msg = 'line one\nline "two"\t\u0001';
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  log.warn(msg, { data: cyclic });
  t.is(lines.length, 1);
  t.false(lines[0]!.includes('\n'));
  const r = JSON.parse(lines[0]!) as { message: string; data: unknown; component: string };
  t.is(r.message, msg);
  t.is(r.component, 'reflex', 'default component');
  t.deepEqual(r.data, { a: 1, self: '[circular]' });
});

for (const format of ['text', 'json'] as const) {
  test(`rate-limited lines in ${format}: one per interval, the next one says how many were suppressed`, (t) => {
    let now = 0;
    const { log, lines } = capture(format, { now: () => now });
    t.true(log.limited('warn', 'crc', 'bad crc', { code: 'E_CRC' }));
    t.false(log.limited('warn', 'crc', 'bad crc'));
    t.false(log.limited('warn', 'crc', 'bad crc'));
    t.true(log.limited('warn', 'other', 'other key'), 'keys are limited separately');
    now = 1500;
    t.true(log.limited('warn', 'crc', 'bad crc', { code: 'E_CRC' }));
    t.is(lines.length, 3);
    if (format === 'json') {
      const msgs = lines.map((l) => JSON.parse(l) as { message: string; code?: string });
      t.deepEqual(
        msgs.map((m) => m.message),
        ['bad crc', 'other key', 'bad crc (2 similar suppressed)'],
      );
      t.is(msgs[2]!.code, 'E_CRC');
    } else {
      t.true(lines[2]!.endsWith('warn  [reflex] bad crc (2 similar suppressed) [E_CRC]'), lines[2]);
    }
  });
}

test('child loggers share sink, level and rate limits, with their own component', (t) => {
  const now = 0;
  const { log, lines } = capture('json', { now: () => now, component: 'runtime' });
  const run = log.child('run');
  t.is(run.format, 'json');
  t.is(run.level, 'debug');
  t.true(log.limited('warn', 'k', 'from runtime'));
  t.false(run.limited('warn', 'k', 'from run'), 'same key, same limit');
  run.debug('hello');
  t.deepEqual(
    lines.map((l) => (JSON.parse(l) as { component: string }).component),
    ['runtime', 'run'],
  );
});

test('levels below the minimum are dropped; settings() carries format and level to a worker', (t) => {
  const lines: string[] = [];
  const log = new Logger({ format: 'json', level: 'warn', write: (l) => lines.push(l) });
  log.info('no');
  log.warn('yes');
  t.is(lines.length, 1);
  t.deepEqual(log.settings(), { format: 'json', level: 'warn' });
  const worker: string[] = [];
  const w = Logger.fromSettings(structuredClone(log.settings()), 'loop', (l) => worker.push(l));
  w.info('no');
  w.error('worker line');
  t.is(worker.length, 1);
  t.like(JSON.parse(worker[0]!) as object, { level: 'error', component: 'loop', message: 'worker line' });
});

test('a custom sink still receives (level, message) and the record', (t) => {
  const got: Array<[string, string, LogRecord]> = [];
  const log = new Logger({ sink: (l, m, r) => got.push([l, m, r]), level: 'info', component: 'x' });
  log.info('m', { code: 'E_Y' });
  t.is(got.length, 1);
  t.is(got[0]![0], 'info');
  t.is(got[0]![1], 'm');
  t.like(got[0]![2], { level: 'info', component: 'x', message: 'm', code: 'E_Y' });
  t.regex(formatLogRecord('text', got[0]![2]), / info {2}\[x\] m \[E_Y\]$/);
});

test('parseLogFormat accepts text and json and refuses the rest with a usage error', (t) => {
  t.is(parseLogFormat('text'), 'text');
  t.is(parseLogFormat('json'), 'json');
  const err = t.throws(() => parseLogFormat('xml'));
  t.true(err instanceof ConfigError);
  t.is((err as ConfigError).code, 'E_USAGE');
  t.regex(err.message, /--log-format must be one of text, json/);
});
