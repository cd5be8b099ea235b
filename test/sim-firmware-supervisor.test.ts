/**
 * The supervisor of the simulated firmware with the real host build: a killed firmware's
 * link disappears (as a USB unplug removes /dev/serial/by-id), the firmware is restarted
 * and recreates it; a firmware that keeps failing is given up on, with the reason.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReflexError } from '../src/core/errors.js';
import { startSimFirmware } from '../src/devices/sim/firmware.js';
import { SimFirmwareSupervisor, SupervisorCodes, type FirmwareExit, type FirmwareRestart } from '../src/devices/sim/firmware-supervisor.js';

async function tmp(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reflex-simsup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function once<T>(sup: SimFirmwareSupervisor, event: 'exit' | 'restart' | 'failed', check?: (v: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`no '${event}' from the supervisor within 10 s`)), 10_000);
    sup.once(event, (v: unknown) => {
      clearTimeout(guard);
      try {
        check?.(v as T); // runs inside the event, before the supervisor moves on
        resolve(v as T);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

test('kill -9: the link is removed, the firmware is restarted and points the link at its new pty', async (t) => {
  const link = join(await tmp(t), 'reflex-sim');
  const sup = await SimFirmwareSupervisor.start({ firmware: { rate: 1000, channels: 2, link }, restartMinMs: 50 });
  t.teardown(() => void sup.stop());
  const first = sup.firmware!;
  t.is(await readlink(link), first.path);

  let linkAtExit: boolean | null = null;
  const exited = once<FirmwareExit>(sup, 'exit', () => (linkAtExit = existsSync(link)));
  const restarted = once<FirmwareRestart>(sup, 'restart');
  process.kill(first.pid, 'SIGKILL');
  const e = await exited;
  t.like(e, { pid: first.pid, signal: 'SIGKILL', pty: first.path, linkRemoved: true, willRestart: true, restartInMs: 50 });
  t.false(linkAtExit, "the dead pty's link is gone when the exit is reported");
  const r = await restarted;
  t.not(r.pid, first.pid);
  t.like(r, { restarts: 1, inARow: 1 });
  t.is(sup.firmware?.pid, r.pid);
  t.is(await readlink(link), r.pty, 'the new firmware recreated the link');
  t.deepEqual(sup.counters(), { exits: 1, restarts: 1, restart_failures: 0, gave_up: 0 });

  // Stopping is not a crash: no restart, and the firmware removes its link itself.
  await sup.stop();
  t.false(existsSync(link));
  t.deepEqual(sup.counters(), { exits: 1, restarts: 1, restart_failures: 0, gave_up: 0 });
});

test('a firmware that cannot come back is retried with backoff, then given up on with the reason', async (t) => {
  const link = join(await tmp(t), 'reflex-sim');
  let launches = 0;
  const sup = await SimFirmwareSupervisor.start({
    firmware: { channels: 1, link },
    restartMinMs: 10,
    maxRestarts: 3,
    // The first start is the real firmware; every restart gets a flag it refuses, as a broken build would.
    launch: (o) => (launches++ === 0 ? startSimFirmware(o) : startSimFirmware({ ...o, extraArgs: ['--no-such-flag'] })),
  });
  t.teardown(() => void sup.stop());
  const warnings: ReflexError[] = [];
  sup.on('warning', (w) => warnings.push(w));
  const failed = once<ReflexError>(sup, 'failed');
  process.kill(sup.firmware!.pid, 'SIGKILL');
  const err = await failed;
  t.is(err.code, SupervisorCodes.gaveUp);
  t.regex(err.message, /unknown flag --no-such-flag/);
  t.regex(err.message, /3 restarts in a row/);
  t.is(launches, 4);
  t.is(warnings.length, 3);
  t.deepEqual(sup.counters(), { exits: 1, restarts: 0, restart_failures: 3, gave_up: 1 });
  t.is(sup.firmware, null);
  t.false(existsSync(link));
  t.is(await sup.stop(), null);
});
