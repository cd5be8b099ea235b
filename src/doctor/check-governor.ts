/** The CPU frequency governor: `performance` on every core (docs/realtime.md, section 2). */
import { isSimulated } from './needs.js';
import { fail, ok, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

const CPU = '/sys/devices/system/cpu';

export const GOVERNOR_FIX = [
  `echo performance | sudo tee ${CPU}/cpu*/cpufreq/scaling_governor`,
  `sudo apt-get install cpufrequtils && echo 'GOVERNOR="performance"' | sudo tee /etc/default/cpufrequtils  # keeps it across reboots`,
];

function run(ctx: DoctorContext): CheckResult[] {
  const byGov = new Map<string, string[]>();
  for (const cpu of ctx.tree.list(CPU).filter((n) => /^cpu\d+$/.test(n))) {
    const g = ctx.tree.read(`${CPU}/${cpu}/cpufreq/scaling_governor`)?.trim();
    if (g) byGov.set(g, [...(byGov.get(g) ?? []), cpu]);
  }
  if (byGov.size === 0) {
    const found = `no ${CPU}/cpu*/cpufreq/scaling_governor (a fixed clock, or a virtual machine)`;
    return [isSimulated(ctx.board) ? ok('governor', found) : warn('governor', `${found}: cannot check`)];
  }
  const found = [...byGov].map(([g, cpus]) => `${g} (${cpus.length === 1 ? cpus[0] : `${cpus.length} cores`})`).join(', ');
  if (byGov.size === 1 && byGov.has('performance')) return [ok('governor', found)];
  const why = `${found}: frequency changes stall a core and make compute time vary; performance is recommended (docs/realtime.md)`;
  // The simulated board has no deadline that matters outside the lab.
  return [isSimulated(ctx.board) ? warn('governor', why, GOVERNOR_FIX) : fail('governor', why, GOVERNOR_FIX)];
}

export const governorCheck: DoctorCheck = { id: 'governor', title: 'the CPU frequency governor is performance on every core', run };
