import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildCyclic, causeOf, FloorError, measureFloor, parseFloorLine, type FloorResult } from '../bench/platform-floor.js';

let bin = '';
test.before(async () => {
  // Built once here so the tests below do not race to compile it.
  bin = await buildCyclic();
});

const isRoot = process.getuid?.() === 0;
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

function checkShape(t: import('ava').ExecutionContext, r: FloorResult, cycles: number): void {
  // Counted by deadline: every deadline either ran or was skipped, however loaded the machine.
  t.is(r.cycles, cycles);
  t.is(r.run + r.skipped, cycles);
  t.true(r.run >= 1);
  for (const [k, v] of Object.entries(r)) {
    if (typeof v === 'number') t.true(Number.isFinite(v), `${k} is ${v}`);
  }
  t.true(r.minUs >= 0, 'a cycle never starts before its deadline');
  t.true(r.minUs <= r.p50Us && r.p50Us <= r.p99Us && r.p99Us <= r.p999Us && r.p999Us <= r.maxUs);
  t.true(r.over1ms <= r.over100us && r.over100us <= r.run);
  t.is(r.worst.length, Math.min(5, r.run));
  t.is(r.worst[0]!.latenessUs, r.maxUs);
  for (let i = 1; i < r.worst.length; i++) t.true(r.worst[i - 1]!.latenessUs >= r.worst[i]!.latenessUs);
  for (const w of r.worst) {
    t.true(w.cycle >= 1 && w.cycle <= cycles);
    t.true(w.offsetMs >= 0);
    t.true(w.cpu >= 0);
    t.not(w.onCpuUs, null, '/proc/thread-self/schedstat is readable on Linux');
    t.true(w.unaccountedUs! >= 0);
    t.not(w.cause, null);
  }
  t.true(r.elapsedS > 0);
  t.not(r.steal, null, '/proc/stat is readable on Linux');
  t.true(r.steal!.jiffies <= r.steal!.totalJiffies);
  t.true(r.steal!.perCpu.length >= 1);
}

test('sleep-only run at 1 kHz for 0.3 s: exactly 300 deadlines, ordered percentiles, all fields', async (t) => {
  const r = await measureFloor({ hz: 1000, seconds: 0.3, spinUs: 0 });
  checkShape(t, r, 300);
  t.is(r.spinUs, 0);
  t.is(r.policy, 'SCHED_OTHER');
  t.is(r.fifoRequested, null);
  t.false(r.fifoApplied);
  t.deepEqual(r.errors, []);
  t.is(r.sampling, null);
  // With no spin budget the sleep ends at the deadline itself, so lateness is how late it woke plus the (empty) spin.
  for (const w of r.worst) t.true(Math.abs(w.latenessUs - (w.wokeLateUs + w.spinWallUs)) <= 0.2);
});

test('spin mode with steal sampling: the loop wake strategy, sampled every 10 ms', async (t) => {
  const r = await measureFloor({ hz: 1000, seconds: 0.3, spinUs: 150, stealMs: 10 });
  checkShape(t, r, 300);
  t.is(r.spinUs, 150);
  t.not(r.sampling, null);
  t.is(r.sampling!.intervalMs, 10);
  t.true(r.sampling!.samples >= 2);
  for (const w of r.worst) {
    t.not(w.stealJiffiesCpu, null);
    t.true(w.stealJiffiesAll! >= w.stealJiffiesCpu!);
  }
});

test('--fifo 50 applies when permitted and is reported, not fatal, when not', async (t) => {
  const r = await measureFloor({ hz: 1000, seconds: 0.1, fifo: 50, mlock: true });
  checkShape(t, r, 100);
  t.is(r.fifoRequested, 50);
  if (isRoot) {
    t.true(r.fifoApplied);
    t.is(r.policy, 'SCHED_FIFO 50');
    t.deepEqual(r.errors, []);
    t.true(r.mlock);
  } else {
    t.false(r.fifoApplied);
    t.regex(r.errors.join('\n'), /SCHED_FIFO/);
  }
});

(isRoot && setpriv ? test : test.skip)('without CAP_SYS_NICE the SCHED_FIFO failure is in errors and the run still completes', async (t) => {
  // Root with CAP_SYS_NICE dropped and RLIMIT_RTPRIO 0 is refused like an unprivileged user.
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      setpriv!,
      ['--inh-caps=-sys_nice', '--bounding-set=-sys_nice', '--', bin, '--hz', '1000', '--seconds', '0.1', '--fifo', '50'],
      { encoding: 'utf8' },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  const r = parseFloorLine(out.trim());
  checkShape(t, r, 100);
  t.is(r.fifoRequested, 50);
  t.false(r.fifoApplied);
  t.is(r.policy, 'SCHED_OTHER');
  t.regex(r.errors[0] ?? '', /^SCHED_FIFO .*: Operation not permitted$/);
});

test('bad options are an E_FLOOR_OPTIONS FloorError before anything runs', async (t) => {
  for (const o of [
    { hz: 0, seconds: 1 },
    { hz: 1000, seconds: -1 },
    { hz: 1000, seconds: 1, fifo: 100 },
    { hz: 1000, seconds: 1, spinUs: -5 },
    { hz: 1e5, seconds: 1e4 },
  ]) {
    const err = await t.throwsAsync(measureFloor(o), { instanceOf: FloorError });
    t.is(err.code, 'E_FLOOR_OPTIONS');
  }
});

test('no C compiler: a clear error naming what to install', async (t) => {
  const err = await t.throwsAsync(buildCyclic('/nonexistent/reflex-no-cc'));
  t.is((err as { code?: string }).code, 'E_FLOOR_NO_CC');
  t.regex(err.message, /apt-get install gcc|set CC/);
});

test('output missing a field is rejected, not half-read', (t) => {
  const err = t.throws(() => parseFloorLine('{"hz":1000,"cycles":3}'));
  t.is((err as { code?: string }).code, 'E_FLOOR_OUTPUT');
  const bad = t.throws(() => parseFloorLine('not json'));
  t.is((bad as { code?: string }).code, 'E_FLOOR_OUTPUT');
});

test('cause: the largest part of the window, with on-time spinning not counted as on-CPU excess', (t) => {
  const base = { cycle: 1, offsetMs: 1, cpu: 0, switchedIn: 1, stealJiffiesCpu: null, stealJiffiesAll: null, cause: null, wokeLateUs: 0 };
  // Woke on time, spun 150 us as planned plus 5 ms the thread never got: not running.
  t.is(causeOf({ ...base, latenessUs: 5000, runQueueUs: 0, onCpuUs: 155, unaccountedUs: 5000, spinWallUs: 5150 }), 'unaccounted');
  t.is(causeOf({ ...base, latenessUs: 3000, runQueueUs: 3000, onCpuUs: 150, unaccountedUs: 0, spinWallUs: 150 }), 'run_queue');
  t.is(causeOf({ ...base, latenessUs: 900, runQueueUs: 0, onCpuUs: 1100, unaccountedUs: 20, spinWallUs: 1050 }), 'on_cpu');
  t.is(causeOf({ ...base, latenessUs: 900, runQueueUs: null, onCpuUs: null, unaccountedUs: null, spinWallUs: 0 }), null);
});
