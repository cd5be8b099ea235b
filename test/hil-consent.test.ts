import test from 'ava';
import { loadBoard } from '../src/boards/load.js';
import { run } from '../src/cli/main.js';
import { CoreCodes } from '../src/core/codes.js';
import { ConfigError } from '../src/core/errors.js';
import { consentToDrive, outputsWarning } from '../src/hil/consent.js';
import { nonInteractiveOperator, type Operator } from '../src/hil/operator.js';
import { captureCtx } from './_cli-ctx.js';

/** A person at the prompt who types `answer`; records what they were asked. */
function person(answer: string): Operator & { asked: string[] } {
  const asked: string[] = [];
  return {
    interactive: true,
    asked,
    confirm: () => Promise.resolve(),
    ask: (q) => {
      asked.push(q);
      return Promise.resolve(answer);
    },
    say: () => undefined,
  };
}

const signal = new AbortController().signal;
const rpi5 = loadBoard('rpi5');

test('hardware without a terminal and without --outputs-unloaded: refused with exit 2 before anything is opened', async (t) => {
  const ctx = captureCtx();
  // rpi5's bridge port does not exist here: had the check gone on, it would have failed steps (exit 1), not exit 2.
  const code = await run(['hil', '--board', 'rpi5', '--yes', '--quiet'], ctx);
  t.is(code, 2, ctx.err());
  t.regex(ctx.err(), /nothing was driven/);
  t.regex(ctx.err(), /--outputs-unloaded/);
  t.is(ctx.out(), '', 'no step ran');
});

test('the prompt lists every actuator output and only a typed "yes" lets the check drive them', async (t) => {
  const no = person('y');
  const err = await t.throwsAsync(consentToDrive(rpi5, false, false, no, signal), { instanceOf: ConfigError });
  t.is(err.code, CoreCodes.usage);
  t.is(no.asked.length, 1);
  for (const a of rpi5.actuators) t.true(no.asked[0]!.includes(a.name), `${a.name} named in the prompt`);
  t.true(no.asked[0]!.includes(outputsWarning(rpi5)));

  const yes = person(' YES ');
  await t.notThrowsAsync(consentToDrive(rpi5, false, false, yes, signal));
  t.is(yes.asked.length, 1);
});

test('no question for the simulated board, nor with --outputs-unloaded; non-interactive hardware is refused', async (t) => {
  const sim = loadBoard('sim');
  const p = person('no');
  await consentToDrive(sim, true, false, p, signal);
  await consentToDrive(rpi5, false, true, p, signal);
  t.is(p.asked.length, 0);
  const err = await t.throwsAsync(consentToDrive(rpi5, false, false, nonInteractiveOperator(), signal), { instanceOf: ConfigError });
  t.is(err.code, CoreCodes.usage);
});
