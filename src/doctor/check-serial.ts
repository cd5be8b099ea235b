/** The EMG source's serial device: present, and readable and writable by the user. */
import { dirname } from 'node:path';
import { accessFix, describeOwner, principal, readAccounts, readWrite } from './accounts.js';
import { isSimulated, serialPath } from './needs.js';
import { fail, ok, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

/** The shipped board files' placeholder for the bridge's by-id path. */
const PLACEHOLDER = /REPLACE_WITH/;

function byIdList(ctx: DoctorContext): string {
  const ids = ctx.tree.list('/dev/serial/by-id');
  return ids.length ? `/dev/serial/by-id has: ${ids.join(', ')}` : '/dev/serial/by-id is empty or absent (nothing plugged in over USB serial)';
}

function run(ctx: DoctorContext): CheckResult[] {
  const path = serialPath(ctx.board);
  if (path === undefined) {
    if (!isSimulated(ctx.board)) return [ok('serial', 'the board opens no serial device')];
    const { path: bin, built } = ctx.simFirmware;
    return built
      ? [ok('serial', `simulated source on a pseudo-terminal; host firmware built (${bin})`)]
      : [fail('serial', `simulated source, but the host firmware ${bin} is not built`, [`make -C ${dirname(dirname(bin))}  # needs g++ and make`])];
  }
  if (PLACEHOLDER.test(path)) {
    return [
      fail('serial', `source.path is still the board file's placeholder ${path}; ${byIdList(ctx)}`, [
        `cp ${ctx.board.file ?? `boards/${ctx.board.id}.json`} ~/my-board.json  # then set "source.path" to your device's /dev/serial/by-id/ path`,
        'reflex doctor --board ~/my-board.json',
      ]),
    ];
  }
  const st = ctx.tree.stat(path);
  const real = ctx.tree.resolve(path);
  if (!st || real === undefined) {
    return [fail('serial', `${path} is not present; ${byIdList(ctx)}`, ['plug the device in, then: ls -l /dev/serial/by-id/  # and set "source.path" to it'])];
  }
  const acc = readAccounts(ctx.tree);
  const who = principal(ctx, acc);
  const where = real === path ? path : `${path} -> ${real}`;
  const access = readWrite(st, who, acc);
  if (access.ok) return [ok('serial', `${where} (${describeOwner(st, acc)}): ${who.user} can read and write it (${access.via})`)];
  return [
    fail(
      'serial',
      `${where} (${describeOwner(st, acc)}): ${who.user} cannot read and write it (${access.via}, per ${who.source})`,
      accessFix(real, st, who, acc, 'dialout'),
    ),
  ];
}

export const serialCheck: DoctorCheck = { id: 'serial', title: "the EMG source's serial device exists and the user can read and write it", run };
