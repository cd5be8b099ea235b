/**
 * The systemd unit `reflex install` writes (/etc/systemd/system/reflex.service). Every choice
 * is explained in the unit's own comments, so whoever reads it on the Pi sees why; docs/install.md
 * says the same at more length.
 */

export interface UnitOptions {
  /** Where Reflex is installed (its bin/reflex is started). */
  prefix: string;
  /** Configuration directory (run.json, board.json). */
  configDir: string;
  user: string;
  /** Board id, for the description. */
  board: string;
  /** Watchdog period in seconds (systemd restarts the run when no healthy ping comes within it). */
  watchdogSec: number;
  /** CPUAffinity= value (e.g. "0-3"); omitted when undefined. */
  cpuAffinity?: string;
}

export const UNIT_NAME = 'reflex.service';

/** CPU list as CPUAffinity= takes it: "0-3", "1 2", "0,2-3". */
export const CPU_LIST = /^\d+(-\d+)?([ ,]\d+(-\d+)?)*$/;

export function renderUnit(o: UnitOptions): string {
  if (!(o.watchdogSec >= 2 && Number.isInteger(o.watchdogSec))) throw new RangeError(`watchdogSec must be an integer >= 2, got ${o.watchdogSec}`);
  if (o.cpuAffinity !== undefined && !CPU_LIST.test(o.cpuAffinity)) throw new RangeError(`bad CPU list "${o.cpuAffinity}"`);
  for (const [k, v] of Object.entries({ prefix: o.prefix, configDir: o.configDir })) {
    // systemd splits ExecStart= on whitespace and expands % and $: keep paths plain.
    if (!/^\/[A-Za-z0-9._/+-]*$/.test(v)) throw new RangeError(`${k} must be an absolute path of letters, digits and ._/+-, got "${v}"`);
  }
  const affinity =
    o.cpuAffinity !== undefined
      ? [`CPUAffinity=${o.cpuAffinity}`]
      : ['# CPUAffinity= unset: all cores. With isolcpus=3 on the kernel command line, `reflex install --cpus 0-3` (docs/realtime.md, 3).'];
  return [
    '# Written by `reflex install`; reinstalling overwrites it. Local changes: `systemctl edit reflex`.',
    '[Unit]',
    `Description=Reflex EMG runtime (board ${o.board})`,
    `Documentation=file://${o.prefix}/docs/install.md`,
    'After=network-online.target',
    'Wants=network-online.target',
    // A run that keeps failing within minutes (a broken board file after an edit) stops being
    // restarted and shows as failed, instead of cycling forever.
    'StartLimitIntervalSec=10min',
    'StartLimitBurst=10',
    '',
    '[Service]',
    '# READY=1 once the run is running; WATCHDOG=1 only while the loop cycles and the source streams.',
    'Type=notify',
    '# The notifications are sent by a helper child of the run (Node has no unix datagram sockets).',
    'NotifyAccess=all',
    `ExecStart=${o.prefix}/bin/reflex run --config ${o.configDir}/run.json --log-format json --quiet`,
    // Never --arm here: a restart after a failure must come up safe, armed only by a person (`reflex ctl ... release`).
    '# No --arm: after a restart the actuators stay safe until `reflex ctl <endpoint> release`.',
    'Restart=on-failure',
    'RestartSec=5s',
    `WatchdogSec=${o.watchdogSec}s`,
    '# Covers checks and model load; waiting for an unplugged board extends it (EXTEND_TIMEOUT_USEC).',
    'TimeoutStartSec=90s',
    'TimeoutStopSec=20s',
    '# SIGTERM to Reflex only: it puts the actuators safe and stops its own children.',
    'KillMode=mixed',
    `User=${o.user}`,
    `Group=${o.user}`,
    `WorkingDirectory=/var/lib/${o.user}`,
    `StateDirectory=${o.user}`,
    `RuntimeDirectory=${o.user}`,
    '',
    '# Real time (docs/realtime.md): the loop thread asks for SCHED_FIFO itself (run.json loop.priority);',
    '# not CPUSchedulingPolicy=, which would put every thread and child of the run on FIFO.',
    'AmbientCapabilities=CAP_SYS_NICE',
    'CapabilityBoundingSet=CAP_SYS_NICE',
    'LimitRTPRIO=95',
    'LimitMEMLOCK=infinity',
    ...affinity,
    '',
    '# Logs: one JSON object per line on stderr (level, component, code), kept by the journal.',
    'StandardOutput=journal',
    'StandardError=journal',
    'SyslogIdentifier=reflex',
    '',
    '# Hardening that leaves GPIO, PWM, SPI and serial working:',
    '# /dev and /sys stay writable under ProtectSystem=strict (sysfs PWM export, GPIO).',
    'ProtectSystem=strict',
    `ReadWritePaths=/var/lib/${o.user} /run/${o.user}`,
    'ProtectHome=yes',
    '# The simulated board links its pty into the temp dir: private, Reflex and its firmware share it.',
    'PrivateTmp=yes',
    'NoNewPrivileges=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'ProtectHostname=yes',
    'RestrictNamespaces=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'UMask=0027',
    '# Left out on purpose: PrivateDevices=, DeviceAllow= and ProtectClock= (which implies a device',
    '# allow-list) would hide serial ports that appear on replug and GPIO chips whose numbers change',
    '# between kernels: device access is limited by the user and its groups instead.',
    '# ProtectKernelTunables= makes /sys read-only (no PWM export); MemoryDenyWriteExecute= breaks',
    "# V8's JIT; RestrictRealtime= forbids the loop's SCHED_FIFO.",
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
