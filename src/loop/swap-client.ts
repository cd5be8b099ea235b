/**
 * Main's side of a live model switch: verify the model off this thread (model-verify.ts), post
 * it to the loop worker on the swap port, wake the worker through CTRL.swap and wait for its
 * answer. One switch at a time; a loop that stops or fails meanwhile fails the switch.
 */
import type { MessagePort } from 'node:worker_threads';
import { ReflexError } from '../core/errors.js';
import type { BackendName } from '../predict/backend.js';
import { kernelTransferList } from '../predict/kernel-spec.js';
import { scalingOf } from '../predict/scaling.js';
import type { SwapRequest, WorkerMessage } from './messages.js';
import { type VerifiedModel, verifyModelForSwap } from './model-verify.js';
import { CTRL, request } from './shared.js';
import type { SwapRequirements } from './swap-check.js';
import { LoopCodes, SwapCodes } from './codes.js';

/** What a model switch is checked against beyond the loop itself (see swap-check.ts). */
export type SwapCheck = Pick<SwapRequirements, 'board' | 'running'> & { backends?: BackendName[]; verifyTimeoutMs?: number };

/** A model switch that took effect. */
export interface SwapDone {
  model: VerifiedModel;
  /** The first cycle run on the new model. */
  cycle: number;
  /** Time the loop worker spent building the predictor (and retiring the old one) in a gap between cycles. */
  buildMs: number;
  /** Time left before the next deadline when it was done: positive, so the swap delayed no cycle. */
  marginMs: number;
  /** Live TensorFlow.js tensors in the worker after the old model was disposed. */
  tensors?: number;
}

export type SwapReply = Extract<WorkerMessage, { type: 'swapped' | 'swap-failed' }>;

/** How long the worker may wait for a gap long enough to build the new predictor in. */
const SWAP_GIVE_UP_MS = 2000;

export class SwapClient {
  readonly #port: MessagePort;
  readonly #ctrl: Int32Array;
  #id = 0;
  #busy = false;
  #gone: string | null = null;
  readonly #waiters = new Map<number, { resolve(m: Extract<SwapReply, { type: 'swapped' }>): void; reject(err: Error): void }>();

  constructor(port: MessagePort, ctrl: Int32Array) {
    this.#port = port;
    this.#ctrl = ctrl;
  }

  /** Verify `dir` against `req`, then have the worker swap it in; rejects, changing nothing, on any failure. */
  async swap(dir: string, req: SwapRequirements, check: SwapCheck): Promise<SwapDone> {
    if (this.#gone) throw new ReflexError(LoopCodes.noLoop, `${this.#gone}; start a loop to load a model`);
    if (this.#busy) throw new ReflexError(SwapCodes.busy, 'a model switch is already under way; wait for its reply');
    this.#busy = true;
    try {
      const v = await verifyModelForSwap({ dir, req, ...(check.backends && { backends: check.backends }) }, check.verifyTimeoutMs);
      if (this.#gone) throw new ReflexError(LoopCodes.noLoop, `${this.#gone} while ${v.dir} was being checked`);
      const id = ++this.#id;
      const msg: SwapRequest = {
        id,
        dir: v.dir,
        spec: v.spec,
        scaling: scalingOf(v.meta),
        outputNames: v.meta.outputs.map((o) => o.name),
        // For the trial prediction in the worker: twice what one took here, and some room.
        needMs: 0.1 + 2 * v.runMs,
        giveUpMs: SWAP_GIVE_UP_MS,
      };
      const acked = new Promise<Extract<SwapReply, { type: 'swapped' }>>((resolve, reject) => this.#waiters.set(id, { resolve, reject }));
      this.#port.postMessage(msg, kernelTransferList(v.spec));
      request(this.#ctrl, CTRL.swap);
      const ack = await acked;
      return { model: v, cycle: ack.cycle, buildMs: ack.buildMs, marginMs: ack.marginMs, ...(ack.tensors !== undefined && { tensors: ack.tensors }) };
    } finally {
      this.#busy = false;
    }
  }

  /** The worker's answer to a swap. */
  reply(m: SwapReply): void {
    const w = this.#waiters.get(m.id);
    if (!w) return;
    this.#waiters.delete(m.id);
    if (m.type === 'swapped') w.resolve(m);
    else w.reject(new ReflexError(m.code, m.message));
  }

  /** The loop is gone (`why`): fail the switch under way and any later one. */
  close(why: string): void {
    this.#gone ??= why;
    for (const w of this.#waiters.values()) w.reject(new ReflexError(LoopCodes.noLoop, `${why} before the model switch took effect`));
    this.#waiters.clear();
    this.#port.close();
  }
}
