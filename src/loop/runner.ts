import { ACT } from '../actuate/fd-bridge.js';
import type { ControlCore } from './core.js';
import type { WorkerDriver } from './drive.js';
import { IN, IN_META, OUT, OUT_META } from './messages.js';
import type { OutputRing } from './output-ring.js';
import type { DeadlineSchedule } from './schedule.js';
import { CTRL, type SharedFrame } from './shared.js';
import type { StatsWriter } from './stats.js';
import { reasonCode, reasonOf } from './watchdog.js';

/**
 * Everything the worker does between waits, with time passed in: take main's requests,
 * run the cycle that is due, publish, account for overruns. The worker adds only the
 * waiting (Atomics.wait + spin); tests drive this with a fake clock.
 */
export class LoopRunner {
  readonly #core: ControlCore;
  readonly #sched: DeadlineSchedule;
  readonly #input: SharedFrame;
  readonly #output: SharedFrame;
  readonly #stats: StatsWriter;
  readonly #ctrl: Int32Array;
  readonly #streakLimit: number;
  readonly #staging: Float32Array;
  readonly #inMeta = new Float64Array(IN_META);
  #seenEstop: number;
  #seenRelease: number;
  #inputAt: number;
  #inputHostTime = Number.NaN;
  #lastK = -1;
  readonly #drive: WorkerDriver | null;
  readonly #act: Int32Array | null;
  readonly #ring: OutputRing | null;

  constructor(o: {
    core: ControlCore;
    sched: DeadlineSchedule;
    input: SharedFrame;
    output: SharedFrame;
    stats: StatsWriter;
    ctrl: Int32Array;
    streakLimit: number;
    /** Actuators the worker drives itself, and the shared actuation block (safeAck). */
    drive?: { driver: WorkerDriver; act: Int32Array };
    /** Where every cycle's final output is appended (output-ring.ts). */
    ring?: OutputRing;
  }) {
    this.#ring = o.ring ?? null;
    if (this.#ring && this.#ring.stride !== OUT_META + o.core.commands.length + o.core.outputs.length) {
      throw new RangeError(
        `output ring records hold ${this.#ring.stride} values, the loop writes ${OUT_META + o.core.commands.length + o.core.outputs.length}`,
      );
    }
    this.#drive = o.drive?.driver ?? null;
    this.#act = o.drive?.act ?? null;
    this.#core = o.core;
    this.#sched = o.sched;
    this.#input = o.input;
    this.#output = o.output;
    this.#stats = o.stats;
    this.#ctrl = o.ctrl;
    this.#streakLimit = o.streakLimit;
    this.#staging = new Float32Array(o.core.input.length);
    this.#seenEstop = Atomics.load(o.ctrl, CTRL.estop);
    this.#seenRelease = Atomics.load(o.ctrl, CTRL.release);
    // The first window has staleMs from the start to arrive, like every later one.
    this.#inputAt = o.sched.startMs;
  }

  get schedule(): DeadlineSchedule {
    return this.#sched;
  }

  /** Handle main's requests (e-stop, release, stop). Returns true when the loop must end. */
  control(now: number): boolean {
    const core = this.#core;
    const ctrl = this.#ctrl;
    const k = this.#sched.index;
    if (Atomics.load(ctrl, CTRL.stop) !== 0) {
      core.estop('stopped', k, now, 'loop stopped');
      this.publish(k, now);
      this.#stats.counts(core.counts);
      this.#ackSafe();
      return true;
    }
    const e = Atomics.load(ctrl, CTRL.estop);
    if (e !== this.#seenEstop) {
      this.#seenEstop = e;
      const r = reasonOf(Atomics.load(ctrl, CTRL.estopReason));
      core.estop(r === 'signal' || r === 'uncaught' || r === 'stopped' ? r : 'estop', k, now);
      this.publish(k, now);
      this.#stats.counts(core.counts);
      this.#ackSafe();
    }
    const r = Atomics.load(ctrl, CTRL.release);
    if (r !== this.#seenRelease) {
      this.#seenRelease = r;
      core.release(k, now, 'release requested');
      // Before the event reaches main: ControlLoop.safe must already say what the event says.
      Atomics.store(ctrl, CTRL.safe, core.safe ? 1 : 0);
      this.#stats.counts(core.counts);
    }
    return false;
  }

  /** Run the cycle due at the schedule's deadline, started at `start`; `clock` reads the end time. */
  cycle(start: number, clock: () => number): void {
    const core = this.#core;
    const sched = this.#sched;
    const deadline = sched.deadline;
    const k = sched.index;
    let fresh = false;
    if (this.#input.changed && this.#input.read(this.#inMeta, null, this.#staging)) {
      core.input.set(this.#staging);
      this.#inputAt = this.#inMeta[IN.publishedAtMs]!;
      this.#inputHostTime = this.#inMeta[IN.hostTimeMs]!;
      fresh = true;
    }
    const dtS = this.#lastK < 0 ? sched.periodMs / 1000 : ((k - this.#lastK) * sched.periodMs) / 1000;
    this.#lastK = k;
    core.cycle(k, start, dtS, fresh, this.#inputAt);
    this.publish(k, start);
    const end = clock();
    sched.complete(end);
    if (sched.streak >= this.#streakLimit) {
      core.overrunTrip(k, end, sched.streak);
      this.publish(k, end);
    }
    this.#append(k, start);
    this.#stats.record(start, start - deadline, end - start, sched, core.counts);
  }

  /**
   * Publish the cycle's frame and, when the worker drives actuators, apply it at once.
   * An actuator that throws puts the loop safe (reported as 'uncaught') and the safe
   * values are sent at once; the frame is published again so main sees the safe state.
   */
  publish(cycle: number, now: number): void {
    this.#write(cycle, now);
    const d = this.#drive;
    if (!d) return;
    const core = this.#core;
    if (d.drive(core.commands, core.safe, this.#inputHostTime)) return;
    core.estop('uncaught', cycle, now, `actuator write failed: ${d.lastError}`);
    this.#write(cycle, now);
    d.safe();
  }

  /** Tell main the safe state it asked for is on the outputs (main may wait for this on a signal). */
  #ackSafe(): void {
    const act = this.#act;
    if (!act) return;
    Atomics.add(act, ACT.safeAck, 1);
    Atomics.notify(act, ACT.safeAck);
  }

  /**
   * The cycle as it ended (after an overrun trip or an actuator failure made it safe), once per
   * cycle: what the limiter's state carries into the next one. Requests handled between cycles
   * (e-stop, stop) publish the frame but add no record: the next cycle shows their effect.
   */
  #append(cycle: number, start: number): void {
    const ring = this.#ring;
    if (!ring) return;
    const core = this.#core;
    const d = ring.data;
    let at = ring.slot();
    d[at + OUT.cycle] = cycle;
    d[at + OUT.timeMs] = start;
    d[at + OUT.safe] = core.safe ? 1 : 0;
    d[at + OUT.reason] = core.watchdog.reason === null ? -1 : reasonCode(core.watchdog.reason);
    d[at + OUT.inputsSeen] = core.counts.inputsSeen;
    d[at + OUT.inputHostTimeMs] = this.#inputHostTime;
    at += OUT_META;
    const c = core.commands;
    for (let i = 0; i < c.length; i++) d[at + i] = c[i]!;
    at += c.length;
    const o = core.outputs;
    for (let i = 0; i < o.length; i++) d[at + i] = o[i]!;
    ring.commit();
  }

  #write(cycle: number, now: number): void {
    const core = this.#core;
    const out = this.#output;
    out.begin();
    const m = out.meta;
    m[OUT.cycle] = cycle;
    m[OUT.timeMs] = now;
    m[OUT.safe] = core.safe ? 1 : 0;
    m[OUT.reason] = core.watchdog.reason === null ? -1 : reasonCode(core.watchdog.reason);
    m[OUT.inputsSeen] = core.counts.inputsSeen;
    m[OUT.inputHostTimeMs] = this.#inputHostTime;
    out.f32.set(core.outputs);
    out.f64.set(core.commands);
    out.end();
    out.notify();
    Atomics.store(this.#ctrl, CTRL.safe, core.safe ? 1 : 0);
  }
}
