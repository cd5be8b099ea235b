/**
 * Injected faults make the matching step fail, with a reason that says what went wrong:
 * a slowed firmware (its sample clock 2 % slow), a firmware whose watchdog never reaches its
 * outputs (--no-watchdog), and a link that does not come back after the unplug (the pty is
 * pulled for 60 s). Every other step is skipped, so each run is short; exit code 1.
 */
import test from 'ava';
import { onlyStep, runSimHil } from './hil-helpers.js';

test('a slowed firmware fails the rate step, naming the error and the limit', async (t) => {
  t.timeout(60_000);
  const r = await runSimHil({}, ['--drift-ppm', '-20000'], ['--duration', '1', ...onlyStep('rate')]);
  t.is(r.code, 1);
  t.deepEqual(r.problems, []);
  const s = r.report.steps.find((x) => x.id === 'rate')!;
  t.is(s.status, 'fail');
  t.regex(s.reason, /ppm slow .*limit ±300 ppm/);
  // The clock model clamps its drift at ±2000 ppm (a larger one is a broken clock); the count sees all of it.
  t.true(s.measured.rate_error_ppm! < -1000 && s.measured.counted_error_ppm! < -15000, JSON.stringify(s.measured));
  t.is(r.report.summary.skipped, 6);
  t.regex(r.junit, /<failure message="[^"]*ppm slow/);
});

test('a firmware that ignores its watchdog fails the firmware-watchdog step', async (t) => {
  t.timeout(60_000);
  const r = await runSimHil({}, ['--no-watchdog'], onlyStep('firmware_watchdog'));
  t.is(r.code, 1);
  const s = r.report.steps.find((x) => x.id === 'firmware_watchdog')!;
  t.is(s.status, 'fail');
  t.regex(s.reason, /still on .* after the host stopped talking: the firmware's watchdog did not put it safe/);
});

test('a link that does not come back fails the unplug step', async (t) => {
  t.timeout(60_000);
  const r = await runSimHil({ reconnectMaxMs: 1000 }, ['--fault-on-usr1', 'disconnect:60000'], onlyStep('unplug'));
  t.is(r.code, 1);
  const s = r.report.steps.find((x) => x.id === 'unplug')!;
  t.is(s.status, 'fail');
  t.regex(s.reason, /no samples \d+ ms after the device came back: the link did not reconnect/);
});
