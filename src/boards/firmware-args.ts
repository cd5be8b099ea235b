/**
 * `source.firmwareArgs` of a simulated board: extra flags for the host firmware
 * (firmware-bridge/README.md, "reflex-bridge-host"). Checked here, where the error can name
 * the board file and the entry, rather than by the firmware, which would exit 2 with its
 * usage text on stderr after the runtime had already started.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Validator } from '../core/validate.js';

type ValueCheck = (v: string) => string | undefined;

const int =
  (lo: number, hi: number): ValueCheck =>
  (v) =>
    /^-?\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi ? undefined : `an integer in ${lo}..${hi}`;
const num =
  (lo: number, hi: number): ValueCheck =>
  (v) =>
    v.trim() !== '' && Number.isFinite(Number(v)) && Number(v) >= lo && Number(v) <= hi ? undefined : `a number in ${lo}..${hi}`;
const FAULT_KINDS = ['corrupt', 'drop', 'stall', 'disconnect', 'drift', 'jitter', 'garbage'];
const fault: ValueCheck = (v) => {
  const m = /^([a-z]+):(-?\d+)(@\d+)?$/.exec(v);
  return m && FAULT_KINDS.includes(m[1]!) ? undefined : `KIND:PARAM[@MS] with KIND one of ${FAULT_KINDS.join(', ')}`;
};
const loopback: ValueCheck = (v) => {
  const m = /^(\d+):(\d+)$/.exec(v);
  return m && Number(m[1]) <= 3 && Number(m[2]) <= 15 ? undefined : 'ACT:CH with ACT 0..3 and CH 0..15';
};
const signalFault: ValueCheck = (v) =>
  /^deaf:\d+$/.test(v) || (/^[a-z]+:-?\d+$/.test(v) && !fault(v)) ? undefined : `KIND:PARAM with KIND one of ${FAULT_KINDS.join(', ')}, deaf`;
const file: ValueCheck = (v) => (v.length > 0 ? undefined : 'a file path');

/** Flags a board may pass, with the check of their value (null: the flag takes none). */
const ALLOWED: Readonly<Record<string, ValueCheck | null>> = {
  '--seed': int(0, Number.MAX_SAFE_INTEGER),
  '--mains': (v) => (v === '50' || v === '60' ? undefined : '50 or 60'),
  '--drift-ppm': num(-100_000, 100_000),
  '--jitter-us': int(0, 1_000_000),
  '--corrupt': int(0, 2_147_483_647),
  '--fault': fault,
  '--dump': file,
  '--truth': file,
  '--actuator-log': file,
  '--autostart': null,
  '--fault-on-usr1': signalFault,
  '--fault-on-usr2': signalFault,
  '--loopback': loopback,
  '--no-watchdog': null,
};

/** Flags the board or the runtime already sets: a second value would silently win or clash. */
const RESERVED: Readonly<Record<string, string>> = {
  '--rate': 'the board sets it: use "source.rate"',
  '--channels': 'the board sets it: use "source.channels"',
  '--block': 'the board sets it: use "source.blockSamples"',
  '--link': 'the runtime sets it (the stable path the link reopens)',
  '--exit-with-parent': 'the runtime sets it',
  '--vectors': 'it makes the firmware print test vectors and exit',
  '--offline': 'it makes the firmware write a file and exit',
  '--out': 'it belongs to --offline',
  '--help': 'it makes the firmware print its usage and exit',
  '-h': 'it makes the firmware print its usage and exit',
};

/** File flags whose relative paths are taken relative to the board file, as run configuration paths are. */
const FILE_FLAGS = new Set(['--dump', '--truth', '--actuator-log']);

/**
 * `raw` as a list of host-firmware flags; every failure names `source.firmwareArgs[i]`.
 * `baseDir`: where relative file paths are resolved from (the board file's directory).
 */
export function validateFirmwareArgs(v: Validator, raw: unknown, baseDir: string): string[] {
  const key = 'source.firmwareArgs';
  const args = v.array(raw, key).map((x, i) => {
    if (typeof x !== 'string') v.fail(`${key}[${i}]`, `must be a string (one flag or value per entry, e.g. ["--seed", "7"]), got ${JSON.stringify(x)}`);
    return x;
  });
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const at = `${key}[${i}]`;
    if (flag in RESERVED) v.fail(at, `"${flag}" may not be passed: ${RESERVED[flag]}`);
    if (!(flag in ALLOWED)) {
      v.fail(at, `"${flag}" is not a host firmware flag a board may pass (allowed: ${Object.keys(ALLOWED).join(', ')}; see firmware-bridge/README.md)`);
    }
    out.push(flag);
    const check = ALLOWED[flag];
    if (!check) continue;
    const value = args[i + 1];
    if (value === undefined) v.fail(at, `"${flag}" needs a value after it`);
    const problem = check(value);
    if (problem) v.fail(`${key}[${i + 1}]`, `(the value of ${flag}) must be ${problem}, got ${JSON.stringify(value)}`);
    out.push(FILE_FLAGS.has(flag) && !isAbsolute(value) ? resolve(baseDir, value) : value);
    i++;
  }
  return out;
}
