/**
 * Calibration session: rest, then flex, each for a fixed time, repeated; the participant is
 * prompted before each phase and the recording is marked at every phase start and end.
 *
 * The program is data (print it, snapshot it, rewrite it with find/replace); what it does to
 * the world goes through two callbacks, registered as "calibration.prompt" and "calibration.mark".
 */
import { CALL, PRINT, REPEAT, reg, SEQ, WAIT } from '../build.js';
import { FunctionRegistry } from '../functions.js';
import type { Json, ProgramNode } from '../types.js';

export interface CalibrationOptions {
  /** Rest/flex pairs. Default 10. */
  trials?: number;
  /** Default 5000. */
  restMs?: number;
  /** Default 5000. */
  flexMs?: number;
  /** Label of the active phase in prompts and marks. Default "flex". */
  gesture?: string;
}

export interface CalibrationPrompt {
  readonly phase: string;
  /** 0-based trial; equals `trials` for the final "done" prompt. */
  readonly trial: number;
  readonly trials: number;
  /** How long the phase lasts, ms (0 for "done"). */
  readonly durationMs: number;
}

export interface CalibrationMark {
  readonly label: string;
  readonly edge: 'start' | 'end';
  readonly trial: number;
  /** Program clock time of the edge, ms. */
  readonly atMs: number;
}

export interface CalibrationSegment {
  readonly label: string;
  readonly trial: number;
  readonly startMs: number;
  readonly endMs: number;
}

export interface CalibrationCallbacks {
  /** Show the participant what to do next (screen, speech, ...). */
  prompt(p: CalibrationPrompt): void | Promise<void>;
  /** Mark the recording (e.g. an event in the recorder or a telemetry topic). */
  mark(m: CalibrationMark): void | Promise<void>;
}

/** Register holding the finished segments, a list of CalibrationSegment. */
export const SEGMENTS = 'segments';

export function calibrationProgram(opts: CalibrationOptions = {}): ProgramNode {
  const trials = opts.trials ?? 10;
  const restMs = opts.restMs ?? 5000;
  const flexMs = opts.flexMs ?? 5000;
  const gesture = opts.gesture ?? 'flex';
  for (const [k, v] of Object.entries({ trials, restMs, flexMs })) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`calibration ${k} must be a whole number >= 0, got ${v}`);
  }
  const phase = (label: string, ms: number) =>
    SEQ(
      CALL('calibration.prompt', [label, reg('trial'), trials, ms]),
      CALL('calibration.mark', [label, 'start', reg('trial')]),
      WAIT(ms),
      CALL('calibration.mark', [label, 'end', reg('trial')]),
    );
  return SEQ(
    PRINT(`calibration: ${trials} x (rest ${restMs} ms, ${gesture} ${flexMs} ms)`),
    REPEAT(trials, SEQ(phase('rest', restMs), phase(gesture, flexMs)), { counter: 'trial' }),
    CALL('calibration.prompt', ['done', trials, trials, 0]),
  );
}

/** A label argument as text (the program passes strings; anything else as its JSON). */
function text(v: Json): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The functions the calibration program calls, bound to your callbacks. */
export function calibrationFunctions(cb: CalibrationCallbacks): FunctionRegistry {
  return new FunctionRegistry({
    'calibration.prompt': (_ctx, phase, trial, trials, durationMs) =>
      cb.prompt({ phase: text(phase), trial: Number(trial), trials: Number(trials), durationMs: Number(durationMs) }),
    'calibration.mark': async (ctx, label, edge, trial) => {
      const m: CalibrationMark = { label: text(label), edge: edge === 'end' ? 'end' : 'start', trial: Number(trial), atMs: ctx.clock.now() };
      await cb.mark(m);
      // Segments are kept in registers so they survive a snapshot/resume.
      if (m.edge === 'start') {
        ctx.registers.set('segment_start', m.atMs);
      } else {
        const list = ctx.registers.get(SEGMENTS);
        const seg: Record<string, Json> = { label: m.label, trial: m.trial, startMs: ctx.registers.number('segment_start'), endMs: m.atMs };
        ctx.registers.set(SEGMENTS, [...(Array.isArray(list) ? list : []), seg]);
      }
    },
  });
}
