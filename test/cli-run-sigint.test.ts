/**
 * Ctrl-C on `reflex run --board sim` in a terminal: SIGINT goes to the whole foreground process
 * group. The runtime must still put the actuators safe THROUGH the simulated firmware and stop
 * it last; before, the firmware shared the group, died of the same SIGINT, and the safe values
 * met a dead port (EIO).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('SIGINT to the process group (Ctrl-C): safe values reach the firmware, no EIO, exit 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-sigint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const actuatorLog = join(dir, 'actuators.log');
  const raw = JSON.parse(readFileSync(join(root, 'boards/sim.json'), 'utf8')) as {
    source: Record<string, unknown>;
    actuators: { name: string; safe: number }[];
  };
  raw.source.firmwareArgs = ['--actuator-log', actuatorLog];
  const boardFile = join(dir, 'board.json');
  writeFileSync(boardFile, JSON.stringify(raw));

  // detached: a process group of its own, as a shell gives a foreground job.
  const child = spawn(
    process.execPath,
    ['--import=tsx', join(root, 'src/cli/main.ts'), 'run', '--board', boardFile, '--no-model', '--pub', 'tcp://127.0.0.1:*', '--control', 'tcp://127.0.0.1:*'],
    { cwd: root, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  let err = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    // Streaming and the tracker delivering: the firmware is up and the link is live.
    if (!sent && /running board/.test(err) && /tracker feed "tracker" delivering/.test(err)) {
      sent = true;
      process.kill(-child.pid!, 'SIGINT');
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  t.true(sent, err);
  t.is(code, 0, err);
  t.notRegex(err, /EIO|ACTUATE failed|not acknowledged/, err);

  // The firmware's own log: after the SIGINT every channel was driven to its safe value.
  const lines = readFileSync(actuatorLog, 'utf8').trim().split('\n');
  const last = new Map<number, number>();
  for (const l of lines) {
    const f = l.trim().split(/\s+/);
    if (f.length === 4) last.set(Number(f[1]), Number(f[3]));
  }
  raw.actuators.forEach((a, ch) => t.is(last.get(ch), a.safe, `${a.name} (channel ${ch}) last driven to its safe value: ${lines.slice(-6).join(' | ')}`));
});
