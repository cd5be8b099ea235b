/**
 * `reflex install --root DIR`: every file written under DIR with its mode, and the system
 * commands recorded (printed), never run. The target's /etc/group and /etc/passwd under DIR
 * decide which groups and which user command are needed.
 */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/cli/main.js';
import { applyInstall, planInstall } from '../src/deploy/install.js';
import { loadBoard } from '../src/boards/load.js';
import { loadConfig } from '../src/runtime/config.js';
import { captureCtx } from './_cli-ctx.js';

const repo = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

function tempRoot(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-install-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function install(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const ctx = captureCtx();
  const code = await run(['install', ...args], ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}

const mode = (p: string): number => statSync(p).mode & 0o777;
const commands = (out: string): string[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('not run (--root): '))
    .map((l) => l.slice('not run (--root): '.length));

test('a Pi 5 install on a fresh system: files with their modes, groups created, user added, unit enabled', async (t) => {
  const root = tempRoot(t);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndialout:x:20:\n');
  const r = await install(['--board', 'rpi5', '--root', root, '--prefix', repo]);
  t.is(r.code, 0, r.err);
  t.is(mode(join(root, 'etc/reflex')), 0o750);
  t.is(mode(join(root, 'etc/reflex/run.json')), 0o640);
  t.is(mode(join(root, 'etc/reflex/board.json')), 0o640);
  t.is(mode(join(root, 'etc/systemd/system/reflex.service')), 0o644);
  t.deepEqual(commands(r.out), [
    'groupadd --system gpio',
    'groupadd --system spi',
    'useradd --system --user-group --home-dir /var/lib/reflex --no-create-home --shell /usr/sbin/nologin --groups dialout,gpio,spi reflex',
    'chown -R root:reflex /etc/reflex',
    'systemctl daemon-reload',
    'systemctl enable --now reflex.service',
  ]);
  // The installed configuration is one `reflex run --config` accepts, naming the copied board file.
  const cfg = loadConfig(join(root, 'etc/reflex/run.json'));
  t.is(cfg.board, join(root, 'etc/reflex/board.json'));
  t.is(loadBoard(cfg.board).id, 'rpi5');
  t.deepEqual(cfg.loop.priority, { fifo: 45 });
  const unit = readFileSync(join(root, 'etc/systemd/system/reflex.service'), 'utf8');
  t.true(unit.includes(`ExecStart=${repo}/bin/reflex run --config /etc/reflex/run.json`));
  t.regex(r.out, /note: the board's source\.path is a placeholder/);
  // Nothing else was written under the root.
  t.deepEqual(readdirSync(join(root, 'etc')).sort(), ['group', 'reflex', 'systemd']);
});

test('the simulated board needs no group; an existing user gets exactly the board groups; a reinstall restarts', async (t) => {
  const root = tempRoot(t);
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'etc/systemd/system/reflex.service'), '[Service]\n');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nreflex:x:999:999::/var/lib/reflex:/usr/sbin/nologin\n');
  const sim = await install(['--root', root, '--prefix', repo]);
  t.is(sim.code, 0, sim.err);
  t.deepEqual(commands(sim.out), [
    "usermod --groups '' reflex",
    'chown -R root:reflex /etc/reflex',
    'systemctl daemon-reload',
    'systemctl enable --now reflex.service',
    'systemctl try-restart reflex.service',
  ]);
  const cyton = await install(['--board', 'openbci-cyton', '--user', 'emg', '--root', root, '--prefix', repo]);
  t.is(cyton.code, 0, cyton.err);
  t.true(commands(cyton.out).some((c) => c.startsWith('useradd ') && c.endsWith('--groups dialout emg')));
});

test('--config is installed with its relative paths made absolute and the board replaced', async (t) => {
  const root = tempRoot(t);
  const src = tempRoot(t);
  writeFileSync(join(src, 'rig.json'), JSON.stringify({ runtimeId: 'rig-a', board: 'sim', model: 'models/mine', loop: { rateHz: 200 } }));
  const r = await install(['--board', 'sim', '--config', join(src, 'rig.json'), '--root', root, '--prefix', repo]);
  t.is(r.code, 0, r.err);
  const raw = JSON.parse(readFileSync(join(root, 'etc/reflex/run.json'), 'utf8')) as Record<string, unknown>;
  t.deepEqual(raw, { runtimeId: 'rig-a', board: 'board.json', model: join(src, 'models/mine'), loop: { rateHz: 200 } });
  const bad = join(src, 'bad.json');
  writeFileSync(bad, JSON.stringify({ loop: { rateHz: 5000 } }));
  const refused = await install(['--config', bad, '--root', root, '--prefix', repo]);
  t.is(refused.code, 2);
  t.regex(refused.err, /loop\.rateHz/);
});

test('--dry-run prints the plan and writes nothing', async (t) => {
  const root = tempRoot(t);
  const r = await install(['--board', 'rpi4', '--root', root, '--prefix', repo, '--dry-run']);
  t.is(r.code, 0, r.err);
  t.deepEqual(readdirSync(root), []);
  t.regex(r.out, /write \/etc\/systemd\/system\/reflex\.service \(mode 644/);
  t.regex(r.out, /useradd --system .* reflex/);
  t.regex(r.out, /systemctl enable --now reflex\.service/);
});

test('bad usage is exit 2 naming the flag', async (t) => {
  for (const [args, msg] of [
    [['--user', 'Root User'], /--user/],
    [['--prefix', '/home/pi/reflex'], /ProtectHome/],
    [['--cpus', 'all'], /--cpus/],
    [['--watchdog', '1'], /--watchdog/],
    [['--board', 'nope'], /no board "nope"/],
  ] as const) {
    const r = await install([...args, '--root', '/nonexistent-reflex-root', '--dry-run']);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.err, msg);
  }
});

test('a tree elsewhere is copied into the prefix, executables kept executable', (t) => {
  const pkg = tempRoot(t);
  const root = tempRoot(t);
  for (const d of ['bin', 'dist/cli', 'node_modules/x', 'boards']) mkdirSync(join(pkg, d), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"reflex"}');
  writeFileSync(join(pkg, 'bin/reflex'), '#!/bin/sh\n');
  chmodSync(join(pkg, 'bin/reflex'), 0o755);
  writeFileSync(join(pkg, 'dist/cli/main.js'), '');
  writeFileSync(join(pkg, 'node_modules/x/index.js'), '');
  const opts = { board: 'sim', user: 'reflex', prefix: '/opt/reflex', root, packageRoot: pkg, watchdogSec: 10 };
  const plan = planInstall(opts);
  t.deepEqual(plan.copy, ['package.json', 'bin', 'dist', 'boards', 'node_modules']);
  const recorded: string[][] = [];
  applyInstall(plan, opts, null, recorded);
  t.is(mode(join(root, 'opt/reflex/bin/reflex')), 0o755);
  t.is(readFileSync(join(root, 'opt/reflex/package.json'), 'utf8'), '{"name":"reflex"}');
  t.true(statSync(join(root, 'opt/reflex/node_modules/x/index.js')).isFile());
  t.deepEqual(recorded.at(-1), ['systemctl', 'enable', '--now', 'reflex.service']);
  // A prefix with no Reflex in it is refused before anything in /etc is touched.
  const empty = tempRoot(t);
  t.throws(() => applyInstall(planInstall({ ...opts, root: empty, packageRoot: empty }), { ...opts, root: empty, packageRoot: empty }, null), {
    message: /bin\/reflex does not exist/,
  });
  t.deepEqual(readdirSync(empty), []);
});
