/**
 * z85 keys may start with "-": `--server-key -Xy...` must reach the command as a key, not be
 * refused by node's parseArgs as a missing value (a deploy over CURVE failed that way on CI).
 */
import test from 'ava';
import { curveKeyPair } from 'zeromq';
import { joinKeyValues } from '../src/cli/argv.js';
import { run } from '../src/cli/main.js';
import { captureCtx } from './_cli-ctx.js';

function keyStartingWithDash(): string {
  for (;;) {
    const k = curveKeyPair().publicKey;
    if (k.startsWith('-')) return k;
  }
}

test('a server key that starts with "-" is joined to its flag; other arguments pass unchanged', (t) => {
  const key = keyStartingWithDash();
  t.deepEqual(joinKeyValues(['ctl', 'tcp://h:1', 'status', '--server-key', key, '--client-key-file', 'me.key']), [
    'ctl',
    'tcp://h:1',
    'status',
    `--server-key=${key}`,
    '--client-key-file',
    'me.key',
  ]);
  // Not a key: left for parseArgs to judge (and refuse).
  t.deepEqual(joinKeyValues(['--server-key', '--quiet']), ['--server-key', '--quiet']);
  t.deepEqual(joinKeyValues(['--server-key', 'abc']), ['--server-key', 'abc']);
});

test('reflex deploy with such a key gets past flag parsing to its own checks', async (t) => {
  const ctx = captureCtx();
  const code = await run(
    ['deploy', '/nonexistent-model', 'tcp://10.0.0.1:1', '--server-key', keyStartingWithDash(), '--client-key-file', '/nonexistent.key'],
    ctx,
  );
  t.is(code, 2, ctx.err());
  t.notRegex(ctx.err(), /ambiguous|ERR_PARSE_ARGS/);
});
