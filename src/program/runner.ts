import { systemClock, type Clock } from './clock.js';
import { ProgramCodes, ProgramError } from './errors.js';
import { startFrame, walkFrames, type Frame } from './frames.js';
import { FunctionRegistry, type CallContext } from './functions.js';
import type { ProgramContext, ProgramSnapshot } from './context.js';
import { drive } from './drive.js';
import { callError, launch } from './external.js';
import { Registers } from './registers.js';
import { validateProgram } from './tree.js';
import { isRegRef, type Expr, type Json, type ProgramNode, type StepResult } from './types.js';

type Outcome = { s: 'stepped' } | { s: 'done'; worked: boolean } | { s: 'wait'; until: number | null; io: boolean };
const STEPPED: Outcome = { s: 'stepped' };
const DONE_WORKED: Outcome = { s: 'done', worked: true };
const DONE_IDLE: Outcome = { s: 'done', worked: false };

interface Job {
  dropped: boolean;
  error: unknown;
  failed: boolean;
  cancel: () => void;
}

/**
 * Runs a program one step at a time. A step runs one leaf (CALL, PRINT, SET, the start or end of
 * a WAIT, POPEN or SPAWN); control nodes (SEQ, REPEAT, ...) move without costing a step, except
 * that each finished loop iteration yields a step so an empty loop cannot spin inside one call.
 * Waiting is data: `step()` returns `{ status: 'waiting', until, io }` and never blocks, so a
 * runtime's event loop can drive many programs. `run()` drives to the end with the clock.
 */
export class ProgramRunner {
  readonly program: ProgramNode;
  readonly registers: Registers;
  readonly clock: Clock;
  #functions: FunctionRegistry;
  #print: (line: string) => void;
  #frame: Frame | null = null;
  #steps = 0;
  #done = false;
  #failed: ProgramError | undefined;
  #jobs = new Map<number, Job>();
  #nextJob = 1;
  #abort = new AbortController();
  #wake: { promise: Promise<void>; resolve: () => void } | undefined;
  readonly #callCtx: CallContext;

  constructor(program: ProgramNode, ctx: ProgramContext = {}) {
    validateProgram(program);
    this.program = program;
    this.registers = new Registers(ctx.registers ?? {});
    this.clock = ctx.clock ?? systemClock;
    this.#functions = ctx.functions ?? new FunctionRegistry();
    this.#print = ctx.print ?? ((line) => process.stdout.write(line + '\n'));
    this.#callCtx = {
      registers: this.registers,
      clock: this.clock,
      signal: this.#abort.signal,
      print: (line) => this.#print(line),
    };
  }

  /** Resume from a snapshot (possibly taken in another process) with this side's functions and clock. */
  static restore(snapshot: ProgramSnapshot, ctx: Omit<ProgramContext, 'registers'> = {}): ProgramRunner {
    if (snapshot?.format !== 'reflex-program/1')
      throw new ProgramError(
        ProgramCodes.invalid,
        'snapshot',
        `not a program snapshot (format ${JSON.stringify(snapshot?.format)}); expected "reflex-program/1"`,
      );
    const runner = new ProgramRunner(snapshot.program, { ...ctx, registers: snapshot.registers });
    const frame = structuredClone(snapshot.frame);
    const shift = runner.clock.now() - snapshot.clockAt;
    for (const f of walkFrames(frame)) {
      if (f.k === 'wait' && f.until !== null) f.until += shift;
      if (f.k === 'ext' && f.id !== null)
        throw new ProgramError(ProgramCodes.invalid, 'snapshot', 'holds work in flight; take snapshots with restartInFlight or when nothing is in flight');
    }
    runner.#frame = frame;
    runner.#steps = snapshot.steps;
    runner.#done = snapshot.done;
    runner.registers.clearWritten();
    return runner;
  }

  get steps(): number {
    return this.#steps;
  }
  get done(): boolean {
    return this.#done;
  }
  /** Jobs (async CALLs, POPEN, SPAWN) in flight. */
  get inFlight(): number {
    let n = 0;
    for (const j of this.#jobs.values()) if (!j.dropped) n++;
    return n;
  }

  /** Resolves when any in-flight job settles (never, if none is in flight). */
  settled(): Promise<void> {
    this.#wake ??= (() => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    })();
    return this.#wake.promise;
  }

  step(): StepResult {
    if (this.#failed)
      throw new ProgramError(ProgramCodes.state, '', `the program failed earlier (${this.#failed.message}); build a new runner or restore a snapshot`, {
        cause: this.#failed,
      });
    if (this.#done) return { status: 'done' };
    this.#frame ??= startFrame(this.program);
    let out: Outcome;
    try {
      out = this.#advance(this.program, this.#frame, op(this.program));
    } catch (err) {
      this.#failed = err instanceof ProgramError ? err : new ProgramError(ProgramCodes.call, '', String(err), { cause: err });
      this.cancel();
      throw this.#failed;
    }
    if (out.s === 'wait') return { status: 'waiting', until: out.until, io: out.io };
    this.#steps++;
    if (out.s === 'done') {
      this.#done = true;
      return { status: 'done' };
    }
    return { status: 'running' };
  }

  /** Drive to the end, sleeping on the clock or on in-flight work when the program waits. */
  run(signal?: AbortSignal): Promise<Registers> {
    return drive(this, signal);
  }

  /**
   * Stop: kills POPEN commands and SPAWN workers, aborts `ctx.signal` for async CALLs, and
   * leaves the runner refusing further steps (a snapshot taken before still resumes).
   */
  cancel(): void {
    if (!this.#done) this.#failed ??= new ProgramError(ProgramCodes.aborted, '', 'the program was cancelled');
    for (const job of this.#jobs.values()) {
      job.dropped = true;
      job.cancel();
    }
    this.#jobs.clear();
    this.#abort.abort(new ProgramError(ProgramCodes.aborted, '', 'the program was cancelled'));
  }

  /**
   * The whole state as JSON-safe data. With work in flight this throws, unless `restartInFlight`:
   * then in-flight CALL/POPEN/SPAWN nodes are recorded as not started and run again on resume
   * (at-least-once; the in-flight work itself continues here and its result is not merged in).
   */
  snapshot(opts: { restartInFlight?: boolean } = {}): ProgramSnapshot {
    const frame = structuredClone(this.#frame);
    for (const f of walkFrames(frame)) {
      if (f.k === 'ext' && f.id !== null) {
        if (!opts.restartInFlight)
          throw new ProgramError(
            ProgramCodes.state,
            '',
            'work is in flight (an async CALL, POPEN or SPAWN); wait for runner.settled() or pass { restartInFlight: true }',
          );
        f.id = null;
      }
    }
    return {
      format: 'reflex-program/1',
      program: this.program,
      frame,
      registers: this.registers.toJSON(),
      clockAt: this.clock.now(),
      steps: this.#steps,
      done: this.#done,
    };
  }

  #advance(node: ProgramNode, frame: Frame, where: string): Outcome {
    switch (node.op) {
      case 'SEQ': {
        const f = frame as Extract<Frame, { k: 'seq' }>;
        while (f.i < node.body.length) {
          const child = node.body[f.i]!;
          f.child ??= startFrame(child);
          const r = this.#advance(child, f.child, `${where}[${f.i}].${op(child)}`);
          if (r.s !== 'done') return r;
          f.i++;
          f.child = null;
          if (r.worked) return f.i < node.body.length ? STEPPED : DONE_WORKED;
        }
        return DONE_IDLE;
      }
      case 'REPEAT':
      case 'BUFFER_REPEAT': {
        const f = frame as Extract<Frame, { k: 'rep' }>;
        if (f.total === null) {
          f.total = this.#count(node.times, `${where}.times`);
          if (node.op === 'BUFFER_REPEAT') this.registers.set(node.into, []);
        }
        if (f.n >= f.total) return DONE_IDLE;
        if (f.child === null) {
          if (node.counter) this.registers.set(node.counter, f.n);
          f.child = startFrame(node.body);
        }
        const r = this.#advance(node.body, f.child, `${where}#${f.n}.${op(node.body)}`);
        if (r.s !== 'done') return r;
        if (node.op === 'BUFFER_REPEAT') {
          const list = this.registers.get(node.into);
          const value = this.registers.get(node.collect);
          if (!Array.isArray(list))
            throw new ProgramError(ProgramCodes.register, where, `register "${node.into}" must stay a list while BUFFER_REPEAT fills it`);
          this.registers.set(node.into, [...list, value === undefined ? null : value]);
        }
        f.n++;
        f.child = null;
        return f.n >= f.total ? DONE_WORKED : STEPPED;
      }
      case 'LOOP': {
        const f = frame as Extract<Frame, { k: 'loop' }>;
        if (f.child === null) {
          if (node.while !== undefined && !this.#eval(node.while, `${where}.while`)) return DONE_IDLE;
          if (node.counter) this.registers.set(node.counter, f.n);
          f.child = startFrame(node.body);
        }
        const r = this.#advance(node.body, f.child, `${where}#${f.n}.${op(node.body)}`);
        if (r.s !== 'done') return r;
        f.n++;
        f.child = null;
        return STEPPED;
      }
      case 'CHOOSE': {
        const f = frame as Extract<Frame, { k: 'choose' }>;
        if (!f.chosen) {
          const v = this.#eval(node.which, `${where}.which`);
          const key = typeof v === 'string' ? v : JSON.stringify(v);
          if (Object.hasOwn(node.cases, key)) f.branch = key;
          else if (node.default) f.branch = null;
          else
            throw new ProgramError(
              ProgramCodes.invalid,
              where,
              `no case for ${JSON.stringify(key)} and no default (cases: ${Object.keys(node.cases).join(', ')})`,
            );
          f.chosen = true;
        }
        const body = f.branch === null ? node.default! : node.cases[f.branch]!;
        f.child ??= startFrame(body);
        return this.#advance(body, f.child, `${where}.${f.branch ?? 'default'}.${op(body)}`);
      }
      case 'WEAVE':
        return this.#weave(node, frame as Extract<Frame, { k: 'weave' }>, where);
      case 'WAIT': {
        const f = frame as Extract<Frame, { k: 'wait' }>;
        const now = this.clock.now();
        if (f.until === null) {
          const ms = this.#eval(node.ms, `${where}.ms`);
          if (typeof ms !== 'number' || !(ms >= 0))
            throw new ProgramError(ProgramCodes.register, `${where}.ms`, `must be a number of milliseconds >= 0, got ${JSON.stringify(ms)}`);
          f.until = now + ms;
        }
        if (now >= f.until) return DONE_WORKED;
        return { s: 'wait', until: f.until, io: false };
      }
      case 'PRINT':
        this.#print(this.#interpolate(node.text));
        return DONE_WORKED;
      case 'SET':
        this.registers.set(node.reg, this.#eval(node.value, `${where}.value`));
        return DONE_WORKED;
      case 'CALL':
      case 'POPEN':
      case 'SPAWN':
        return this.#external(node, frame as Extract<Frame, { k: 'ext' }>, where);
    }
  }

  #weave(node: Extract<ProgramNode, { op: 'WEAVE' }>, f: Extract<Frame, { k: 'weave' }>, where: string): Outcome {
    const n = node.body.length;
    const required = node.required ?? n;
    let until: number | null = null;
    let io = false;
    for (let tries = 0; tries < n; tries++) {
      const i = (f.next + tries) % n;
      if (f.done[i]) continue;
      const child = node.body[i]!;
      const cf = (f.children[i] ??= startFrame(child));
      const r = this.#advance(child, cf, `${where}[${i}].${op(child)}`);
      if (r.s === 'wait') {
        if (r.until !== null) until = until === null ? r.until : Math.min(until, r.until);
        io ||= r.io;
        continue;
      }
      if (r.s === 'done') {
        f.done[i] = true;
        f.children[i] = null;
      }
      if (r.s === 'done' && !r.worked && f.done.filter(Boolean).length < required) continue;
      f.next = (i + 1) % n;
      if (f.done.filter(Boolean).length >= required) {
        this.#abandon(f);
        return r.s === 'done' && !r.worked ? DONE_IDLE : DONE_WORKED;
      }
      return STEPPED;
    }
    if (f.done.filter(Boolean).length >= required) return DONE_IDLE;
    return { s: 'wait', until, io };
  }

  /** WEAVE finished with children still running: drop their in-flight work. */
  #abandon(f: Extract<Frame, { k: 'weave' }>): void {
    for (const c of f.children) {
      for (const g of walkFrames(c)) {
        if (g.k === 'ext' && g.id !== null) {
          const job = this.#jobs.get(g.id);
          if (job) {
            job.dropped = true;
            job.cancel();
            this.#jobs.delete(g.id);
          }
        }
      }
    }
    f.children.fill(null);
  }

  #external(node: Extract<ProgramNode, { op: 'CALL' | 'POPEN' | 'SPAWN' }>, f: Extract<Frame, { k: 'ext' }>, where: string): Outcome {
    if (f.done) return DONE_WORKED;
    if (f.id !== null) {
      const job = this.#jobs.get(f.id);
      if (job?.failed) {
        this.#jobs.delete(f.id);
        throw job.error;
      }
      return { s: 'wait', until: null, io: true };
    }
    const { result, cancel, land } = launch(node, where, {
      functions: this.#functions,
      callCtx: this.#callCtx,
      registers: this.registers,
      clock: this.clock,
      print: this.#print,
      eval: (e, at) => this.#eval(e, at),
    });
    if (!(result instanceof Promise)) {
      land(result);
      return DONE_WORKED;
    }
    const id = this.#nextJob++;
    const job: Job = { dropped: false, error: undefined, failed: false, cancel };
    this.#jobs.set(id, job);
    f.id = id;
    result.then(
      (v) => {
        if (job.dropped) return;
        this.#jobs.delete(id);
        f.id = null;
        f.done = true;
        try {
          land(v);
        } catch (err) {
          job.failed = true;
          job.error = err;
          this.#jobs.set(id, job);
          f.id = id;
          f.done = false;
        }
        this.#notify();
      },
      (err: unknown) => {
        if (job.dropped) return;
        job.failed = true;
        job.error = err instanceof ProgramError ? err : callError(where, node.op === 'CALL' ? node.fn : node.op, err);
        this.#notify();
      },
    );
    return { s: 'wait', until: null, io: true };
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.resolve();
  }

  #eval(e: Expr, where: string): Json {
    if (!isRegRef(e)) return e;
    const v = this.registers.get(e.$reg);
    if (v === undefined) throw new ProgramError(ProgramCodes.register, where, `register "${e.$reg}" is not set`);
    return v;
  }

  #count(e: Expr, where: string): number {
    const v = this.#eval(e, where);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new ProgramError(ProgramCodes.register, where, `must be a whole number >= 0, got ${JSON.stringify(v)}`);
    return v;
  }

  #interpolate(text: string): string {
    return text.replace(/\{([A-Za-z_][\w.-]*)\}/g, (m, key: string) => {
      const v = this.registers.get(key);
      return v === undefined ? m : typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
}

function op(node: ProgramNode): string {
  return node.op === 'CALL' ? `CALL(${node.fn})` : node.op;
}
