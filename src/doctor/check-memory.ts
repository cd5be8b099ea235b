/** Free memory (MemAvailable against what Reflex needs) and swap (docs/realtime.md, section 5). */
import { isSimulated } from './needs.js';
import { fail, ok, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

/**
 * Resident memory Reflex needs, MiB: the soak benchmark's resident size after warm-up with the
 * default model on the simulated board, 214 to 250 MB (docs/benchmarks.md, "soak"), rounded up.
 * Below this the run itself does not fit.
 */
export const NEED_MIB = 256;
/**
 * Below this, warn: a model switch loads the new model beside the running one, and the tools a
 * lab runs beside it (a shell, the firmware host build on the sim board) need room too.
 */
export const WANT_MIB = 384;

export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function memory(ctx: DoctorContext): CheckResult {
  const info = ctx.tree.read('/proc/meminfo');
  const avail = info === undefined ? undefined : parseMeminfo(info).get('MemAvailable');
  if (avail === undefined) return warn('memory', `no MemAvailable in ${ctx.tree.at('/proc/meminfo')}${ctx.tree.live ? '' : ' (an image has no /proc)'}`);
  const mib = Math.floor(avail / 1024);
  const found = `MemAvailable ${mib} MiB; Reflex needs about ${NEED_MIB} MiB with the default model (${WANT_MIB} MiB with room for a model switch)`;
  const fix = ['stop what else runs (a desktop session, a browser: sudo systemctl set-default multi-user.target), or use a board with more memory'];
  if (mib < NEED_MIB) return fail('memory', found, fix);
  if (mib < WANT_MIB) return warn('memory', found, fix);
  return ok('memory', found);
}

function swap(ctx: DoctorContext): CheckResult {
  const swaps = ctx.tree.read('/proc/swaps');
  if (swaps === undefined) return ok('swap', `${ctx.tree.at('/proc/swaps')} not readable: nothing to check`);
  const active = swaps
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '').length;
  const swappiness = Number((ctx.tree.read('/proc/sys/vm/swappiness') ?? '').trim());
  if (active === 0) return ok('swap', 'no swap active');
  const found = `${active} swap area(s) active, vm.swappiness ${Number.isFinite(swappiness) ? swappiness : 'unknown'}`;
  if (Number.isFinite(swappiness) && swappiness <= 10) return ok('swap', found);
  const why = `${found}: the runtime may be paged out mid-experiment; swap off or swappiness 1 (docs/realtime.md)`;
  const fix = ['sudo sysctl -w vm.swappiness=1', "echo 'vm.swappiness=1' | sudo tee /etc/sysctl.d/90-reflex.conf  # keeps it across reboots"];
  return isSimulated(ctx.board) ? ok('swap', found) : warn('swap', why, fix);
}

export const memoryCheck: DoctorCheck = { id: 'memory', title: `free memory: MemAvailable against ${NEED_MIB} MiB`, run: (ctx) => [memory(ctx)] };
export const swapCheck: DoctorCheck = { id: 'swap', title: 'swap off, or vm.swappiness at most 10', run: (ctx) => [swap(ctx)] };
