/**
 * The host firmware's HIL flags at the command line: bad values exit 2 naming the flag (the
 * behaviour of --loopback, --no-watchdog and the signal faults is checked end to end by
 * hil-sim and hil-faults), and a board may pass them in source.firmwareArgs.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { firmwareBinaryPath } from '../src/devices/sim/firmware.js';
import { validateFirmwareArgs } from '../src/boards/firmware-args.js';
import { Validator } from '../src/core/validate.js';

test('bad HIL flag values exit 2 with the reason', (t) => {
  const bin = firmwareBinaryPath();
  const cases: Array<[string[], RegExp]> = [
    [['--loopback', '4:1'], /bad --loopback 4:1/],
    [['--loopback', '1'], /bad --loopback 1/],
    [['--loopback', '1:16'], /bad --loopback 1:16/],
    [['--fault-on-usr1', 'deaf:x'], /bad signal fault deaf:x/],
    [['--fault-on-usr2', 'melt:1'], /bad signal fault melt:1/],
    [['--fault-on-usr1', 'stall:10@5'], /bad signal fault stall:10@5/],
  ];
  for (const [args, why] of cases) {
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 5000 });
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, why);
  }
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 5000 });
  for (const flag of ['--loopback ACT:CH', '--no-watchdog', '--fault-on-usr1 KIND:PARAM', '--fault-on-usr2 KIND:PARAM'])
    t.true(help.stdout.includes(flag), flag);
});

test('a board may pass the HIL flags; their values are checked at load', (t) => {
  const ok = ['--loopback', '2:7', '--no-watchdog', '--fault-on-usr1', 'disconnect:300', '--fault-on-usr2', 'deaf:1500'];
  t.deepEqual(validateFirmwareArgs(new Validator('b.json'), ok, '/tmp'), ok);
  t.throws(() => validateFirmwareArgs(new Validator('b.json'), ['--loopback', '9:1'], '/tmp'), { message: /firmwareArgs\[1\].*ACT:CH/ });
  t.throws(() => validateFirmwareArgs(new Validator('b.json'), ['--fault-on-usr1', 'deaf:'], '/tmp'), { message: /firmwareArgs\[1\]/ });
});
