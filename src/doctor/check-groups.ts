/** The groups the board's devices belong to: the user is in each, in /etc/group and in this login session. */
import { readAccounts } from './accounts.js';
import { neededGroups } from './needs.js';
import { fail, ok, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

/** How each group gets its devices when the distribution has no rule for it (Raspberry Pi OS has all three). */
const UDEV: Record<string, string> = {
  gpio: 'SUBSYSTEM=="gpio", GROUP="gpio", MODE="0660"',
  spi: 'SUBSYSTEM=="spidev", GROUP="spi", MODE="0660"',
  dialout: 'SUBSYSTEM=="tty", KERNEL=="ttyACM[0-9]*|ttyUSB[0-9]*", GROUP="dialout", MODE="0660"',
};

function run(ctx: DoctorContext): CheckResult[] {
  const needs = neededGroups(ctx.board);
  if (needs.length === 0) return [ok('groups', 'the board needs no device groups')];
  const acc = readAccounts(ctx.tree);
  const { user, uid, groups } = ctx.facts;
  return needs.map(({ group, why }): CheckResult => {
    const id = `group:${group}`;
    if (uid === 0) return ok(id, `${group} (for ${why}): running as root, which needs no groups (a service should run as its own user)`);
    const entry = acc.groups.find((g) => g.name === group);
    if (!entry) {
      return fail(id, `${group} (for ${why}): no such group in /etc/group`, [
        `sudo groupadd --system ${group}`,
        `echo '${UDEV[group] ?? `# a rule giving the devices to ${group}`}' | sudo tee /etc/udev/rules.d/99-reflex-${group}.rules`,
        'sudo udevadm control --reload && sudo udevadm trigger',
        `sudo usermod -aG ${group} ${user}`,
        'log out and back in (group changes apply to new logins)',
      ]);
    }
    const inEtc = entry.members.includes(user) || acc.primary.get(user) === entry.gid;
    if (!inEtc) {
      return fail(id, `${group} (for ${why}): ${user} is not a member`, [
        `sudo usermod -aG ${group} ${user}`,
        'log out and back in (group changes apply to new logins)',
      ]);
    }
    if (groups !== undefined && !groups.includes(entry.gid)) {
      return fail(id, `${group} (for ${why}): ${user} was added in /etc/group, but this login session started before`, [
        'log out and back in (or run under: newgrp ' + group + ')',
      ]);
    }
    return ok(id, `${group} (for ${why}): ${user} is a member`);
  });
}

export const groupsCheck: DoctorCheck = { id: 'groups', title: 'the user is in the groups that own the devices the board opens (dialout, gpio, spi)', run };
