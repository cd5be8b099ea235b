import { ACT, type FdBridgeSink } from '../actuate/fd-bridge.js';
import type { ActuatorSet } from '../actuate/set.js';
import { monotonicMs } from '../time/monotonic.js';
import type { WriteLog } from './write-log.js';

/**
 * The loop worker's hands: applies each published command set to actuators it opened
 * itself, so a command reaches the OS in the cycle that computed it instead of waiting
 * for the main thread to wake. Same rules as main's dispatcher: in the safe state the
 * safe values go out (again if a bridge frame of them was dropped), never a command.
 */
export class WorkerDriver {
  readonly #set: ActuatorSet;
  readonly #bridge: FdBridgeSink | null;
  readonly #act: Int32Array;
  readonly #log: WriteLog | null;
  #lastError = '';

  constructor(set: ActuatorSet, bridge: FdBridgeSink | null, act: Int32Array, log: WriteLog | null = null) {
    this.#set = set;
    this.#bridge = bridge;
    this.#act = act;
    this.#log = log;
  }

  /** The message of the last failure (after drive/safe returned false). */
  get lastError(): string {
    return this.#lastError;
  }

  /**
   * Apply `commands`, or the safe values when `safe`. False if an actuator threw (counted).
   * `inputHostTimeMs` (the window the commands came from) goes to the write log, if any.
   */
  drive(commands: Float64Array, safe: boolean, inputHostTimeMs = Number.NaN): boolean {
    if (safe) return this.#set.inSafeState && !(this.#bridge?.lastFailed ?? false) ? true : this.safe();
    try {
      const log = this.#log;
      const before = log && this.#bridge ? Atomics.load(this.#act, ACT.framesWritten) : -1;
      this.#set.apply(commands);
      // Bridge: only cycles whose frame went out count as a write (unchanged values are batched away).
      if (log && (before < 0 || Atomics.load(this.#act, ACT.framesWritten) !== before)) log.record(inputHostTimeMs, monotonicMs());
      return true;
    } catch (err) {
      return this.#failed(err);
    }
  }

  /** Every actuator to its safe value now (each is tried even if one throws). */
  safe(): boolean {
    try {
      this.#set.safeAll();
      return true;
    } catch (err) {
      return this.#failed(err);
    }
  }

  close(): void {
    this.#set.close();
  }

  #failed(err: unknown): false {
    Atomics.add(this.#act, ACT.actuatorErrors, 1);
    this.#lastError = err instanceof Error ? err.message : String(err);
    return false;
  }
}
