/** SPI is enabled where the board has an SPI ADC: its /dev/spidevB.C exists and the user can use it. */
import { accessFix, describeOwner, principal, readAccounts, readWrite } from './accounts.js';
import { configHas, configTxt, enableSpiFix, platformOf } from './platform.js';
import { fail, ok, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

function run(ctx: DoctorContext): CheckResult[] {
  const spi = ctx.board.spi;
  if (!spi) return [ok('spi', 'the board has no SPI ADC')];
  const what = `${spi.device} (bus ${spi.bus}, chip select ${spi.chipSelect}${spi.adc ? `, ${spi.adc}` : ''})`;
  const st = ctx.tree.stat(spi.device);
  const platform = platformOf(ctx.board, ctx.tree);
  if (!st) {
    const present = ctx.tree.list('/dev').filter((n) => n.startsWith('spidev'));
    const pending = platform === 'raspberrypi' && configHas(ctx.tree, 'dtparam=spi=on') ? `; ${configTxt(ctx.tree)} enables SPI: reboot to apply` : '';
    return [
      fail(
        'spi',
        `${what} is missing: SPI is not enabled (spidev nodes: ${present.length ? present.join(', ') : 'none'})${pending}`,
        enableSpiFix(platform, ctx.tree),
      ),
    ];
  }
  const acc = readAccounts(ctx.tree);
  const who = principal(ctx, acc);
  const a = readWrite(st, who, acc);
  if (a.ok) return [ok('spi', `${what} (${describeOwner(st, acc)}): usable by ${who.user} (${a.via})`)];
  return [fail('spi', `${what} (${describeOwner(st, acc)}): ${who.user} cannot read and write it (${a.via})`, accessFix(spi.device, st, who, acc, 'spi'))];
}

export const spiCheck: DoctorCheck = { id: 'spi', title: "SPI is enabled and the board's /dev/spidevB.C usable, where the board has an SPI ADC", run };
