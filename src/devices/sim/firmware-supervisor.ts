/**
 * Keeps the simulated board's firmware running the way a lab keeps a board plugged in.
 *
 * When the host build dies without being asked to (a crash, `kill -9`), it cannot remove its
 * own `--link` symlink, and a link left pointing at a dead pseudo-terminal is a device that
 * looks present but never answers. So the supervisor does what a USB unplug does to
 * /dev/serial/by-id: it removes the link, reports the exit, and starts the firmware again
 * (with backoff) on the same link path, which the new process recreates. A BridgeLink on
 * that path sees an unplug, then a replugged device with a new boot_id (a reset).
 *
 * After `maxRestarts` restarts in a row, none of which ran for `healthyMs`, it stops trying
 * and reports why ('failed'): a firmware that crashes at once will not be fixed by a retry.
 */
import { EventEmitter } from 'node:events';
import { readlink, unlink } from 'node:fs/promises';
import { ReflexError } from '../../core/errors.js';
import { monotonicMs } from '../../time/monotonic.js';
import { SimFirmwareCodes, startSimFirmware, type SimFirmware, type SimFirmwareExit, type SimFirmwareOptions } from './firmware.js';

export const SupervisorCodes = {
  /** The firmware kept dying and the supervisor stopped restarting it. */
  gaveUp: 'E_FIRMWARE_GAVE_UP',
  /** The stable link to a dead firmware's pty could not be removed (a warning, not a failure). */
  link: 'E_FIRMWARE_LINK',
} as const;

export interface SimFirmwareSupervisorOptions {
  /** How to start the firmware; `link` is required: it is the path that survives restarts. */
  firmware: SimFirmwareOptions & { link: string };
  /** First restart delay, doubled per restart in a row up to restartMaxMs (default 200). */
  restartMinMs?: number;
  /** Longest restart delay, ms (default 5000). */
  restartMaxMs?: number;
  /** Restarts in a row (each lived less than healthyMs) before giving up (default 5). */
  maxRestarts?: number;
  /** A firmware that ran this long counts as healthy: the next restart is the first in a row (default 10000). */
  healthyMs?: number;
  /** Starts one firmware process (default startSimFirmware). */
  launch?: (opts: SimFirmwareOptions) => Promise<SimFirmware>;
  /** Host clock, ms (default monotonicMs). */
  now?: () => number;
}

/** The firmware exited without being asked to. */
export interface FirmwareExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The pty it had open; its symlink was removed if it still pointed there. */
  pty: string;
  linkRemoved: boolean;
  /** Whether a restart follows (false: the supervisor gives up, see 'failed'). */
  willRestart: boolean;
  /** Delay before the restart, ms. */
  restartInMs: number;
  /** The last lines of its stderr. */
  stderr: string;
}

export interface FirmwareRestart {
  pid: number;
  /** The new pty (the link path now points at it). */
  pty: string;
  /** Restarts since the supervisor started. */
  restarts: number;
  /** Restarts in a row without a healthy run, this one included. */
  inARow: number;
  /** Host time from the exit to the new firmware's pty, ms. */
  downMs: number;
}

export interface SimFirmwareSupervisorEvents {
  exit: [exit: FirmwareExit];
  restart: [restart: FirmwareRestart];
  /** A non-fatal problem: a restart attempt that did not come up (retried unless 'failed' follows), a link it could not remove. */
  warning: [err: ReflexError];
  /** Giving up: no more restarts. */
  failed: [err: ReflexError];
}

export interface SupervisorCounters {
  /** Unexpected exits of the firmware. */
  exits: number;
  /** Successful restarts. */
  restarts: number;
  /** Restart attempts whose firmware did not come up. */
  restart_failures: number;
  /** 1 once the supervisor gave up. */
  gave_up: number;
}

export class SimFirmwareSupervisor extends EventEmitter<SimFirmwareSupervisorEvents> {
  readonly #o: Required<Omit<SimFirmwareSupervisorOptions, 'firmware'>> & { firmware: SimFirmwareOptions & { link: string } };
  #fw: SimFirmware | null;
  #startedMs: number;
  #inARow = 0;
  #stopping = false;
  #wake: (() => void) | null = null;
  /** A restart under way, so stop() can wait for it and stop what it started. */
  #restarting: Promise<void> | null = null;
  readonly #c: SupervisorCounters = { exits: 0, restarts: 0, restart_failures: 0, gave_up: 0 };

  private constructor(opts: SimFirmwareSupervisorOptions, fw: SimFirmware) {
    super();
    this.#o = {
      firmware: opts.firmware,
      restartMinMs: opts.restartMinMs ?? 200,
      restartMaxMs: opts.restartMaxMs ?? 5000,
      maxRestarts: opts.maxRestarts ?? 5,
      healthyMs: opts.healthyMs ?? 10_000,
      launch: opts.launch ?? startSimFirmware,
      now: opts.now ?? monotonicMs,
    };
    this.#fw = fw;
    this.#startedMs = this.#o.now();
    this.#watch(fw);
  }

  /** Start the firmware (throws as startSimFirmware does) and watch it. */
  static async start(opts: SimFirmwareSupervisorOptions): Promise<SimFirmwareSupervisor> {
    const fw = await (opts.launch ?? startSimFirmware)(opts.firmware);
    return new SimFirmwareSupervisor(opts, fw);
  }

  /** The stable path (the symlink), what a BridgeLink opens. */
  get linkPath(): string {
    return this.#o.firmware.link;
  }

  /** The running firmware, or null between an exit and its restart (or after giving up). */
  get firmware(): SimFirmware | null {
    return this.#fw;
  }

  counters(): SupervisorCounters {
    return { ...this.#c };
  }

  /** Stop supervising and stop the firmware (SIGTERM, then SIGKILL after killAfterMs). */
  async stop(killAfterMs?: number): Promise<SimFirmwareExit | null> {
    this.#stopping = true;
    this.#wake?.();
    await this.#restarting;
    const fw = this.#fw;
    this.#fw = null;
    if (!fw) return null;
    const exit = await fw.stop(killAfterMs);
    // It removes its link on SIGTERM; one that had to be killed could not.
    await this.#removeLink(fw.path);
    return exit;
  }

  #watch(fw: SimFirmware): void {
    void fw.exited.then((e) => {
      if (this.#stopping || fw !== this.#fw) return;
      this.#restarting = this.#onExit(fw, e).finally(() => (this.#restarting = null));
    });
  }

  async #onExit(fw: SimFirmware, e: SimFirmwareExit): Promise<void> {
    this.#fw = null;
    this.#c.exits++;
    const exitMs = this.#o.now();
    const linkRemoved = await this.#removeLink(fw.path);
    if (exitMs - this.#startedMs >= this.#o.healthyMs) this.#inARow = 0;
    const stderr = fw.stderrTail().trim();
    const willRestart = this.#inARow < this.#o.maxRestarts;
    const restartInMs = this.#delay();
    this.emit('exit', {
      pid: fw.pid,
      code: e.code,
      signal: e.signal,
      pty: fw.path,
      linkRemoved,
      willRestart,
      restartInMs: willRestart ? restartInMs : 0,
      stderr,
    });
    const why = `exited (code ${e.code}, signal ${e.signal})${stderr ? `; stderr: ${stderr.slice(-500)}` : ''}`;
    if (!willRestart) return this.#giveUp(why);
    let delay = restartInMs;
    for (;;) {
      await this.#sleep(delay);
      if (this.#stopping) return;
      this.#inARow++;
      try {
        const next = await this.#o.launch(this.#o.firmware);
        if (this.#stopping) {
          await next.stop();
          return;
        }
        this.#fw = next;
        this.#startedMs = this.#o.now();
        this.#c.restarts++;
        this.#watch(next);
        this.emit('restart', { pid: next.pid, pty: next.path, restarts: this.#c.restarts, inARow: this.#inARow, downMs: this.#startedMs - exitMs });
        return;
      } catch (err) {
        this.#c.restart_failures++;
        const re = err instanceof ReflexError ? err : new ReflexError(SimFirmwareCodes.start, String(err), { cause: err });
        this.emit('warning', re);
        if (this.#inARow >= this.#o.maxRestarts) return this.#giveUp(`could not be restarted: ${re.message}`);
        delay = this.#delay();
      }
    }
  }

  /** The delay before the next restart: doubling with each restart in a row. */
  #delay(): number {
    return Math.min(this.#o.restartMaxMs, this.#o.restartMinMs * 2 ** Math.min(this.#inARow, 30));
  }

  #giveUp(why: string): void {
    this.#c.gave_up = 1;
    this.emit(
      'failed',
      new ReflexError(
        SupervisorCodes.gaveUp,
        `simulated firmware ${why}; gave up after ${this.#inARow} restarts in a row: ` +
          'check that firmware-bridge/build/reflex-bridge-host runs (make -C firmware-bridge) and its flags (firmwareArgs), then restart Reflex',
      ),
    );
  }

  /** Remove the stable link if it still names the dead pty (the firmware could not). */
  async #removeLink(pty: string): Promise<boolean> {
    const link = this.#o.firmware.link;
    let target: string;
    try {
      target = await readlink(link);
    } catch {
      return false; // already gone (the firmware was mid-DISCONNECT, or exited cleanly)
    }
    if (target !== pty) return false;
    try {
      await unlink(link);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT')
        this.emit(
          'warning',
          new ReflexError(SupervisorCodes.link, `cannot remove ${link} (it points at the dead pty ${pty}): ${code ?? String(err)}; remove it by hand`, {
            cause: err,
          }),
        );
      return false;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = null;
        resolve();
      };
    });
  }
}
