/**
 * The loop worker's side of a live model switch. The worker never yields to its event loop
 * while cycling, so a request arrives as a message on a dedicated port that it reads with
 * receiveMessageOnPort only when main has bumped CTRL.swap (one atomic load per turn
 * otherwise). The new predictor is built in gaps between cycles, after the last cycle's
 * commands are out, in stages that each run only when the gap leaves the time they need; the
 * swap itself is two field writes in ControlCore. Nothing is allocated except for the swap.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { OutputMap, type OutputMapEntry } from '../actuate/mapping.js';
import type { ActuatorDef } from '../boards/types.js';
import { isReflexError, ReflexError, type ErrorCode } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { kernelFromSpec } from '../predict/kernel-spec.js';
import { KernelPredictor } from '../predict/scaling.js';
import type { ControlCore, CorePredictor } from './core.js';
import type { SwapRequest, WorkerMessage } from './messages.js';
import { CTRL } from './shared.js';
import { SwapCodes } from './codes.js';

type Stage = 'build' | 'trial' | 'swap' | 'retire' | 'done';

/** Time left before a deadline each stage needs (the trial's is the request's needMs). */
const STAGE_MS: Record<Stage, number> = { build: 0.15, trial: 0, swap: 0.02, retire: 0.3, done: 0 };

export interface ModelSwapperOptions {
  port: MessagePort | null;
  ctrl: Int32Array;
  core: ControlCore;
  actuators: readonly ActuatorDef[];
  mapping: readonly OutputMapEntry[];
  /** The spin before each deadline: a build must end before it starts. */
  spinMs: number;
  post: (m: WorkerMessage) => void;
  clock: () => number;
  /** Called with the predictor that was replaced (dispose it); returns live tensors, if known. */
  retire?: (old: CorePredictor) => number | undefined;
  /** Where a failed clean-up of the replaced model is reported (default: a [loop] logger on stderr). */
  log?: Logger;
}

export class ModelSwapper {
  readonly #o: ModelSwapperOptions;
  readonly #log: Logger;
  #seen: number;
  #pending: SwapRequest | null = null;
  #receivedAt = 0;
  #stage: Stage = 'build';
  #p: KernelPredictor | null = null;
  #map: OutputMap | null = null;
  #old: CorePredictor | null = null;
  #cycle = -1;
  #tensors: number | undefined;
  #buildMs = 0;
  #marginMs = Infinity;

  constructor(o: ModelSwapperOptions) {
    this.#o = o;
    this.#log = o.log ?? new Logger({ component: 'loop' });
    this.#seen = Atomics.load(o.ctrl, CTRL.swap);
  }

  get pending(): boolean {
    return this.#pending !== null;
  }

  /**
   * Take a request main has posted, if CTRL.swap says there is one (one atomic load otherwise,
   * and no clock read: each one boxes a number). A newer request replaces an older one.
   */
  poll(): void {
    const s = Atomics.load(this.#o.ctrl, CTRL.swap);
    if (s === this.#seen || !this.#o.port) return;
    this.#seen = s;
    const now = this.#o.clock();
    for (let m = receiveMessageOnPort(this.#o.port); m !== undefined; m = receiveMessageOnPort(this.#o.port)) {
      const next = m.message as SwapRequest;
      // Once swapped, the current switch must complete (its ack is due): a newer one is refused.
      if (this.#stage === 'retire') {
        this.#fail(next, SwapCodes.busy, 'a model switch is completing; send this one again');
        continue;
      }
      if (this.#pending) this.#fail(this.#pending, SwapCodes.superseded, 'a newer model switch replaced this one before it took effect');
      this.#reset();
      this.#pending = next;
      this.#receivedAt = now;
    }
  }

  /**
   * Advance the pending swap by as many stages as fit before `deadline`: build (kernel,
   * predictor, output map), trial (one prediction on the current window), swap, retire (dispose
   * the old model, then acknowledge). Each stage runs only when the time left, minus the spin,
   * is at least what it needs; the rest waits for the next gap, so a fast loop can still switch
   * in several short gaps. `cycle`: the index of the next cycle. True if it did anything (the
   * caller re-reads the clock).
   */
  step(deadline: number, cycle: number): boolean {
    const r = this.#pending;
    if (!r) return false;
    const o = this.#o;
    let did = false;
    for (;;) {
      const now = o.clock();
      if (this.#stage !== 'retire' && now - this.#receivedAt > r.giveUpMs) {
        this.#reset();
        this.#fail(
          r,
          SwapCodes.noGap,
          `no gaps of ${r.needMs.toFixed(2)} ms between cycles came within ${r.giveUpMs} ms, so ${r.dir} was not swapped in; ` +
            'lower the loop rate or switch with the loop idle',
        );
        return true;
      }
      const need = this.#stage === 'trial' ? r.needMs : STAGE_MS[this.#stage];
      if (deadline - now - o.spinMs < need) return did;
      did = true;
      try {
        this.#run(r, cycle);
      } catch (err) {
        this.#reset();
        this.#fail(
          r,
          isReflexError(err) ? err.code : SwapCodes.build,
          `${r.dir}: ${err instanceof Error ? err.message : String(err)}; the old model keeps running`,
        );
        return true;
      }
      const end = o.clock();
      this.#buildMs += end - now;
      this.#marginMs = Math.min(this.#marginMs, deadline - end);
      if (this.#stage === 'done') {
        o.post({
          type: 'swapped',
          id: r.id,
          cycle: this.#cycle,
          buildMs: this.#buildMs,
          marginMs: this.#marginMs,
          ...(this.#tensors !== undefined && { tensors: this.#tensors }),
        });
        this.#reset();
        return true;
      }
    }
  }

  /** One stage; throws to refuse the swap (only before the 'swap' stage: after it, the old model is gone). */
  #run(r: SwapRequest, cycle: number): void {
    const o = this.#o;
    switch (this.#stage) {
      case 'build':
        this.#p = new KernelPredictor(r.scaling, kernelFromSpec(r.spec));
        this.#map = new OutputMap(o.mapping, o.actuators, r.outputNames);
        this.#stage = 'trial';
        return;
      case 'trial': {
        // One run on the window the loop holds now: warms the new code and refuses a model
        // that would put the loop safe on its first cycle.
        const trial = new Float32Array(this.#p!.outputSize);
        this.#p!.predict(o.core.input, trial);
        const bad = trial.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new ReflexError(SwapCodes.nonFinite, `output ${r.outputNames[bad]} is ${trial[bad]} on the current window`);
        this.#stage = 'swap';
        return;
      }
      case 'swap':
        this.#old = o.core.swapPredictor(this.#p!, this.#map!);
        this.#cycle = cycle;
        this.#stage = 'retire';
        return;
      case 'retire':
        try {
          this.#tensors = o.retire?.(this.#old!);
        } catch (err) {
          // The new model runs already: a failed clean-up of the old one is reported, not a failed swap.
          this.#log.warn(`disposing the replaced model failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        this.#stage = 'done';
        return;
      case 'done':
        return;
    }
  }

  #reset(): void {
    this.#pending = null;
    this.#stage = 'build';
    this.#p = null;
    this.#map = null;
    this.#old = null;
    this.#tensors = undefined;
    this.#buildMs = 0;
    this.#marginMs = Infinity;
  }

  #fail(r: SwapRequest, code: ErrorCode, message: string): void {
    this.#o.post({ type: 'swap-failed', id: r.id, code, message });
  }
}
