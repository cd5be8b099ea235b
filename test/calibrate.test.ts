/**
 * `reflex calibrate`: the shipped program and user program files (JSON or JS, checked with the
 * file and key named), `--fast`, and a whole session against the sim board whose XDF recording
 * holds the EMG and a marker at every phase's start and end, in order, inside the EMG's time span.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { calibrate } from '../src/calibrate/calibrate.js';
import { promptLine } from '../src/calibrate/session.js';
import { main as calibrateMain } from '../src/cli/commands/calibrate.js';
import type { ConfigError } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import { DEFAULT_CALIBRATION_FILE, loadCalibrationFile, parseCalibrationFile, shortened } from '../src/program/protocols/calibration-file.js';
import { readRecording } from '../src/record/xdf-reader.js';
import { defaultConfig } from '../src/runtime/config.js';
import { checkMark } from '../src/runtime/control-commands.js';
import { Runtime } from '../src/runtime/runtime.js';

const tmp = mkdtempSync(join(tmpdir(), 'reflex-calibrate-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('the shipped program cycles rest, flex, extend and grip; --fast turns its seconds into milliseconds', async (t) => {
  const f = await loadCalibrationFile();
  t.is(f.path, DEFAULT_CALIBRATION_FILE);
  t.deepEqual(f.registers, { trials: 5, trial: 0, ready_ms: 5000, rest_ms: 4000, hold_ms: 4000 });
  for (const phase of ['rest', 'flex', 'extend', 'grip', 'ready', 'done']) t.true(phase in f.prompts, phase);
  const fast = shortened(f);
  t.deepEqual(fast.registers, { trials: 5, trial: 0, ready_ms: 5, rest_ms: 4, hold_ms: 4 });
  t.deepEqual(fast.program, f.program, 'durations are registers, so the tree is unchanged');
  const literal = parseCalibrationFile(
    {
      format: 'reflex-calibration/1',
      name: 'literal',
      program: {
        op: 'SEQ',
        body: [
          { op: 'WAIT', ms: 2500 },
          { op: 'CALL', fn: 'calibration.mark', args: ['x', 'start', 0] },
        ],
      },
    },
    'inline',
  );
  t.deepEqual((shortened(literal).program as unknown as { body: unknown[] }).body[0], { op: 'WAIT', ms: 3 });
});

test('a program file is checked with the file and what is wrong named', async (t) => {
  const write = (name: string, text: string): string => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const base = JSON.parse(readFileSync(DEFAULT_CALIBRATION_FILE, 'utf8')) as Record<string, unknown>;
  const bad = async (path: string, re: RegExp): Promise<void> => {
    const e = await t.throwsAsync<ConfigError>(loadCalibrationFile(path));
    t.is(e.code, 'E_PROGRAM_INVALID');
    t.true(e.message.startsWith(path), e.message);
    t.regex(e.message, re);
  };
  await bad(join(tmp, 'absent.json'), /does not exist; copy .*calibration\.json/);
  await bad(write('trunc.json', '{"format": '), /not valid JSON/);
  await bad(write('format.json', JSON.stringify({ ...base, format: 'other' })), /format must be "reflex-calibration\/1"/);
  await bad(write('op.json', JSON.stringify({ ...base, program: { op: 'SEQ', body: [{ op: 'JUMP' }] } })), /program\.body\[0\]\.op: unknown op "JUMP"/);
  await bad(write('nomark.json', JSON.stringify({ ...base, program: { op: 'WAIT', ms: 1 } })), /never calls calibration\.mark/);
  await bad(write('dur.json', JSON.stringify({ ...base, registers: { rest_ms: 'long' } })), /registers\.rest_ms must be a duration/);
  await bad(write('key.json', JSON.stringify({ ...base, extra: 1 })), /unknown keys: extra/);
  // A JS module exporting the document works as well as JSON.
  const js = write(
    'mine.mjs',
    `export default ${JSON.stringify({ ...base, name: 'from js', registers: { trials: 1, rest_ms: 1, hold_ms: 1, ready_ms: 1 } })};\n`,
  );
  t.is((await loadCalibrationFile(js)).name, 'from js');
});

test('prompt lines name the cycle, the phase, its length and the file text', (t) => {
  const prompts = { flex: 'Flex, trial {trial} of {trials}, {seconds} s', ready: 'Starting in {seconds} s.' };
  t.is(promptLine(prompts, { phase: 'flex', trial: 1, trials: 5, durationMs: 4000 }), '[2/5] FLEX 4 s: Flex, trial 2 of 5, 4 s');
  t.is(promptLine(prompts, { phase: 'ready', trial: 0, trials: 5, durationMs: 5000 }), 'READY 5 s: Starting in 5 s.');
  t.is(promptLine(prompts, { phase: 'done', trial: 5, trials: 5, durationMs: 0 }), 'DONE');
  t.is(promptLine({}, { phase: 'grip', trial: 0, trials: 2, durationMs: 4 }), '[1/2] GRIP 4 ms');
});

interface Marker {
  kind: string;
  message: string;
  data: { phase: string; edge: string; trial: number; program_ms: number };
}

test.serial('calibrate --fast on the sim board records EMG with a marker at every phase edge', async (t) => {
  t.timeout(60_000);
  const file = join(tmp, 'session.xdf');
  const lines: string[] = [];
  const r = await calibrate({
    fast: true,
    record: file,
    local: { board: 'sim' },
    print: (l) => lines.push(l),
    log: new Logger({ sink: () => {}, level: 'warn' }),
  });
  const cycle = ['rest', 'flex', 'rest', 'extend', 'rest', 'grip'];
  t.is(r.marks, 2 * 5 * cycle.length);
  t.is(r.segments.length, 5 * cycle.length);
  t.deepEqual(
    r.segments.slice(0, 6).map((s) => s.label),
    cycle,
  );
  t.true(
    lines.some((l) => /^\[1\/5\] FLEX 4 ms: Flex your wrist/.test(l)),
    lines.slice(0, 5).join(' | '),
  );
  t.is(lines.filter((l) => l.startsWith('DONE')).length, 1);

  const rec = readRecording(file);
  t.is(rec.truncatedBytes, 0);
  t.is((rec.header.reflex as { calibration?: { fast?: boolean } }).calibration?.fast, true, 'the program is in the file header');
  const emg = rec.streams.find((s) => s.meta.topic === 'emg.raw');
  t.truthy(emg, rec.streams.map((s) => s.name).join(', '));
  t.is(emg!.type, 'EMG');
  t.is(emg!.channels.length, 8);
  t.true(emg!.samples > 0);
  const events = rec.streams.filter((s) => s.meta.topic === 'event');
  const marks: { at: number; m: Marker }[] = [];
  for (const s of events)
    s.strings.forEach((text, i) => {
      const m = JSON.parse(text) as Marker;
      if (m.kind === 'mark' && m.message === 'calibration') marks.push({ at: s.timestamps[i]!, m });
    });
  t.is(marks.length, r.marks);
  const expected = Array.from({ length: 5 }, (_, trial) => cycle.flatMap((phase) => ['start', 'end'].map((edge) => `${trial}:${phase}:${edge}`))).flat();
  t.deepEqual(
    marks.map(({ m }) => `${m.data.trial}:${m.data.phase}:${m.data.edge}`),
    expected,
  );
  for (let i = 1; i < marks.length; i++) t.true(marks[i]!.at >= marks[i - 1]!.at, 'markers in time order');
  // On the EMG's clock: every marker falls inside the recorded EMG.
  const t0 = emg!.timestamps[0]!;
  const t1 = emg!.timestamps[emg!.samples - 1]!;
  t.true(marks[0]!.at >= t0 && marks.at(-1)!.at <= t1, `markers ${marks[0]!.at}..${marks.at(-1)!.at} outside EMG ${t0}..${t1}`);
});

test.serial('the command refuses to overwrite a recording and checks its flags before starting anything', async (t) => {
  const out = new PassThrough();
  const run = (...argv: string[]): Promise<number> => calibrateMain(argv, { stdout: out, stderr: new PassThrough(), signal: new AbortController().signal });
  const existing = join(tmp, 'keep.xdf');
  writeFileSync(existing, 'precious');
  const e1 = await t.throwsAsync<ConfigError>(run('--fast', '--record', existing));
  t.is(e1.code, 'E_RECORD_EXISTS');
  t.is(readFileSync(existing, 'utf8'), 'precious', 'nothing overwritten');
  t.is((await t.throwsAsync<ConfigError>(run('tcp://127.0.0.1:5556', '--record', join(tmp, 'x.xdf')))).code, 'E_USAGE');
  t.is((await t.throwsAsync<ConfigError>(run('--control', 'tcp://127.0.0.1:5557'))).code, 'E_USAGE');
  const e2 = await t.throwsAsync<ConfigError>(run('--fast', '--record', join(tmp, 'y.xdf'), '--program', join(tmp, 'nope.json')));
  t.is(e2.code, 'E_PROGRAM_INVALID');
  t.false(existsSync(join(tmp, 'y.xdf')), 'no file for a session that never started');
  const e3 = await t.throwsAsync<ConfigError>(run('--fast', '--record', join(tmp, 'z.xdf'), '--board', 'no-such-board'));
  t.regex(e3.code, /^E_/);
  t.false(existsSync(join(tmp, 'z.xdf')));
});

test.serial('calibrate against a runtime running elsewhere records its telemetry and marks it over control', async (t) => {
  t.timeout(60_000);
  const cfg = defaultConfig('sim');
  cfg.model = null;
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  const rt = await Runtime.start(cfg, { log: new Logger({ sink: () => {}, level: 'warn' }), guardProcess: false });
  const file = join(tmp, 'remote.xdf');
  try {
    const program = join(tmp, 'short.json');
    const base = JSON.parse(readFileSync(DEFAULT_CALIBRATION_FILE, 'utf8')) as { registers: Record<string, number> };
    writeFileSync(program, JSON.stringify({ ...base, registers: { ...base.registers, trials: 2 } }));
    const r = await calibrate({
      program,
      fast: true,
      record: file,
      remote: { telemetry: rt.telemetryEndpoints[0]!, control: rt.controlEndpoints[0]! },
      print: () => {},
      log: new Logger({ sink: () => {}, level: 'warn' }),
    });
    t.is(r.marks, 2 * 2 * 6);
    t.is(r.recording.lost, 0);
  } finally {
    await rt.stop();
  }
  const rec = readRecording(file);
  t.is((rec.header.reflex as { recorder?: string }).recorder, 'workstation');
  const emg = rec.streams.find((s) => s.meta.topic === 'emg.raw');
  t.true((emg?.samples ?? 0) > 0);
  const marks = rec.streams
    .filter((s) => s.meta.topic === 'event')
    .flatMap((s) => s.strings.map((x) => JSON.parse(x) as Marker))
    .filter((m) => m.kind === 'mark');
  t.is(marks.length, 24);
  t.deepEqual(
    marks.slice(0, 4).map((m) => `${m.data.phase}:${m.data.edge}`),
    ['rest:start', 'rest:end', 'flex:start', 'flex:end'],
  );
});

test('the mark command takes a label and a flat map of scalars only', (t) => {
  t.is(checkMark({ label: 'calibration', data: { phase: 'flex', trial: 1, ok: true } }), undefined);
  t.regex(checkMark({ label: 'has space' })!, /label must be/);
  t.regex(checkMark({ label: 'x', data: { nested: { a: 1 } } })!, /data\.nested must be/);
  t.regex(checkMark({ label: 'x', data: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])) })!, /at most 16/);
  t.regex(checkMark({ label: 'x', other: 1 })!, /unknown arguments: other/);
});
