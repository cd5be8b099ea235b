/**
 * Launcher for the host build of the firmware (`firmware-bridge/build/reflex-bridge-host`):
 * the real firmware core on a pseudo-terminal, with synthetic EMG, a simulated tracker and
 * fault injection. Used by the simulated board, tests and benchmarks.
 *
 * The process prints `PTY <path>` every time it (re)opens a pty; `startSimFirmware`
 * resolves at the first one, and `onReopen` reports the later ones (DISCONNECT fault).
 * Children are killed when this process exits, and the binary itself is started with
 * `--exit-with-parent`, so even a SIGKILLed parent leaves no orphan behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ReflexError } from '../../core/errors.js';
import { Listeners } from '../../core/listeners.js';

export const SimFirmwareCodes = {
  /** The binary is not built: `make -C <package>/firmware-bridge` builds it (npm's install and build scripts run it). */
  missing: 'E_FIRMWARE_MISSING',
  /** The binary did not print its first `PTY` line in time, or exited before it. */
  start: 'E_FIRMWARE_START',
  /** A numeric firmware option is not a finite number. */
  args: 'E_FIRMWARE_ARGS',
} as const;

export interface SimFirmwareOptions {
  /** Sample rate, 250..4000 Hz (firmware default 1000). */
  rate?: number;
  /** Enabled channels, 1..16 (firmware default 8). */
  channels?: number;
  /** Samples per SAMPLES frame, 0 = automatic. */
  block?: number;
  /** Seed of the synthetic EMG and tracker (deterministic per seed). */
  seed?: number;
  /** Device clock error in ppm, positive = fast. */
  driftPpm?: number;
  /** Delay each frame by a uniform random 0..jitterUs µs. */
  jitterUs?: number;
  /** Stream from power-up without waiting for START. */
  autostart?: boolean;
  /** Keep a symlink here pointing at the current pty slave (like /dev/serial/by-id). */
  link?: string;
  /** Write every generated sample as text (firmware-bridge/README.md, "Dump file"). */
  dump?: string;
  /** Write one line per SAMPLES frame with its true CLOCK_MONOTONIC time ("Truth file"). */
  truth?: string;
  /** Write applied actuator outputs and safe-state entries ("Actuator log"). */
  actuatorLog?: string;
  /** More flags passed verbatim, e.g. ['--mains', '60', '--fault', 'drop:5@1000']. */
  extraArgs?: string[];
  /** How long to wait for the first `PTY` line (default 5000 ms). */
  startTimeoutMs?: number;
  /** Binary to run instead of the built one (tests). */
  binary?: string;
}

export interface SimFirmwareExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SimFirmware {
  /** The current pty slave path (changes after a DISCONNECT fault). */
  readonly path: string;
  /** The symlink kept by `--link`, if one was asked for. */
  readonly linkPath: string | undefined;
  readonly pid: number;
  /** Called with the new path each time the firmware opens a new pty. Returns an unsubscribe. */
  onReopen(cb: (path: string) => void): () => void;
  /** Resolves with the next new pty path (after the current one), or rejects after timeoutMs. */
  nextPty(timeoutMs?: number): Promise<string>;
  /** Send a signal (default SIGTERM) without waiting. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM (SIGKILL after killAfterMs, default 3000) and wait for the exit. */
  stop(killAfterMs?: number): Promise<SimFirmwareExit>;
  /** Settles when the process exits, however that happens. */
  readonly exited: Promise<SimFirmwareExit>;
  /** The last few KB the firmware wrote to stderr, for error messages. */
  stderrTail(): string;
}

/** Absolute path of the built host firmware, whether running from src/ (tsx) or dist/. */
export function firmwareBinaryPath(): string {
  // src/devices/sim/ and dist/devices/sim/ are both three levels below the package root; walk
  // up anyway so a differently nested build still finds it.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'firmware-bridge');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) {
      return join(candidate, 'build', 'reflex-bridge-host');
    }
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'firmware-bridge', 'build', 'reflex-bridge-host');
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: a signal is all we can do, and all we need.
    process.on('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
}

function buildArgs(o: SimFirmwareOptions): string[] {
  const args = ['--exit-with-parent'];
  const num = (flag: string, v: number | undefined): void => {
    if (v === undefined) return;
    if (!Number.isFinite(v)) throw new ReflexError(SimFirmwareCodes.args, `${flag} must be a finite number, got ${v}`);
    args.push(flag, String(v));
  };
  num('--rate', o.rate);
  num('--channels', o.channels);
  num('--block', o.block);
  num('--seed', o.seed);
  num('--drift-ppm', o.driftPpm);
  num('--jitter-us', o.jitterUs);
  if (o.autostart) args.push('--autostart');
  if (o.link !== undefined) args.push('--link', o.link);
  if (o.dump !== undefined) args.push('--dump', o.dump);
  if (o.truth !== undefined) args.push('--truth', o.truth);
  if (o.actuatorLog !== undefined) args.push('--actuator-log', o.actuatorLog);
  if (o.extraArgs) args.push(...o.extraArgs);
  return args;
}

const STDERR_KEEP = 4096;

/**
 * What to do when the binary is missing. For the package's own binary the command names the
 * absolute firmware-bridge path, right from any directory, in a checkout or an installed package.
 */
export function missingFirmwareMessage(bin: string, chosen: boolean): string {
  const fix = chosen
    ? 'check the `binary` option'
    : `build it with \`make -C ${dirname(dirname(bin))}\` (needs g++ and make; installing Reflex with npm runs it)`;
  return `host firmware not found at ${bin}: ${fix}`;
}

export async function startSimFirmware(opts: SimFirmwareOptions = {}): Promise<SimFirmware> {
  const bin = opts.binary ?? firmwareBinaryPath();
  if (!existsSync(bin)) throw new ReflexError(SimFirmwareCodes.missing, missingFirmwareMessage(bin, opts.binary !== undefined));
  const args = buildArgs(opts);
  // Its own process group: a Ctrl-C in the terminal goes to the runtime alone, which puts the
  // actuators safe through the firmware and then stops it, like unplugging a board last. Before,
  // the SIGINT killed the firmware too and the safe ACTUATE and STOP met a dead port (EIO).
  // --exit-with-parent still ends it if the runtime dies.
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  track(child);

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_KEEP);
  });

  // 'close' rather than 'exit': it comes after stdout and stderr are drained, so the last
  // PTY line and the error text are in before anyone hears about the exit.
  const exited = new Promise<SimFirmwareExit>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  // A spawn failure (EACCES, ENOEXEC) arrives as 'error' and no 'exit'.
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  let current = '';
  const reopenListeners = new Listeners<string>();
  let first: ((path: string) => void) | null = null;
  const firstPty = new Promise<string>((resolve) => {
    first = resolve;
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (!line.startsWith('PTY ')) return;
    const path = line.slice(4).trim();
    const isFirst = current === '';
    current = path;
    if (isFirst) first?.(path);
    else reopenListeners.emit(path);
  });

  const timeoutMs = opts.startTimeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([
    firstPty.then((p) => ({ kind: 'pty' as const, p })),
    exited.then((e) => ({ kind: 'exit' as const, e })),
    spawnError.then((err) => ({ kind: 'error' as const, err })),
    timeout.then(() => ({ kind: 'timeout' as const })),
  ]);
  clearTimeout(timer);
  if (outcome.kind !== 'pty') {
    child.kill('SIGKILL');
    const why =
      outcome.kind === 'exit'
        ? `exited (code ${outcome.e.code}, signal ${outcome.e.signal}) before opening a pty`
        : outcome.kind === 'error'
          ? `could not be started: ${outcome.err.message}`
          : `printed no PTY line within ${timeoutMs} ms`;
    throw new ReflexError(SimFirmwareCodes.start, `host firmware ${bin} ${why}; args: ${args.join(' ')}; stderr: ${stderr.trim() || '(empty)'}`);
  }

  const stop = async (killAfterMs = 3000): Promise<SimFirmwareExit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    // A firmware that ignores SIGTERM is a bug, but it must not hang its caller.
    const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    try {
      return await exited;
    } finally {
      clearTimeout(t);
    }
  };

  return {
    get path() {
      return current;
    },
    linkPath: opts.link,
    pid: child.pid!,
    onReopen(cb) {
      return reopenListeners.add(cb);
    },
    nextPty(waitMs = 5000) {
      return new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => {
          off();
          reject(new ReflexError(SimFirmwareCodes.start, `host firmware opened no new pty within ${waitMs} ms`));
        }, waitMs);
        const off = reopenListeners.add((p) => {
          clearTimeout(t);
          off();
          resolve(p);
        });
      });
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      child.kill(signal);
    },
    stop,
    exited,
    stderrTail: () => stderr,
  };
}
