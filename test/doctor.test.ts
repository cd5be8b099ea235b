/**
 * `reflex doctor` against fake hosts: a root directory laid out like the host's /dev, /sys,
 * /proc, /etc and /boot (built per test under a tmp dir, the GPIO and PWM parts by the same
 * fixture the board tests use) and injected process facts. File ownership is the one thing a
 * test cannot create without privileges, so the fake host's `stat` takes owner and group from
 * a table (everything else root:root) and the mode from the file itself.
 */
import test from 'ava';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadBoard } from '../src/boards/load.js';
import type { BoardDef } from '../src/boards/types.js';
import { reflex } from './cli-in-process.js';
import { hasSysNice, parseLimits } from '../src/doctor/check-limits.js';
import { parseMeminfo } from '../src/doctor/check-memory.js';
import { imageArch } from '../src/doctor/facts.js';
import { formatReport, runDoctor, type DoctorReport } from '../src/doctor/table.js';
import { RootedTree, type FileInfo } from '../src/doctor/tree.js';
import type { CheckResult, DoctorContext, ProcessFacts, TfjsFacts } from '../src/doctor/types.js';
import { makeGpioTree, makePwmTree, tmpRoot, type FakeGpioChip, type FakePwmChip } from './fixtures/sysfs/tree.js';

type T = { teardown: (fn: () => void) => void };

const GID = { dialout: 20, gpio: 997, spi: 999 };

/** A RootedTree whose files' owner and group come from a table (by host path after links). */
class OwnedTree extends RootedTree {
  readonly #owners: Map<string, { uid: number; gid: number }>;
  constructor(root: string, owners: Map<string, { uid: number; gid: number }>) {
    super(root);
    this.#owners = owners;
  }
  override stat(p: string): FileInfo | undefined {
    const st = super.stat(p);
    if (!st) return undefined;
    return { ...st, ...(this.#owners.get(this.resolve(p)!) ?? { uid: 0, gid: 0 }) };
  }
}

class Host {
  readonly root: string;
  readonly owners = new Map<string, { uid: number; gid: number }>();
  constructor(t: T) {
    const { root, cleanup } = tmpRoot();
    t.teardown(cleanup);
    this.root = root;
  }
  file(p: string, text = '', mode = 0o644, gid = 0): this {
    const at = join(this.root, p);
    mkdirSync(dirname(at), { recursive: true });
    writeFileSync(at, text);
    chmodSync(at, mode);
    this.owners.set(p, { uid: 0, gid });
    return this;
  }
  link(p: string, target: string): this {
    mkdirSync(dirname(join(this.root, p)), { recursive: true });
    symlinkSync(target, join(this.root, p));
    return this;
  }
  gpio(chips: FakeGpioChip[], sysfsExportGid = GID.gpio): this {
    makeGpioTree(join(this.root, 'sys'), chips);
    for (const c of chips) this.file(`/dev/gpiochip${c.chardev}`, '', 0o660, GID.gpio);
    return this.file('/sys/class/gpio/export', '', 0o770, sysfsExportGid);
  }
  pwm(chips: FakePwmChip[]): this {
    makePwmTree(join(this.root, 'sys'), chips);
    for (const c of chips) for (const f of ['export', 'unexport']) this.file(`/sys/class/pwm/pwmchip${c.n}/${f}`, '', 0o770, GID.gpio);
    return this;
  }
  governor(g: string, cpus = 4): this {
    for (let i = 0; i < cpus; i++) this.file(`/sys/devices/system/cpu/cpu${i}/cpufreq/scaling_governor`, `${g}\n`);
    return this;
  }
  limits(rtprio: string, memlock: string, capEff = '0000000000000000'): this {
    const row = (name: string, v: string, unit: string): string => `${name.padEnd(26)}${v.padEnd(21)}${v.padEnd(21)}${unit}`;
    this.file(
      '/proc/self/limits',
      [
        'Limit                     Soft Limit           Hard Limit           Units     ',
        row('Max cpu time', 'unlimited', 'seconds'),
        row('Max locked memory', memlock, 'bytes'),
        row('Max realtime priority', rtprio, ''),
      ].join('\n') + '\n',
    );
    return this.file('/proc/self/status', `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`);
  }
  memory(availableKb: number, swap: { swappiness: number } | undefined): this {
    this.file('/proc/meminfo', `MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    ${availableKb} kB\n`);
    const header = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
    this.file('/proc/swaps', swap ? `${header}/var/swap                               file\t\t524284\t\t0\t\t-2\n` : header);
    return this.file('/proc/sys/vm/swappiness', `${swap?.swappiness ?? 60}\n`);
  }
  accounts(user: string, uid: number, groups: Record<string, string[]>): this {
    this.file('/etc/passwd', `root:x:0:0:root:/root:/bin/bash\n${user}:x:${uid}:${uid}::/home/${user}:/bin/bash\n`);
    const lines = [`root:x:0:`, `${user}:x:${uid}:`, ...Object.entries(groups).map(([g, m]) => `${g}:x:${GID[g as keyof typeof GID]}:${m.join(',')}`)];
    return this.file('/etc/group', lines.join('\n') + '\n');
  }
  tree(): OwnedTree {
    return new OwnedTree(this.root, this.owners);
  }
}

/** Pi 5 on kernel 6.6.47+ (RP1 on gpiochip0), as in test/boards-resolve.test.ts. */
const pi5Gpio: FakeGpioChip[] = [
  { device: '1f000d0000.gpio', label: 'pinctrl-rp1', base: 571, ngpio: 54, chardev: 0 },
  { device: '107d508500.gpio', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32, chardev: 10 },
  { device: '107d517c00.gpio', label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17, chardev: 12 },
];
const pi4Gpio: FakeGpioChip[] = [
  { device: 'fe200000.gpio', label: 'pinctrl-bcm2711', base: 512, ngpio: 58, chardev: 0 },
  { device: 'soc:firmware:gpio', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, chardev: 1 },
];

const BRIDGE = '/dev/serial/by-id/usb-Teensyduino_USB_Serial_1234560-if00';

/** A shipped board with source.path set to the bridge, as a user's copy of it would be. */
function withBridge(id: string): BoardDef {
  const b = loadBoard(id);
  if (b.source.kind !== 'bridge' || b.source.transport !== 'serial') throw new Error(`${id} is not a serial bridge board`);
  return { ...b, source: { ...b.source, path: BRIDGE } };
}

const noTfjsNode: TfjsFacts = { node: 'absent', wasm: true };
const builtFirmware = { path: '/opt/reflex/firmware-bridge/build/reflex-bridge-host', built: true };

function doctor(board: BoardDef, host: Host, facts: ProcessFacts, tfjs = noTfjsNode): DoctorReport {
  const ctx: DoctorContext = { board, tree: host.tree(), facts, tfjs, simFirmware: builtFirmware };
  return runDoctor(ctx);
}

const byId = (r: DoctorReport, id: string): CheckResult => {
  const found = r.results.find((x) => x.id === id);
  if (!found) throw new Error(`no result "${id}" in ${r.results.map((x) => x.id).join(', ')}`);
  return found;
};

function wellSetUpPi5(t: T): Host {
  return new Host(t)
    .accounts('pi', 1000, { dialout: ['pi'], gpio: ['pi'], spi: ['pi'] })
    .gpio(pi5Gpio)
    .pwm([{ device: '1f00098000.pwm', n: 0, npwm: 4 }])
    .file('/sys/class/pwm/pwmchip0/pwm2/period', '20000000\n', 0o660, GID.gpio)
    .file('/sys/class/pwm/pwmchip0/pwm2/duty_cycle', '1500000\n', 0o660, GID.gpio)
    .file('/sys/class/pwm/pwmchip0/pwm2/enable', '0\n', 0o660, GID.gpio)
    .file('/dev/spidev0.0', '', 0o660, GID.spi)
    .file('/dev/spidev0.1', '', 0o660, GID.spi)
    .file('/dev/ttyACM0', '', 0o660, GID.dialout)
    .link(BRIDGE, '../../ttyACM0')
    .file('/proc/device-tree/model', 'Raspberry Pi 5 Model B Rev 1.0\0')
    .file('/boot/firmware/config.txt', '[all]\ndtparam=spi=on\ndtoverlay=pwm-2chan\n')
    .file('/usr/bin/chrt', '', 0o755)
    .governor('performance')
    .limits('95', 'unlimited')
    .memory(7_200_000, undefined);
}

const pi: ProcessFacts = { user: 'pi', uid: 1000, groups: [1000, GID.dialout, GID.gpio, GID.spi], arch: 'arm64', nodeVersion: '24.11.1' };

test('a well-set-up Pi 5: every check passes and the exit code is 0', (t) => {
  const r = doctor(withBridge('rpi5'), wellSetUpPi5(t), pi);
  t.deepEqual(
    r.results.filter((x) => x.status !== 'ok'),
    [],
  );
  t.is(r.exitCode, 0);
  t.regex(byId(r, 'serial').found, /usb-Teensyduino.* -> \/dev\/ttyACM0 \(root:dialout 0660\): pi can read and write it \(group dialout\)/);
  t.regex(byId(r, 'gpio-backend').found, /sysfs GPIO \(onoff\)/);
  t.regex(byId(r, 'gpio:pinctrl-rp1').found, /resolve to sysfs GPIO 579, .*588/, 'GPIO8..25 on the RP1 at base 571');
  t.regex(byId(r, 'pwm:wrist').found, /exported as \/sys\/class\/pwm\/pwmchip0\/pwm2/);
  t.regex(byId(r, 'pwm:grip').found, /channel 3: exportable/);
  t.regex(byId(r, 'spi').found, /\/dev\/spidev0\.0 .*usable by pi \(group spi\)/);
  t.is(byId(r, 'governor').found, 'performance (4 cores)');
  t.is(byId(r, 'rtprio').found, 'SCHED_FIFO 50 allowed: RLIMIT_RTPRIO 95');
  t.regex(byId(r, 'backend').found, /^wasm backend on arm64; .*tensorflow\/tfjs issue 6676/);
  for (const g of ['dialout', 'gpio', 'spi']) t.is(byId(r, `group:${g}`).status, 'ok');
});

test('the Pi 5 on the chardev backend (no sysfs GPIO): gpiochip0 by label, the gpiod tools, their node permissions', (t) => {
  const chips = pi5Gpio.map((c) => ({ ...c, noSysfs: true }));
  const bare = new Host(t).accounts('pi', 1000, { dialout: ['pi'], gpio: ['pi'], spi: ['pi'] });
  // Labels without sysfs GPIO come from a `label` file in the chardev's sysfs entry on these kernels.
  makeGpioTree(join(bare.root, 'sys'), chips);
  for (const c of chips) {
    writeFileSync(join(bare.root, 'sys', 'bus', 'gpio', 'devices', `gpiochip${c.chardev}`, 'label'), c.label);
    bare.file(`/dev/gpiochip${c.chardev}`, '', 0o660, c.chardev === 0 ? 0 : GID.gpio);
  }
  const r = doctor(withBridge('rpi5'), bare, pi);
  t.is(byId(r, 'gpio-backend').status, 'FAIL');
  t.deepEqual(byId(r, 'gpio-backend').fix, ['sudo apt-get install gpiod  # version 2 or later']);
  const chip = byId(r, 'gpio:pinctrl-rp1');
  t.is(chip.status, 'FAIL', '/dev/gpiochip0 is root:root 0660 here');
  t.regex(chip.found, /\/dev\/gpiochip0 \(root:root 0660\) is not readable and writable by pi \(others\)/);
  t.regex(chip.fix[0]!, /udev rule/);
  for (const tool of ['gpioset', 'gpioget', 'gpiomon']) bare.file(`/usr/bin/${tool}`, '', 0o755);
  bare.owners.set('/dev/gpiochip0', { uid: 0, gid: GID.gpio });
  const fixed = doctor(withBridge('rpi5'), bare, pi);
  t.is(byId(fixed, 'gpio-backend').status, 'ok');
  t.regex(byId(fixed, 'gpio:pinctrl-rp1').found, /^pinctrl-rp1: \/dev\/gpiochip0, lines 8, 9, .* in range/);
});

function freshPi4(t: T): Host {
  return new Host(t)
    .accounts('lab', 1001, { dialout: ['pi'], gpio: ['pi'], spi: ['pi'] })
    .gpio(pi4Gpio)
    .file('/dev/ttyACM0', '', 0o660, GID.dialout)
    .link(BRIDGE, '../../ttyACM0')
    .file('/proc/device-tree/model', 'Raspberry Pi 4 Model B Rev 1.5\0')
    .file('/boot/firmware/config.txt', '# Uncomment some or all of these to enable the optional hardware interfaces\n#dtparam=spi=on\n')
    .file('/usr/bin/chrt', '', 0o755)
    .governor('ondemand')
    .limits('0', '8388608')
    .memory(3_400_000, { swappiness: 60 });
}

const lab: ProcessFacts = { user: 'lab', uid: 1001, groups: [1001], arch: 'arm64', nodeVersion: '20.19.0' };

test('a fresh Pi 4: each missing piece is a FAIL line with its fix, and the exit code is 1', (t) => {
  const r = doctor(withBridge('rpi4'), freshPi4(t), lab);
  t.is(r.exitCode, 1);
  const failed = r.results.filter((x) => x.status === 'FAIL');
  t.deepEqual(
    failed.map((x) => x.id),
    ['serial', 'group:dialout', 'group:gpio', 'group:spi', 'gpio-backend', 'pwm:wrist', 'pwm:grip', 'spi', 'governor', 'rtprio'],
  );
  for (const f of failed) t.true(f.fix.length > 0, `${f.id} says how to fix it`);
  t.regex(byId(r, 'serial').found, /\/dev\/ttyACM0 \(root:dialout 0660\): lab cannot read and write it \(others, per this login session\)/);
  t.deepEqual(byId(r, 'serial').fix, ['sudo usermod -aG dialout lab', 'log out and back in (group changes apply to new logins)']);
  t.deepEqual(byId(r, 'group:gpio').fix, ['sudo usermod -aG gpio lab', 'log out and back in (group changes apply to new logins)']);
  t.regex(byId(r, 'gpio-backend').found, /\/sys\/class\/gpio\/export \(root:gpio 0770\) is not writable by lab/);
  t.regex(byId(r, 'pwm:wrist').found, /no PWM chip "fe20c000\.pwm" in \/sys\/class\/pwm; chips present: none/);
  t.deepEqual(byId(r, 'pwm:wrist').fix, ["echo 'dtoverlay=pwm-2chan' | sudo tee -a /boot/firmware/config.txt", 'sudo reboot']);
  t.regex(byId(r, 'spi').found, /\/dev\/spidev0\.0 .* is missing: SPI is not enabled \(spidev nodes: none\)$/);
  t.deepEqual(byId(r, 'spi').fix, ["echo 'dtparam=spi=on' | sudo tee -a /boot/firmware/config.txt", 'sudo reboot'], 'the commented-out line does not count');
  t.regex(byId(r, 'governor').found, /^ondemand \(4 cores\): /);
  t.regex(byId(r, 'governor').fix[0]!, /^echo performance \| sudo tee \/sys\/devices\/system\/cpu\/cpu\*\/cpufreq\/scaling_governor$/);
  t.regex(byId(r, 'rtprio').found, /^RLIMIT_RTPRIO 0 \(hard 0\), no CAP_SYS_NICE/);
  t.regex(byId(r, 'rtprio').fix[0]!, /lab - rtprio 95' \| sudo tee \/etc\/security\/limits\.d\//);
  t.is(byId(r, 'gpio:pinctrl-bcm2711').status, 'ok', 'the chip itself is there');
  t.deepEqual(
    r.results.filter((x) => x.status === 'warn').map((x) => x.id),
    ['memlock', 'swap', 'node'],
  );
  t.regex(byId(r, 'node').found, /20\.19\.0: supported, but Node 20 is past its end of life/);
});

test('the Pi 4 half-fixed: added to the groups but still in the old session, SPI enabled but not rebooted', (t) => {
  const host = freshPi4(t)
    .accounts('lab', 1001, { dialout: ['pi', 'lab'], gpio: ['pi', 'lab'], spi: ['pi', 'lab'] })
    .file('/boot/firmware/config.txt', 'dtparam=spi=on\n');
  const r = doctor(withBridge('rpi4'), host, lab);
  t.regex(byId(r, 'group:gpio').found, /lab was added in \/etc\/group, but this login session started before/);
  t.regex(byId(r, 'group:gpio').fix[0]!, /^log out and back in/);
  t.regex(byId(r, 'spi').found, /\/boot\/firmware\/config\.txt enables SPI: reboot to apply$/);
  t.deepEqual(byId(r, 'spi').fix, ['sudo reboot  # /boot/firmware/config.txt already has dtparam=spi=on: it applies at boot']);
  // The same tree checked for the user as /etc/group has it (an image, or --user): the groups pass.
  const asImage = doctor(withBridge('rpi4'), host, { user: 'lab', uid: 1001, arch: 'arm64' });
  t.is(byId(asImage, 'group:gpio').status, 'ok');
  t.is(byId(asImage, 'serial').status, 'ok');
  t.regex(byId(asImage, 'node').found, /^not checked/);
  t.is(byId(asImage, 'node').status, 'warn');
});

test('a board file for another board: the GPIO chip check names the chips present', (t) => {
  const r = doctor(withBridge('rpi5'), freshPi4(t), lab);
  const chip = byId(r, 'gpio:pinctrl-rp1');
  t.is(chip.status, 'FAIL');
  t.regex(chip.found, /E_GPIO_CHIP_NOT_FOUND/);
  t.regex(chip.found, /"pinctrl-bcm2711"/);
});

test('a placeholder source.path or an unplugged bridge fails naming what /dev/serial/by-id holds', (t) => {
  const host = wellSetUpPi5(t);
  const placeholder = doctor(loadBoard('rpi5'), host, pi);
  t.is(byId(placeholder, 'serial').status, 'FAIL');
  t.regex(byId(placeholder, 'serial').found, /placeholder .*by-id has: usb-Teensyduino_USB_Serial_1234560-if00/);
  const b = withBridge('rpi5');
  const gone = doctor({ ...b, source: { ...b.source, path: '/dev/ttyUSB3' } as BoardDef['source'] }, host, pi);
  t.regex(byId(gone, 'serial').found, /^\/dev\/ttyUSB3 is not present/);
});

function laptop(t: T): Host {
  return new Host(t)
    .accounts('alice', 1000, { dialout: [], gpio: [], spi: [] })
    .governor('powersave', 8)
    .limits('0', '8388608')
    .memory(9_000_000, { swappiness: 60 });
}

const alice: ProcessFacts = { user: 'alice', uid: 1000, groups: [1000], arch: 'x64', nodeVersion: '22.12.0' };

test('a laptop with the sim board: nothing is asked of GPIO, PWM, SPI or groups; real-time settings only warn; exit 0', (t) => {
  const r = doctor(loadBoard('sim'), laptop(t), alice);
  t.is(r.exitCode, 0);
  t.deepEqual(
    r.results.filter((x) => x.status === 'FAIL'),
    [],
  );
  t.regex(byId(r, 'serial').found, /simulated source on a pseudo-terminal; host firmware built/);
  t.is(byId(r, 'groups').found, 'the board needs no device groups');
  t.is(byId(r, 'gpio').found, 'only the simulated chip "reflex-sim", which needs nothing from the host');
  t.is(byId(r, 'pwm').status, 'ok');
  t.is(byId(r, 'spi').status, 'ok');
  t.deepEqual(
    r.results.filter((x) => x.status === 'warn').map((x) => x.id),
    ['governor', 'rtprio'],
  );
  t.is(byId(r, 'backend').found, 'wasm backend on x64: @tensorflow/tfjs-node is not installed (optional)');
  t.is(byId(r, 'node').found, 'Node.js 22.12.0');
  const unbuilt = runDoctor({
    board: loadBoard('sim'),
    tree: laptop(t).tree(),
    facts: alice,
    tfjs: noTfjsNode,
    simFirmware: { ...builtFirmware, built: false },
  });
  t.is(byId(unbuilt, 'serial').status, 'FAIL');
  t.deepEqual(byId(unbuilt, 'serial').fix, ['make -C /opt/reflex/firmware-bridge  # needs g++ and make']);
});

test('memory: below 256 MiB available fails, below 384 MiB warns', (t) => {
  const at = (kb: number): string => byId(doctor(loadBoard('sim'), laptop(t).memory(kb, undefined), alice), 'memory').status;
  t.deepEqual([at(200 * 1024), at(300 * 1024), at(400 * 1024)], ['FAIL', 'warn', 'ok']);
});

test('the backend line: tfjs-node loading on x64, broken, and on arm64; no wasm either', (t) => {
  const host = laptop(t);
  const backend = (arch: string, tfjs: TfjsFacts): CheckResult => byId(doctor(loadBoard('sim'), host, { ...alice, arch }, tfjs), 'backend');
  t.is(backend('x64', { node: 'loads', wasm: true }).found, 'tensorflow (tfjs-node loads) on x64');
  const broken = backend('x64', { node: { error: 'libtensorflow.so.2: cannot open shared object file' }, wasm: true });
  t.is(broken.status, 'warn');
  t.regex(broken.found, /^wasm backend on x64: @tensorflow\/tfjs-node is installed but does not load \(libtensorflow/);
  const arm = backend('arm64', { node: 'skipped', wasm: true });
  t.is(arm.status, 'ok');
  t.regex(arm.found, /^wasm backend on arm64; @tensorflow\/tfjs-node does not load on arm64 \(tensorflow\/tfjs issue 6676\)$/);
  const none = backend('arm64', { node: 'absent', wasm: false });
  t.is(none.status, 'FAIL');
  t.regex(none.fix[0]!, /--omit=optional/);
});

test('rtprio: CAP_SYS_NICE or root allow SCHED_FIFO whatever the limit', (t) => {
  const capSysNice = (1n << 23n).toString(16).padStart(16, '0');
  const withCap = doctor(withBridge('rpi5'), wellSetUpPi5(t).limits('0', 'unlimited', capSysNice), pi);
  t.is(byId(withCap, 'rtprio').found, 'SCHED_FIFO 50 allowed: CAP_SYS_NICE held');
  const asRoot = doctor(withBridge('rpi5'), wellSetUpPi5(t).limits('0', 'unlimited'), { ...pi, uid: 0, user: 'root', groups: [0] });
  t.is(byId(asRoot, 'rtprio').found, 'SCHED_FIFO 50 allowed: running as root');
});

test('parsers: /proc/self/limits, CapEff, /proc/meminfo, an image architecture from its /bin/sh', (t) => {
  const limits = parseLimits(
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max locked memory         8388608              8388608              bytes     \n' +
      'Max realtime priority     0                    95                             \n' +
      'Max realtime timeout      unlimited            unlimited            us        \n',
  );
  t.deepEqual(limits.get('Max realtime priority'), { soft: 0, hard: 95 });
  t.deepEqual(limits.get('Max locked memory'), { soft: 8388608, hard: 8388608 });
  t.deepEqual(limits.get('Max realtime timeout'), { soft: Infinity, hard: Infinity });
  t.is(hasSysNice('CapEff:\t000001ffffffffff\n'), true);
  t.is(hasSysNice('CapEff:\t0000000000000000\n'), false);
  t.is(hasSysNice(undefined), undefined);
  t.is(parseMeminfo('MemTotal:  100 kB\nMemAvailable:   42 kB\n').get('MemAvailable'), 42);
  const host = new Host(t);
  const elf = Buffer.alloc(64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf.writeUInt16LE(0xb7, 18);
  mkdirSync(join(host.root, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(host.root, 'usr', 'bin', 'dash'), elf);
  host.link('/bin/sh', '/usr/bin/dash');
  t.is(imageArch(new RootedTree(host.root)), 'arm64', 'an absolute link is followed inside the root');
});

test('the report: one line per result, fixes indented under what is not ok, a summary line', (t) => {
  const r = doctor(withBridge('rpi4'), freshPi4(t), lab);
  const text = formatReport(r, 'reflex doctor: board rpi4');
  const lines = text.trimEnd().split('\n');
  t.is(lines[0], 'reflex doctor: board rpi4');
  t.is(lines.at(-1), `${r.results.filter((x) => x.status === 'ok').length} ok, 3 warn, 10 FAIL`);
  const resultLines = lines.filter((l) => /^(ok|warn|FAIL)\s/.test(l));
  t.is(resultLines.length, r.results.length);
  const fixLines = lines.filter((l) => /^\s+fix: /.test(l));
  t.is(
    fixLines.length,
    r.results.filter((x) => x.status !== 'ok').reduce((n, x) => n + x.fix.length, 0),
  );
  t.regex(text, /^FAIL {2}governor +ondemand \(4 cores\): .*\n +fix: echo performance \| sudo tee /m);
});

test('reflex doctor --root: exit 0 on the laptop tree, 1 on the fresh Pi 4, --json, and 2 for bad usage', async (t) => {
  const ok = await reflex('doctor', '--root', laptop(t).root, '--user', 'alice');
  t.is(ok.code, 0, ok.out + ok.err);
  t.regex(ok.out, /^reflex doctor: board sim, root .*, user alice, /);
  t.regex(ok.out, /^ok +gpio +only the simulated chip "reflex-sim"/m);
  t.regex(ok.out, /^\d+ ok, \d+ warn, 0 FAIL\n$/m);

  const pi4 = freshPi4(t);
  const bad = await reflex('doctor', '--board', 'rpi4', '--root', pi4.root, '--user', 'lab');
  t.is(bad.code, 1);
  t.regex(bad.out, /^FAIL +serial +source\.path is still the board file's placeholder/m);
  t.regex(bad.out, /^FAIL +spi +\/dev\/spidev0\.0/m);

  const json = await reflex('doctor', '--board', 'rpi4', '--root', pi4.root, '--user', 'lab', '--json');
  t.is(json.code, 1);
  const rows = JSON.parse(json.out) as CheckResult[];
  t.true(rows.some((x) => x.id === 'governor' && x.status === 'FAIL' && x.fix.length > 0));

  t.is((await reflex('doctor', 'rpi4')).code, 2);
  const noUser = await reflex('doctor', '--root', pi4.root, '--user', 'nobody-here');
  t.is(noUser.code, 2);
  t.regex(noUser.err, /--user nobody-here: no such user/);
  t.is((await reflex('doctor', '--board', 'rpi9')).code, 2);
  t.regex((await reflex('doctor', '--help')).out, /--root DIR/);
});
