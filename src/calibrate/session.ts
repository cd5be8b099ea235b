/**
 * One calibration session: the program of a calibration file run against a live target
 * (live.ts), each phase announced on the terminal and marked on the run's timeline through the
 * runtime's `mark` command (label "calibration", data {phase, edge, trial, program_ms}), so the
 * recording carries the markers training labels phases by.
 */
import type { Clock } from '../program/clock.js';
import { run } from '../program/run.js';
import { calibrationFunctions, SEGMENTS, type CalibrationPrompt, type CalibrationSegment } from '../program/protocols/calibration.js';
import type { CalibrationFile } from '../program/protocols/calibration-file.js';
import { ControlReplyError } from '../telemetry/control-client.js';
import type { LiveTarget } from './live.js';

/** The `mark` label of every calibration marker. */
export const CALIBRATION_MARK = 'calibration';

export interface CalibrationRunOptions {
  file: CalibrationFile;
  live: Pick<LiveTarget, 'control'>;
  /** Where prompts and the program's PRINTs go (the terminal). */
  print: (line: string) => void;
  signal?: AbortSignal;
  /** Default: the system clock (phases take real time). */
  clock?: Clock;
}

export interface CalibrationRunResult {
  segments: CalibrationSegment[];
  /** Markers sent (two per phase). */
  marks: number;
  /** The runtime's monotonic time of the last marker (its `mark` reply), or null when none was sent. */
  lastMarkAtMs: number | null;
}

/** The line shown for a prompt: `[2/5] FLEX 4 s: <the file's text>`, placeholders filled in. */
export function promptLine(prompts: Readonly<Record<string, string>>, p: CalibrationPrompt): string {
  const seconds = Math.round(p.durationMs / 100) / 10;
  const fill = (t: string): string =>
    t.replace(/\{(trial|trials|seconds)\}/g, (_m, k: string) => String(k === 'trial' ? p.trial + 1 : k === 'trials' ? p.trials : seconds));
  const text = Object.hasOwn(prompts, p.phase) ? fill(prompts[p.phase]!) : '';
  const inCycle = p.trial < p.trials && p.phase !== 'ready';
  const length = p.durationMs <= 0 ? '' : p.durationMs < 1000 ? ` ${Math.round(p.durationMs)} ms` : ` ${seconds} s`;
  const head = `${inCycle ? `[${p.trial + 1}/${p.trials}] ` : ''}${p.phase.toUpperCase()}${length}`;
  return text ? `${head}: ${text}` : head;
}

export async function runCalibration(o: CalibrationRunOptions): Promise<CalibrationRunResult> {
  let marks = 0;
  let lastMarkAtMs: number | null = null;
  const functions = calibrationFunctions({
    prompt: (p) => o.print(promptLine(o.file.prompts, p)),
    mark: async (m) => {
      const reply = await o.live.control.send('mark', {
        label: CALIBRATION_MARK,
        data: { phase: m.label.slice(0, 256), edge: m.edge, trial: m.trial, program_ms: m.atMs },
      });
      if (!reply.ok) throw new ControlReplyError(reply.error.code, `the runtime refused a calibration marker: ${reply.error.message}`);
      marks++;
      lastMarkAtMs = (reply.result as { at_ms: number }).at_ms;
    },
  });
  const regs = await run(o.file.program, {
    functions,
    registers: o.file.registers,
    print: o.print,
    ...(o.clock && { clock: o.clock }),
    ...(o.signal && { signal: o.signal }),
  });
  const segments = regs.get(SEGMENTS);
  return { segments: Array.isArray(segments) ? (segments as unknown as CalibrationSegment[]) : [], marks, lastMarkAtMs };
}
