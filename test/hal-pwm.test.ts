import test from 'ava';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FakePwm } from '../src/hal/pwm-fake.js';
import { SysfsPwmProvider } from '../src/hal/pwm-sysfs.js';
import { makePwmTree, tmpRoot } from './fixtures/sysfs/tree.js';

/**
 * A tiny fake kernel over a tmp sysfs tree: `export` creates pwmM (period 0, duty 0,
 * disabled), `unexport` removes it, and the kernel's own checks are enforced (EINVAL for
 * duty > period at any write, and for enable without a period). Every write is logged.
 */
function fakeKernel(t: { teardown: (fn: () => void) => void }) {
  const { root, cleanup } = tmpRoot();
  t.teardown(cleanup);
  const sys = join(root, 'sys');
  makePwmTree(sys, [
    { device: '1f00098000.pwm', n: 0, npwm: 4 },
    { device: 'fe20c000.pwm', n: 2, npwm: 2 },
  ]);
  const log: string[] = [];
  const einval = (msg: string) => Object.assign(new Error(`EINVAL: ${msg}`), { code: 'EINVAL' });
  const num = (p: string) => Number(readFileSync(p, 'utf8'));
  const writeFile = (path: string, data: string): void => {
    const rel = path.slice(sys.length + 1);
    log.push(`${rel.replace(/^class\/pwm\//, '')}=${data}`);
    const name = basename(path);
    const dir = dirname(path);
    if (name === 'export') {
      const ch = join(dir, `pwm${data}`);
      if (existsSync(ch)) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
      mkdirSync(ch);
      for (const f of ['period', 'duty_cycle', 'enable']) writeFileSync(join(ch, f), '0\n');
      return;
    }
    if (name === 'unexport') {
      rmSync(join(dir, `pwm${data}`), { recursive: true });
      return;
    }
    if (name === 'period' && Number(data) < num(join(dir, 'duty_cycle'))) throw einval('period below duty_cycle');
    if (name === 'duty_cycle' && Number(data) > num(join(dir, 'period'))) throw einval('duty_cycle above period');
    if (name === 'enable' && data === '1' && num(join(dir, 'period')) === 0) throw einval('no period');
    writeFileSync(path, `${data}\n`);
  };
  return { sys, log, writeFile, provider: new SysfsPwmProvider({ sysRoot: sys, writeFile, exportSettleMs: 200 }) };
}

test('sysfs PWM: chip by device name, export, ordered writes, disable and unexport on close', (t) => {
  const k = fakeKernel(t);
  const ch = k.provider.open({ chip: 'fe20c000.pwm', channel: 1 });
  ch.setPeriodNs(20_000_000); // 50 Hz servo frame
  ch.setDutyNs(1_500_000);
  ch.enable(true);
  ch.configure(10_000_000, 1_000_000); // shrinking: duty first
  ch.configure(40_000_000, 30_000_000); // growing: period first
  ch.setDutyNs(30_000_000); // unchanged: no write
  ch.close();
  ch.close();
  t.deepEqual(k.log, [
    'pwmchip2/export=1',
    'pwmchip2/pwm1/period=20000000',
    'pwmchip2/pwm1/duty_cycle=1500000',
    'pwmchip2/pwm1/enable=1',
    'pwmchip2/pwm1/duty_cycle=1000000',
    'pwmchip2/pwm1/period=10000000',
    'pwmchip2/pwm1/period=40000000',
    'pwmchip2/pwm1/duty_cycle=30000000',
    'pwmchip2/pwm1/enable=0',
    'pwmchip2/unexport=1',
  ]);
  t.false(existsSync(join(k.sys, 'class/pwm/pwmchip2/pwm1')));
  t.is((t.throws(() => ch.setDutyNs(0)) as { code?: string }).code, 'E_PWM_CLOSED');
});

test('sysfs PWM: duty never above period, enable needs a period, nothing invalid reaches the kernel', (t) => {
  const k = fakeKernel(t);
  const ch = k.provider.open({ chip: 'pwmchip0', channel: 3 });
  t.is((t.throws(() => ch.enable(true)) as { code?: string }).code, 'E_PWM_NO_PERIOD');
  t.is((t.throws(() => ch.setDutyNs(5)) as { code?: string }).code, 'E_PWM_RANGE');
  ch.configure(1000, 800);
  t.is((t.throws(() => ch.setPeriodNs(500)) as { code?: string }).code, 'E_PWM_RANGE');
  t.throws(() => ch.configure(1000, 1001), { message: /above period/ });
  t.throws(() => ch.setPeriodNs(1.5), { instanceOf: RangeError });
  t.deepEqual(k.log, ['pwmchip0/export=3', 'pwmchip0/pwm3/period=1000', 'pwmchip0/pwm3/duty_cycle=800']);
  ch.close();
});

test('sysfs PWM: an already exported channel is reused with the values the kernel holds', (t) => {
  const k = fakeKernel(t);
  k.writeFile(join(k.sys, 'class/pwm/pwmchip0/export'), '0');
  k.writeFile(join(k.sys, 'class/pwm/pwmchip0/pwm0/period'), '2000');
  k.writeFile(join(k.sys, 'class/pwm/pwmchip0/pwm0/duty_cycle'), '1500');
  k.log.length = 0;
  const ch = k.provider.open({ chip: join(k.sys, 'class/pwm/pwmchip0'), channel: 0 });
  t.is(ch.periodNs, 2000);
  t.is(ch.dutyNs, 1500);
  ch.setPeriodNs(1800);
  t.deepEqual(k.log, ['pwmchip0/pwm0/period=1800']);
  ch.close();
});

test('sysfs PWM: unknown chip lists the chips present; channel range checked against npwm', (t) => {
  const k = fakeKernel(t);
  const err = t.throws(() => k.provider.open({ chip: 'fe20c000.pwm0', channel: 0 }));
  t.is((err as { code?: string }).code, 'E_PWM_CHIP_NOT_FOUND');
  t.regex(err.message, /"1f00098000\.pwm" \(pwmchip0\), "fe20c000\.pwm" \(pwmchip2\)/);
  t.is((t.throws(() => k.provider.open({ chip: 'fe20c000.pwm', channel: 2 })) as { code?: string }).code, 'E_PWM_CHANNEL_RANGE');
});

test('sysfs PWM: kernel errors surface as E_PWM_WRITE with a hint; export that never appears times out', (t) => {
  const k = fakeKernel(t);
  const denied = new SysfsPwmProvider({
    sysRoot: k.sys,
    writeFile: () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    },
  });
  const err = t.throws(() => denied.open({ chip: 'fe20c000.pwm', channel: 0 }));
  t.is((err as { code?: string }).code, 'E_PWM_WRITE');
  t.regex(err.message, /udev rule/);
  const lazy = new SysfsPwmProvider({ sysRoot: k.sys, writeFile: () => {}, exportSettleMs: 30 });
  t.is((t.throws(() => lazy.open({ chip: 'fe20c000.pwm', channel: 0 })) as { code?: string }).code, 'E_PWM_EXPORT');
});

test('fake PWM: same rules as the kernel, state and op log for tests', (t) => {
  const pwm = new FakePwm();
  const ref = { chip: 'reflex-sim-pwm', channel: 1 };
  const ch = pwm.open(ref);
  t.is((t.throws(() => ch.enable(true)) as { code?: string }).code, 'E_PWM_NO_PERIOD');
  ch.setPeriodNs(20_000_000);
  ch.setDutyNs(1_000_000);
  t.is((t.throws(() => ch.setDutyNs(30_000_000)) as { code?: string }).code, 'E_PWM_RANGE');
  t.is((t.throws(() => ch.setPeriodNs(500)) as { code?: string }).code, 'E_PWM_RANGE');
  ch.enable(true);
  t.deepEqual(pwm.state(ref), { periodNs: 20_000_000, dutyNs: 1_000_000, enabled: true, open: true });
  t.is((t.throws(() => pwm.open(ref)) as { code?: string }).code, 'E_PWM_BUSY');
  ch.close();
  t.deepEqual(pwm.state(ref), { periodNs: 20_000_000, dutyNs: 1_000_000, enabled: false, open: false });
  t.deepEqual(
    pwm.ops.map((o) => o.op),
    ['period', 'duty', 'enable', 'close'],
  );
  t.is((t.throws(() => pwm.open({ chip: 'nope', channel: 0 })) as { code?: string }).code, 'E_PWM_CHIP_NOT_FOUND');
});
