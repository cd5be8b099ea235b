import { spawn } from 'node:child_process';
import test from 'ava';

const src = (p: string): string => new URL(`../src/${p}`, import.meta.url).href;

/** A process with one simulated actuator commanded away from safe, guarded by installSafetyHandlers. */
function child(mode: 'signal' | 'throw' | 'reject'): Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }> {
  const code = `
import { createActuators } from ${JSON.stringify(src('actuate/set.ts'))};
import { installSafetyHandlers } from ${JSON.stringify(src('loop/guard.ts'))};
const set = createActuators(
  [{ name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 4000, safe: 1500, unit: 'us' }],
  {},
  { simulate: true },
);
set.apply([1800]);
installSafetyHandlers(() => [
  {
    enterSafe(reason, detail) {
      set.safeAll();
      process.stdout.write('SAFE ' + reason + ' ' + detail + ' ' + set.actuators[0].last + '\\n');
    },
  },
]);
process.stdout.write('READY ' + set.actuators[0].last + '\\n');
const mode = ${JSON.stringify(mode)};
if (mode === 'throw') setTimeout(() => { throw new Error('boom'); }, 5);
else if (mode === 'reject') setTimeout(() => { Promise.reject(new Error('lost promise')); }, 5);
else setInterval(() => {}, 1000);
`;
  const p = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`child did not finish: ${out}`));
    }, 15000);
    let ready = false;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes('READY')) {
        ready = true;
        if (mode === 'signal') p.kill('SIGTERM');
      }
    });
    p.stderr.resume();
    p.on('exit', (c, s) => {
      clearTimeout(guard);
      resolve({ out, code: c, signal: s });
    });
  });
}

test('SIGTERM: actuators go safe, then the process still dies of the signal', async (t) => {
  const r = await child('signal');
  t.regex(r.out, /READY 1800/);
  t.regex(r.out, /SAFE signal SIGTERM 1500/);
  t.is(r.signal, 'SIGTERM');
});

test('uncaught exception: actuators go safe before the process exits with an error', async (t) => {
  const r = await child('throw');
  t.regex(r.out, /SAFE uncaught uncaughtException: boom 1500/);
  t.not(r.code, 0);
});

test('unhandled rejection: the same', async (t) => {
  const r = await child('reject');
  t.regex(r.out, /SAFE uncaught unhandledRejection: lost promise 1500/);
  t.not(r.code, 0);
});
