/**
 * `reflex hil` against the simulated board, every step for real: the host firmware on a
 * pseudo-terminal with its loopback jumper (--loopback), the serial link, clock model,
 * unplug by fault injection, the firmware's own watchdog, then a full runtime with the loop
 * worker, control e-stop and the fake GPIO e-stop. The limits are widened here (this file
 * checks behaviour on a loaded 2-core CI machine, never speed); the shipped sim limits are
 * what `npm run bench -- hil` and .ci/run hold the board to.
 */
import test from 'ava';
import { HIL_STEPS } from '../src/hil/types.js';
import { runSimHil } from './hil-helpers.js';

// A starved firmware process polls late, so its watchdog's 500 ms can read a few ms more here.
const WIDE = {
  ratePpm: 5000,
  loopbackP99Ms: 500,
  loopbackMaxMs: 2000,
  reconnectMaxMs: 15000,
  hostWatchdogPeriods: 50,
  estopMaxMs: 2000,
  firmwareWatchdogMs: 600,
};

test('every step passes on the simulated board; the report validates and names each measure', async (t) => {
  t.timeout(60_000);
  const r = await runSimHil(WIDE, [], ['--duration', '1', '--loopback-steps', '30']);
  const summary = r.report.steps.map((s) => `${s.id}: ${s.status} ${s.reason}`).join('\n');
  t.is(r.code, 0, summary);
  t.deepEqual(r.problems, []);
  t.deepEqual(
    r.report.steps.map((s) => s.id),
    [...HIL_STEPS],
  );
  t.true(
    r.report.steps.every((s) => s.status === 'pass'),
    summary,
  );
  t.true(r.report.ok);
  t.true(r.report.board.simulated);
  const m = Object.fromEntries(r.report.steps.map((s) => [s.id, s.measured]));
  t.is(m.loopback!.steps, 30);
  t.is(m.loopback!.lost_steps, 0);
  t.true(m.loopback!.loopback_p50_ms! <= m.loopback!.loopback_p99_ms! && m.loopback!.loopback_p99_ms! <= m.loopback!.loopback_max_ms!);
  t.true(m.loopback!.high_level! > m.loopback!.low_level!, 'the jumpered channel reads the output');
  // The firmware's watchdog acts 500 ms after it last heard the host, by its own clock.
  t.true(m.firmware_watchdog!.safe_after_ms! >= 500 && m.firmware_watchdog!.safe_after_ms! <= 605, `${m.firmware_watchdog!.safe_after_ms}`);
  t.true(m.unplug!.gap_ms! >= 300, 'the gap spans at least the unplug');
  t.is(m.host_watchdog!.actuators_not_safe, 0);
  t.true(m.host_watchdog!.input_age_ms! >= 100, 'tripped only once the input was older than loop.staleMs');
  t.true(Number.isFinite(m.rate!.rate_error_ppm) && Number.isFinite(m.rate!.counted_error_ppm));
  t.regex(r.junit, /<testsuite name="reflex-hil.sim" tests="7" failures="0"/);
  t.regex(r.stdout, /hil sim: 7 passed, 0 failed, 0 skipped/);
});
