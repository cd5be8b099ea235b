import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REFLEX_TUNABLES, allocatorSetting } from '../src/core/allocator.js';

const BIN = resolve('bin');
const PRINT = ['-e', 'process.stdout.write(JSON.stringify(process.env.GLIBC_TUNABLES ?? null))'];

function envWithout(...keys: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of keys) delete env[k];
  return env;
}

function tunablesUnder(env: NodeJS.ProcessEnv): unknown {
  return JSON.parse(execFileSync(join(BIN, 'reflex-node'), PRINT, { env, encoding: 'utf8' }));
}

test('bin/reflex-node starts Node with the tunables allocator.ts names', (t) => {
  t.is(tunablesUnder(envWithout('GLIBC_TUNABLES', 'REFLEX_MALLOC')), REFLEX_TUNABLES);
});

test('an explicit GLIBC_TUNABLES (even empty) and REFLEX_MALLOC=default are left alone', (t) => {
  t.is(tunablesUnder({ ...envWithout('REFLEX_MALLOC'), GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), 'glibc.malloc.arena_max=2');
  t.is(tunablesUnder({ ...envWithout('REFLEX_MALLOC'), GLIBC_TUNABLES: '' }), '');
  t.is(tunablesUnder({ ...envWithout('GLIBC_TUNABLES'), REFLEX_MALLOC: 'default' }), null);
});

test('allocatorSetting tells the three cases apart', (t) => {
  t.is(allocatorSetting({ GLIBC_TUNABLES: REFLEX_TUNABLES }), 'reflex');
  t.is(allocatorSetting({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), 'custom');
  t.is(allocatorSetting({ GLIBC_TUNABLES: '' }), 'default');
  t.is(allocatorSetting({}), 'default');
});

test('bin/reflex works through a symlink, as npm installs it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-bin-'));
  const link = join(dir, 'reflex');
  symlinkSync(join(BIN, 'reflex'), link);
  const out = execFileSync(link, ['--help'], { encoding: 'utf8', env: envWithout('GLIBC_TUNABLES', 'REFLEX_MALLOC') });
  t.regex(out, /^usage: reflex <command>/m);
});
