/**
 * Run the calibration protocol (rest 5 s, flex 5 s, 10 times) with console prompts.
 *
 *   npx tsx examples/calibration-protocol.ts            real time (100 s)
 *   npx tsx examples/calibration-protocol.ts --fast     virtual clock: finishes at once
 *   flags: --trials N  --rest-ms MS  --flex-ms MS  --print (show the program and exit)
 *          --snapshot-after STEPS (fast mode: stop after STEPS steps, save JSON, resume from it)
 */
import { parseArgs } from 'node:util';
import {
  calibrationFunctions,
  calibrationProgram,
  printProgram,
  ProgramRunner,
  SEGMENTS,
  systemClock,
  VirtualClock,
  type CalibrationSegment,
  type Clock,
  type ProgramSnapshot,
} from 'reflex/program';

const { values } = parseArgs({
  options: {
    fast: { type: 'boolean', default: false },
    print: { type: 'boolean', default: false },
    trials: { type: 'string', default: '10' },
    'rest-ms': { type: 'string', default: '5000' },
    'flex-ms': { type: 'string', default: '5000' },
    'snapshot-after': { type: 'string' },
  },
});

const program = calibrationProgram({ trials: Number(values.trials), restMs: Number(values['rest-ms']), flexMs: Number(values['flex-ms']) });
if (values.print) {
  console.log(printProgram(program));
  process.exit(0);
}

const clock: Clock = values.fast ? new VirtualClock(0) : systemClock;
const t0 = clock.now();
const at = () => `${((clock.now() - t0) / 1000).toFixed(3).padStart(8)} s`;
const functions = calibrationFunctions({
  prompt: (p) =>
    console.log(
      `${at()}  >>> ${p.phase === 'done' ? 'Done, thank you.' : `${p.phase.toUpperCase()} for ${p.durationMs / 1000} s (trial ${p.trial + 1}/${p.trials})`}`,
    ),
  mark: (m) => console.log(`${at()}      mark ${m.label} ${m.edge}`),
});

let runner = new ProgramRunner(program, { functions, clock });
if (values['snapshot-after'] !== undefined) {
  // Step by hand, as a runtime's event loop would, then save and resume from JSON.
  const limit = Number(values['snapshot-after']);
  while (runner.steps < limit) {
    const r = runner.step();
    if (r.status === 'done') break;
    if (r.status === 'waiting') {
      if (r.until !== null) await clock.sleepUntil(r.until);
      else await runner.settled();
    }
  }
  const json = JSON.stringify(runner.snapshot());
  console.log(`-- snapshot after ${runner.steps} steps: ${json.length} bytes of JSON; resuming from it`);
  // restore() checks the format and re-validates the program: the cast only names the shape.
  const parsed: unknown = JSON.parse(json);
  runner = ProgramRunner.restore(parsed as ProgramSnapshot, { functions, clock });
}
const registers = await runner.run();
const segments = (registers.get(SEGMENTS) ?? []) as unknown as CalibrationSegment[];
console.log(`${segments.length} segments marked; first: ${JSON.stringify(segments[0])}; last: ${JSON.stringify(segments.at(-1))}`);
