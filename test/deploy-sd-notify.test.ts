/**
 * systemd notifications against a real AF_UNIX datagram socket (a Python receiver stands in for
 * systemd's end): the message format, the health judgement that gates WATCHDOG=1, and a real
 * `reflex run` with NOTIFY_SOCKET set: READY=1, watchdog pings while it runs, none after STOPPING=1.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Logger } from '../src/core/log.js';
import { encodeNotify, notifySocket, SdNotifier, watchdogMs } from '../src/deploy/sd-notify.js';
import { HealthJudge, type RunHealth } from '../src/deploy/service-notify.js';
import type { LoopStatsSnapshot } from '../src/loop/stats.js';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const PY = '/usr/bin/python3';

/** Binds a datagram socket, prints "bound", then one JSON line per datagram until it gets "END". */
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('bound', flush=True)
while True:
    m = s.recv(4096).decode()
    if m == 'END':
        break
    print(json.dumps(m), flush=True)
`;

async function receiver(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-notify-'));
  const path = join(dir, 'notify.sock');
  const py = spawn(PY, ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    py.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const messages: string[] = [];
  const lines = createInterface({ input: py.stdout });
  const bound = new Promise<void>((resolve) =>
    lines.on('line', (l) => {
      if (l === 'bound') resolve();
      else messages.push(JSON.parse(l) as string);
    }),
  );
  /** Resolves once `count` datagrams contain the assignment `key`. */
  const received = (key: string, count: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (messages.filter((m) => m.split('\n').includes(key)).length < count) return;
        lines.off('line', check);
        resolve();
      };
      lines.on('line', check);
      check();
    });
  await bound;
  const exited = once(py, 'exit');
  /** Datagrams on one socket arrive in order: once END is read, everything sent before it has been. */
  const finish = async (): Promise<string[]> => {
    const r = spawnSync(PY, ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"END", sys.argv[1])', path]);
    if (r.status !== 0) throw new Error(`cannot send END: ${String(r.stderr)}`);
    await exited;
    return messages;
  };
  return { path, messages, finish, received };
}

const quiet = new Logger({ format: 'text', component: 'test', write: () => {} });

test('messages: KEY=VALUE lines, control characters removed, bad keys refused', (t) => {
  t.is(encodeNotify({ READY: 1, STATUS: 'running\nWATCHDOG=1' }), 'READY=1\nSTATUS=running WATCHDOG=1');
  t.throws(() => encodeNotify({ ready: 1 }), { message: /upper-case/ });
  t.is(notifySocket({ NOTIFY_SOCKET: '/run/systemd/notify' }), '/run/systemd/notify');
  t.is(notifySocket({ NOTIFY_SOCKET: '@abstract' }), '@abstract');
  t.is(notifySocket({}), null);
  t.is(notifySocket({ NOTIFY_SOCKET: 'relative' }), null);
  t.is(watchdogMs({ WATCHDOG_USEC: '10000000' }, 42), 10_000);
  t.is(watchdogMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42), 10_000);
  t.is(watchdogMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '7' }, 42), null, 'meant for another process');
  t.is(watchdogMs({}, 42), null);
});

/** A run whose counts the test sets; judged by the real HealthJudge. */
function fakeRun() {
  const s = { state: 'running', blocks: 0, cycles: 0, statsBusy: false };
  const health: RunHealth = {
    get state() {
      return s.state;
    },
    counters: { get: (k: string) => (k === 'blocks' ? s.blocks : 0) },
    loop: {
      readStats: (into: LoopStatsSnapshot) => {
        if (s.statsBusy) return false;
        into.cycles = s.cycles;
        return true;
      },
      safe: false,
    },
  };
  return { s, health };
}

test('health: progress of both the loop and the source is healthy; a stalled loop or source, or stopping, is not', (t) => {
  const { s, health } = fakeRun();
  const judge = new HealthJudge();
  t.true(judge.judge(health).healthy, 'baseline');
  s.cycles = 50;
  s.blocks = 40;
  t.true(judge.judge(health).healthy);
  s.blocks = 80;
  const stalled = judge.judge(health);
  t.false(stalled.healthy, 'the loop did not cycle');
  t.regex(stalled.status, /loop stalled/);
  s.cycles = 100;
  const dry = judge.judge(health);
  t.false(dry.healthy, 'the source delivered nothing');
  t.regex(dry.status, /source not streaming/);
  s.cycles = 150;
  s.blocks = 120;
  t.true(judge.judge(health).healthy, 'recovers when both move again');
  s.state = 'paused';
  s.cycles = 200;
  t.true(judge.judge(health).healthy, 'paused by control: the source is stopped on purpose');
  s.statsBusy = true;
  t.false(judge.judge(health).healthy, 'loop stats unreadable twice in a row');
  s.statsBusy = false;
  s.state = 'stopping';
  s.cycles = 300;
  s.blocks = 200;
  t.deepEqual(judge.judge(health), { healthy: false, status: 'stopping' });
});

test('the notifier delivers datagrams to a real unix datagram socket', async (t) => {
  const rx = await receiver(t);
  const n = new SdNotifier({ socket: rx.path, log: quiet });
  n.send({ STATUS: 'hello' });
  n.send({ READY: 1, STATUS: 'two lines' });
  await n.close();
  t.deepEqual(await rx.finish(), ['STATUS=hello', 'READY=1\nSTATUS=two lines']);
  t.is(n.failures, 0);
});

test('a socket nobody serves is a counted, logged failure, never a crash', async (t) => {
  const lines: string[] = [];
  const log = new Logger({ format: 'text', component: 'test', write: (l) => lines.push(l) });
  const n = new SdNotifier({ socket: join(tmpdir(), 'reflex-no-such-notify.sock'), log });
  n.send({ READY: 1 });
  await n.close();
  t.is(n.failures, 1);
  t.regex(lines.join('\n'), /sd_notify helper .* exited/);
});

test('reflex run under NOTIFY_SOCKET: READY=1, WATCHDOG=1 while running, STOPPING=1, no ping after it', async (t) => {
  t.timeout(90_000);
  const rx = await receiver(t);
  // Stopped by SIGTERM once it has pinged twice (--duration 60 only bounds a run that never does), so a slow start on a loaded machine still gets its pings.
  const args = ['run', '--board', 'sim', '--duration', '60', '--no-control', '--quiet', '--pub', 'tcp://127.0.0.1:*'];
  const child = spawn(process.execPath, ['--import=tsx', main, ...args], {
    // 400 ms watchdog: a ping every 200 ms while the run is healthy.
    env: { ...process.env, NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: '400000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit');
  await Promise.race([rx.received('WATCHDOG=1', 2), exited]);
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  t.is(code, 0, err);
  const msgs = await rx.finish();
  const first = (key: string) => msgs.findIndex((m) => m.split('\n').includes(key));
  const ready = first('READY=1');
  const stopping = first('STOPPING=1');
  t.true(msgs[0]!.includes('STATUS=starting'), msgs[0]);
  t.true(ready > 0, `READY=1 after the start-up status: ${JSON.stringify(msgs)}`);
  t.true(stopping > ready, 'STOPPING=1 after READY=1');
  const pings = msgs.map((m, i) => (m.split('\n').includes('WATCHDOG=1') ? i : -1)).filter((i) => i >= 0);
  t.true(pings.length >= 2, `watchdog pings: ${JSON.stringify(msgs)}`);
  t.true(
    pings.every((i) => i > ready && i < stopping),
    'pings only between READY and STOPPING',
  );
  t.is(stopping, msgs.length - 1, 'nothing after STOPPING=1: the loop stops after it');
  for (const i of pings) t.regex(msgs[i]!, /STATUS=running, loop \d+ cycles/);
});
