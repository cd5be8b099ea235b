/**
 * The unit `reflex install` writes, checked by systemd itself: `systemd-analyze verify` on the
 * rendered file (Debian's `systemd` package), with a stub ExecStart target so it can check the
 * command, and no warning allowed (verify exits 0 on unknown keys and only warns).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderUnit, type UnitOptions } from '../src/deploy/unit.js';

function analyze(): string {
  const r = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** Writes the unit as reflex.service next to a stub PREFIX/bin/reflex and verifies it. */
function verify(t: { teardown(fn: () => void): void }, opts: Omit<UnitOptions, 'prefix'>, edit = (u: string) => u) {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = join(dir, 'opt');
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  writeFileSync(join(prefix, 'bin', 'reflex'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(prefix, 'bin', 'reflex'), 0o755);
  const unit = edit(renderUnit({ ...opts, prefix }));
  const file = join(dir, 'reflex.service');
  writeFileSync(file, unit);
  const r = spawnSync(analyze(), ['verify', file], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr.trim(), stdout: r.stdout.trim(), unit };
}

const base = { configDir: '/etc/reflex', user: 'reflex', board: 'rpi5', watchdogSec: 10 };

test('systemd-analyze is installed (Debian package systemd)', (t) => {
  t.not(analyze(), '', 'install Debian systemd: the unit tests need systemd-analyze');
});

test('the unit passes systemd-analyze verify with no warning', (t) => {
  const r = verify(t, base);
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '', 'no warning either');
  t.regex(r.unit, /^Type=notify$/m);
  t.regex(r.unit, /^WatchdogSec=10s$/m);
  t.regex(r.unit, /^Restart=on-failure$/m);
  t.regex(r.unit, /^NotifyAccess=all$/m);
  t.regex(r.unit, /^ExecStart=\S+\/bin\/reflex run --config \/etc\/reflex\/run\.json --log-format json --quiet$/m);
  t.notRegex(r.unit, /^ExecStart=.*--arm/m, 'a restarted run must come up safe');
  t.notRegex(r.unit, /^(PrivateDevices|DeviceAllow|ProtectClock|ProtectKernelTunables|RestrictRealtime|MemoryDenyWriteExecute)=/m);
});

test('with CPU affinity and another user and watchdog, it still verifies', (t) => {
  const r = verify(t, { ...base, user: 'emglab', watchdogSec: 30, cpuAffinity: '0-3' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  t.regex(r.unit, /^CPUAffinity=0-3$/m);
  t.regex(r.unit, /^User=emglab$/m);
  t.regex(r.unit, /^StateDirectory=emglab$/m);
});

test('the check catches what systemd would ignore or refuse', (t) => {
  const unknown = verify(t, base, (u) => u.replace('LockPersonality=yes', 'LockPersonality=yes\nLockPersonalty=yes'));
  t.regex(unknown.stderr, /Unknown key 'LockPersonalty'/);
  const missing = verify(t, base, (u) => u.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/bin/reflex'));
  t.not(missing.status, 0);
  t.regex(missing.stderr, /not executable/);
});

test('paths and CPU lists systemd would mangle are refused', (t) => {
  t.throws(() => renderUnit({ ...base, prefix: '/opt/my reflex' }), { message: /prefix must be an absolute path/ });
  t.throws(() => renderUnit({ ...base, prefix: '/opt/re%flex' }), { message: /prefix/ });
  t.throws(() => renderUnit({ ...base, prefix: 'opt/reflex' }), { message: /prefix/ });
  t.throws(() => renderUnit({ ...base, prefix: '/opt/reflex', cpuAffinity: '0-3; rm' }), { message: /CPU list/ });
  t.throws(() => renderUnit({ ...base, prefix: '/opt/reflex', watchdogSec: 1 }), { message: /watchdogSec/ });
});
