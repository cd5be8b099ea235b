/**
 * The HIL report and its two renderings, without a board: the JSON report validates (and a
 * report that lies about its steps does not), the JUnit XML parses as XML (Python's
 * ElementTree, an independent parser) with one testcase per step and a failure or skipped
 * element where due, and the measuring helpers compute what they claim.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoard } from '../src/boards/load.js';
import { main } from '../src/cli/commands/hil.js';
import { Logger } from '../src/core/log.js';
import { nonInteractiveOperator } from '../src/hil/operator.js';
import { runHil } from '../src/hil/runner.js';
import { ConfigError } from '../src/core/errors.js';
import { toJUnit } from '../src/hil/junit.js';
import { countedRate, hilLimits, latencyStats, percentile } from '../src/hil/limits.js';
import { buildReport, reportJson, validateReport } from '../src/hil/report.js';
import { safeAfterSilence } from '../src/hil/steps-device.js';
import { HIL_STEP_NAMES, HIL_STEPS, type HilReport, type HilStepResult } from '../src/hil/types.js';

const board = loadBoard('sim');

function sampleReport(): HilReport {
  const loopbackMeasured: Record<string, number> = { loopback_p99_ms: 7.5, loopback_max_ms: Number.NaN };
  const steps: HilStepResult[] = HIL_STEPS.map((id, i) => ({
    id,
    name: HIL_STEP_NAMES[id],
    status: i === 1 ? 'fail' : i === 3 ? 'skip' : 'pass',
    reason: i === 1 ? 'p99 7.5 ms over the limit of 5 ms; <jumper> & "wiring"' : i === 3 ? 'needs a person at the bench' : 'fine',
    durationMs: 100 * (i + 1),
    measured: i === 1 ? loopbackMeasured : { x_ms: i },
    limits: { p99_ms: 5 },
  }));
  return buildReport(board, hilLimits(board), true, Date.UTC(2026, 11, 7, 4, 0, 0), 1234, steps);
}

test('a report counts its steps, validates, and writes NaN as null', (t) => {
  const r = sampleReport();
  t.deepEqual(r.summary, { passed: 5, failed: 1, skipped: 1 });
  t.false(r.ok);
  const parsed = JSON.parse(reportJson(r)) as Record<string, unknown>;
  t.deepEqual(validateReport(parsed), []);
  t.is((parsed.steps as Array<{ measured: Record<string, unknown> }>)[1]!.measured.loopback_max_ms, null);
  t.is(parsed.startedAt, '2026-12-07T04:00:00.000Z');
});

test('a report that disagrees with its steps, or with the schema, is refused naming the key', (t) => {
  const good = (): Record<string, unknown> => JSON.parse(reportJson(sampleReport())) as Record<string, unknown>;
  const steps = (r: Record<string, unknown>): Array<Record<string, unknown>> => r.steps as Array<Record<string, unknown>>;
  const cases: Array<[string, (r: Record<string, unknown>) => void, string]> = [
    ['claims ok with a failed step', (r) => (r.ok = true), 'ok'],
    ['summary not counting', (r) => ((r.summary as Record<string, number>).failed = 0), 'summary'],
    ['unknown status', (r) => (steps(r)[0]!.status = 'flaky'), 'steps[0].status'],
    ['a failure without a reason', (r) => (steps(r)[1]!.reason = ''), 'steps[1].reason'],
    ['a step twice', (r) => (steps(r)[2]!.id = 'rate'), 'steps[2].id'],
    ['measured not numbers', (r) => (steps(r)[0]!.measured = { x: 'fast' }), 'steps[0].measured'],
    ['wrong schema', (r) => (r.schema = 'reflex.hil/0'), 'schema'],
    ['unknown top-level key', (r) => (r.verdict = 'pass'), 'verdict'],
    ['unknown step key', (r) => (steps(r)[0]!.note = 'x'), 'steps[0].note'],
    ['bad start time', (r) => (r.startedAt = 'yesterday'), 'startedAt'],
  ];
  for (const [what, edit, key] of cases) {
    const r = good();
    edit(r);
    const problems = validateReport(r);
    t.true(
      problems.some((p) => p.startsWith(`${key}:`)),
      `${what}: ${JSON.stringify(problems)}`,
    );
  }
  t.deepEqual(validateReport('report'), ['report: must be an object']);
});

interface ParsedSuite {
  root: string;
  suites: Array<{
    name: string;
    tests: string;
    failures: string;
    skipped: string;
    cases: Array<{ name: string; failure: string | null; skipped: string | null; out: string }>;
  }>;
}

/** Parses with Python's ElementTree: a malformed document raises there and fails the test. */
function parseXml(xml: string): ParsedSuite {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
out = {"root": root.tag, "suites": []}
for s in root.iter("testsuite"):
    cases = []
    for c in s.findall("testcase"):
        f = c.find("failure"); k = c.find("skipped"); o = c.find("system-out")
        cases.append({"name": c.get("name"), "failure": None if f is None else f.get("message"),
                      "skipped": None if k is None else k.get("message"), "out": "" if o is None else o.text})
    out["suites"].append({"name": s.get("name"), "tests": s.get("tests"), "failures": s.get("failures"),
                          "skipped": s.get("skipped"), "cases": cases})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: xml, encoding: 'utf8' })) as ParsedSuite;
}

test('JUnit XML parses, one testcase per step, failure and skipped where due, text escaped', (t) => {
  const r = sampleReport();
  const doc = parseXml(toJUnit(r));
  t.is(doc.root, 'testsuites');
  t.is(doc.suites.length, 1);
  const s = doc.suites[0]!;
  t.like(s, { name: 'reflex-hil.sim', tests: '7', failures: '1', skipped: '1' });
  t.is(s.cases.length, HIL_STEPS.length);
  t.is(s.cases[1]!.failure, 'p99 7.5 ms over the limit of 5 ms; <jumper> & "wiring"');
  t.is(s.cases[3]!.skipped, 'needs a person at the bench');
  t.is(s.cases.filter((c) => c.failure !== null).length, 1);
  t.regex(s.cases[1]!.out, /loopback_p99_ms=7\.5 loopback_max_ms=n\/a/);
  t.true(s.cases[0]!.name.startsWith('rate: '));
});

test('percentiles, latency stats and the counted rate', (t) => {
  t.is(percentile([1, 2, 3, 4], 50), 2);
  t.is(percentile([1, 2, 3, 4], 99), 4);
  t.true(Number.isNaN(percentile([], 50)));
  t.like(latencyStats([5, 1, 3]), { count: 3, p50: 3, max: 5, min: 1 });
  // 2000 Hz running 150 ppm fast, blocks of 2 samples, each arriving 0.2..5 ms late (never early).
  const rate = 2000 * (1 + 150e-6);
  const arrivals: number[] = [];
  const ends: number[] = [];
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let k = 2; k <= 20000; k += 2) {
    ends.push(k);
    arrivals.push(1000 + (k / rate) * 1000 + 0.2 + (rnd() < 0.1 ? 0 : rnd() * 4.8));
  }
  const c = countedRate(arrivals, ends, 2000);
  const ppm = (c.hz / 2000 - 1) * 1e6;
  t.true(Math.abs(ppm - 150) < c.resolutionPpm, `${ppm} ppm within ${c.resolutionPpm}`);
  t.true(c.resolutionPpm < 200);
  t.true(Number.isNaN(countedRate([1, 2], [1, 2], 2000).hz));
});

test('the firmware watchdog interval is read from the actuator log in device time', (t) => {
  const log = ['1000 safe', '2000 2 0 1', '5000 silent', '505100 safe', '600000 2 0 1', ''].join('\n');
  t.is(safeAfterSilence(log), 500.1);
  t.true(Number.isNaN(safeAfterSilence('2000 2 0 1\n3000 silent\n')));
});

test('usage errors are ConfigErrors (exit 2); a board without a hil section says how to add one', async (t) => {
  const ctx = { stdout: process.stdout, stderr: process.stderr, signal: new AbortController().signal };
  await t.throwsAsync(main(['--skip', 'warp_drive'], ctx), { instanceOf: ConfigError, message: /no step "warp_drive"/ });
  await t.throwsAsync(main(['--duration', '0'], ctx), { instanceOf: ConfigError, message: /duration/ });
  await t.throwsAsync(main(['--board', 'openbci-cyton', '--yes'], ctx), { instanceOf: ConfigError, message: /no "hil" section.*docs\/hil\.md/ });
  await t.throwsAsync(main(['--bogus'], ctx), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  const dir = mkdtempSync(join(tmpdir(), 'reflex-hil-usage-'));
  try {
    const raw = JSON.parse(readFileSync(board.file!, 'utf8')) as Record<string, unknown>;
    delete raw.hil;
    writeFileSync(join(dir, 'nohil.json'), JSON.stringify(raw));
    t.throws(() => hilLimits(loadBoard(join(dir, 'nohil.json'))), { instanceOf: ConfigError });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a board whose device is not there: the device steps fail saying so, nothing hangs', async (t) => {
  t.timeout(30_000);
  const report = await runHil({
    board: 'rpi4',
    rateDurationS: 1,
    loopbackSteps: 10,
    skip: new Map([
      ['host_watchdog', 'not in this test'],
      ['estop_control', 'not in this test'],
      ['estop_gpio', 'not in this test'],
    ]),
    operator: nonInteractiveOperator(),
    log: new Logger({ sink: () => undefined }),
    signal: new AbortController().signal,
    connectMs: 1000,
    // Hardware: driving it needs this statement (or a person's "yes"); hil-consent.test.ts tests the refusal.
    outputsUnloaded: true,
  });
  t.false(report.ok);
  t.deepEqual(validateReport(JSON.parse(reportJson(report))), []);
  t.false(report.board.simulated);
  for (const s of report.steps.slice(0, 4)) {
    t.is(s.status, 'fail', s.id);
    t.regex(s.reason, /the source did not stream: .*waited up to 1000 ms/);
  }
  t.deepEqual(
    report.steps.slice(4).map((s) => s.reason),
    ['skipped: not in this test', 'skipped: not in this test', 'skipped: not in this test'],
  );
});
