/**
 * The PWM chips the board's actuators use are present (by device name, as
 * src/hal/pwm-sysfs.ts finds them), each channel is in range, and each is exported and
 * writable, or exportable, by the user.
 */
import { ReflexError } from '../core/errors.js';
import { SysfsPwmProvider } from '../hal/pwm-sysfs.js';
import { accessFix, describeOwner, principal, readAccounts, writable } from './accounts.js';
import { pwmNeeds } from './needs.js';
import { enablePwmFix, platformOf } from './platform.js';
import { fail, ok, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

/** The PWM udev rule of docs/hal.md: exported channels' files are created root-only. */
const PWM_RULE = `SUBSYSTEM=="pwm*", PROGRAM="/bin/sh -c 'chgrp -R gpio /sys%p && chmod -R g+w /sys%p'"`;

function run(ctx: DoctorContext): CheckResult[] {
  const needs = pwmNeeds(ctx.board);
  if (needs.length === 0) return [ok('pwm', 'the board drives no sysfs PWM channels')];
  const provider = new SysfsPwmProvider({ sysRoot: ctx.tree.at('/sys') });
  const acc = readAccounts(ctx.tree);
  const who = principal(ctx, acc);
  const ruleFix = [`echo '${PWM_RULE}' | sudo tee /etc/udev/rules.d/99-pwm.rules`, 'sudo udevadm control --reload && sudo udevadm trigger'];
  return needs.map((n): CheckResult => {
    const id = `pwm:${n.actuator}`;
    const what = `${n.actuator}: ${n.chip} channel ${n.channel}`;
    let chipDir: string;
    try {
      chipDir = provider.resolveChip(n.chip.startsWith('/') ? ctx.tree.at(n.chip) : n.chip);
    } catch (err) {
      if (err instanceof ReflexError)
        return fail(id, `${what}: ${err.message.replaceAll(ctx.tree.at('/'), '/')} [${err.code}]`, enablePwmFix(platformOf(ctx.board, ctx.tree), ctx.tree));
      throw err;
    }
    // Host path of the chip: the provider answers with the path under the root.
    const chip = '/' + chipDir.slice(ctx.tree.at('/').length).replace(/^\/+/, '');
    const npwm = Number((ctx.tree.read(`${chip}/npwm`) ?? '').trim());
    if (!Number.isInteger(npwm) || n.channel >= npwm) {
      return fail(id, `${what}: ${chip} has ${Number.isInteger(npwm) ? `channels 0..${npwm - 1}` : 'no readable npwm'}`, [
        `fix "pwm.channel" of actuator ${n.actuator} in ${ctx.board.file ?? 'the board file'}`,
      ]);
    }
    const chan = `${chip}/pwm${n.channel}`;
    if (ctx.tree.exists(chan)) {
      for (const f of ['period', 'duty_cycle', 'enable']) {
        const st = ctx.tree.stat(`${chan}/${f}`);
        const a = st && writable(st, who, acc);
        if (!st || !a?.ok) {
          const found = st ? `${describeOwner(st, acc)}, not writable by ${who.user} (${a!.via})` : 'missing';
          return fail(id, `${what}: exported, but ${chan}/${f} is ${found}`, st && st.gid !== 0 ? accessFix(`${chan}/${f}`, st, who, acc, 'gpio') : ruleFix);
        }
      }
      return ok(id, `${what}: exported as ${chan}, writable by ${who.user}`);
    }
    const st = ctx.tree.stat(`${chip}/export`);
    const a = st && writable(st, who, acc);
    if (st && a?.ok) return ok(id, `${what}: exportable (${chip}/export writable by ${who.user}, ${a.via})`);
    const found = st ? `${describeOwner(st, acc)}, not writable by ${who.user} (${a!.via})` : 'missing';
    return fail(id, `${what}: not exported and ${chip}/export is ${found}`, st && st.gid !== 0 ? accessFix(`${chip}/export`, st, who, acc, 'gpio') : ruleFix);
  });
}

export const pwmCheck: DoctorCheck = { id: 'pwm', title: "the PWM chips of the board's actuators are present and their channels exported or exportable", run };
