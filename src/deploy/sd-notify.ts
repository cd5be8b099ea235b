/**
 * systemd's notification protocol (sd_notify(3)): newline-separated `KEY=VALUE` assignments sent
 * as one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET ("@name" is the abstract namespace).
 *
 * Node cannot send it itself: `dgram` does UDP only, `net` does stream sockets only, and a
 * datagram socket fd cannot be adopted by either (libuv reports an AF_UNIX SOCK_DGRAM fd as an
 * unknown handle type). Without a native addon the datagrams go out through one long-lived child,
 * the few lines of Python below (`/usr/bin/python3`, which the install needs anyway for node-gyp),
 * fed one message per line over a pipe. systemd attributes each datagram to the child's pid,
 * so the unit needs `NotifyAccess=all` (src/deploy/unit.ts); a one-shot sender such as
 * `systemd-notify` would race its own exit (systemd must look the sender's pid up while it is
 * still alive), a child that lives as long as the run does not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '../core/log.js';

/** Reads its argv[1] socket address, then sends every stdin line as one datagram (0x1f stands for a newline). */
const HELPER = [
  'import socket, sys',
  'a = sys.argv[1]',
  "a = '\\0' + a[1:] if a.startswith('@') else a",
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.connect(a)',
  'for line in sys.stdin.buffer:',
  "    s.send(line.rstrip(b'\\n').replace(b'\\x1f', b'\\n'))",
].join('\n');

/** The interpreter the helper runs in: Debian's, else whatever `python3` is on PATH. */
export function helperInterpreter(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** The socket to notify, or null when not started by systemd with Type=notify (or NotifyAccess=none). */
export function notifySocket(env: NodeJS.ProcessEnv = process.env): string | null {
  const s = env.NOTIFY_SOCKET;
  return s !== undefined && (s.startsWith('/') || s.startsWith('@')) && s.length > 1 ? s : null;
}

/**
 * The watchdog period systemd expects pings within (ms), or null when the watchdog is off or
 * meant for another process (WATCHDOG_PID names the main pid; bin/reflex execs Node, so it is ours).
 */
export function watchdogMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null;
  return usec / 1000;
}

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * One notification as the datagram's text. Values lose control characters (a newline would start
 * another assignment) and are cut at 200 characters: STATUS is shown on one line of `systemctl status`.
 */
export function encodeNotify(fields: Readonly<Record<string, string | number>>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new RangeError(`sd_notify keys are upper-case ASCII, got "${key}"`);
    lines.push(`${key}=${String(value).replace(CONTROL, ' ').slice(0, 200)}`);
  }
  return lines.join('\n');
}

export interface SdNotifierOptions {
  socket: string;
  log: Logger;
  /** Interpreter for the helper (default helperInterpreter()). */
  python?: string;
}

/** Sends notifications through the helper child; failures are logged (rate-limited) and counted, never thrown. */
export class SdNotifier {
  readonly socket: string;
  #log: Logger;
  #python: string;
  #child: ChildProcess | null = null;
  #stderr = '';
  /** Messages the helper could not take (it had exited, or its pipe broke). */
  failures = 0;
  /** Helpers started (more than one: an earlier one exited, see the log). */
  starts = 0;

  constructor(opts: SdNotifierOptions) {
    this.socket = opts.socket;
    this.#log = opts.log;
    this.#python = opts.python ?? helperInterpreter();
  }

  /** From $NOTIFY_SOCKET; null when it is not set. */
  static fromEnv(log: Logger, env: NodeJS.ProcessEnv = process.env): SdNotifier | null {
    const socket = notifySocket(env);
    return socket === null ? null : new SdNotifier({ socket, log });
  }

  send(fields: Readonly<Record<string, string | number>>): void {
    const child = this.#child ?? this.#start();
    const line = encodeNotify(fields).replaceAll('\n', '\x1f') + '\n';
    if (!child.stdin || child.stdin.destroyed || child.exitCode !== null) {
      this.#fail('the sd_notify helper is not running');
      this.#child = null;
      return;
    }
    child.stdin.write(line);
  }

  #start(): ChildProcess {
    this.starts++;
    // -I -S: no user site, no environment-driven imports: the helper runs the same on every machine.
    const child = spawn(this.#python, ['-I', '-S', '-c', HELPER, this.socket], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#child = child;
    this.#stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.#stderr = (this.#stderr + d).slice(-500)));
    child.stdin?.on('error', (err) => this.#fail(`writing to the sd_notify helper: ${err.message}`));
    child.on('error', (err) => {
      if (this.#child === child) this.#child = null;
      this.#fail(`cannot start the sd_notify helper (${this.#python}): ${err.message}; install python3`);
    });
    child.on('exit', (code, sig) => {
      if (this.#child === child) this.#child = null;
      if (code !== 0 || sig !== null) {
        const tail = this.#stderr.trim().split('\n').pop() ?? '';
        this.#fail(`sd_notify helper for ${this.socket} exited (${sig ?? code})${tail ? `: ${tail}` : ''}`);
      }
    });
    // It must never keep a finished run alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  #fail(msg: string): void {
    this.failures++;
    this.#log.limited('warn', 'sd-notify', msg);
  }

  /** Ends the helper after it has sent what it was given (its stdin closes; it exits at EOF). */
  async close(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const guard = setTimeout(() => {
        child.kill();
        resolve();
      }, 2000);
      child.once('exit', () => {
        clearTimeout(guard);
        resolve();
      });
      child.stdin?.end();
    });
  }
}
