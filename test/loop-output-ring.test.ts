/**
 * The output ring: every cycle the loop worker runs reaches the main thread, in order, however
 * long the main thread is held up (within the ring's size), and cycles lost to a main thread
 * held up longer are counted, never silent.
 */
import test from 'ava';
import { ControlLoop, type LoopOutput } from '../src/loop/loop.js';
import type { PredictorSpec } from '../src/loop/messages.js';
import { OutputRing, ringCapacityFor } from '../src/loop/output-ring.js';
import { emptyStats } from '../src/loop/stats.js';
import { monotonicMs } from '../src/time/monotonic.js';
import { servoLoopOptions } from './loop-fixtures.js';

// ---- the ring itself, one thread ----

function put(ring: OutputRing, v: number): void {
  const at = ring.slot();
  for (let i = 0; i < ring.stride; i++) ring.data[at + i] = v + i / 10;
  ring.commit();
}

test('records come out in order, each once, with what was written', (t) => {
  const w = new OutputRing(8, 3);
  const r = new OutputRing(8, 3, w.buffer);
  const got = new Float64Array(3);
  t.false(r.read(got));
  for (let v = 0; v < 5; v++) put(w, v);
  t.is(r.pending, 5);
  for (let v = 0; v < 5; v++) {
    t.true(r.read(got));
    t.deepEqual(Array.from(got), [v, v + 0.1, v + 0.2]);
  }
  t.false(r.read(got));
  t.is(r.lost, 0);
});

test('a reader that falls behind skips the overwritten records and counts them', (t) => {
  const w = new OutputRing(4, 1);
  const r = new OutputRing(4, 1, w.buffer);
  const got = new Float64Array(1);
  for (let v = 0; v < 10; v++) put(w, v);
  // Capacity 4: the slot of the record the writer would fill next is never read, so 3 are left.
  const seen: number[] = [];
  while (r.read(got)) seen.push(got[0]!);
  t.deepEqual(seen, [7, 8, 9]);
  t.is(r.lost, 7);
  put(w, 10);
  t.true(r.read(got));
  t.is(got[0], 10);
  t.is(r.lost, 7);
});

test('the head index wraps at 2^32 without losing or repeating a record', (t) => {
  const w = new OutputRing(4, 1);
  // As if 2^32 - 2 records had been written: the next ones cross the Int32 and the uint32 wraps.
  new Int32Array(w.buffer, 0, 1)[0] = -2;
  const writer = new OutputRing(4, 1, w.buffer);
  const r = new OutputRing(4, 1, w.buffer);
  const got = new Float64Array(1);
  const seen: number[] = [];
  for (let v = 0; v < 12; v++) {
    put(writer, v);
    if (v % 2 === 1) while (r.read(got)) seen.push(got[0]!);
  }
  t.deepEqual(
    seen,
    Array.from({ length: 12 }, (_, i) => i),
  );
  new Int32Array(w.buffer, 0, 1)[0] = 0x7ffffffe;
  const w2 = new OutputRing(4, 1, w.buffer);
  const r2 = new OutputRing(4, 1, w.buffer);
  for (let v = 0; v < 6; v++) put(w2, v);
  seen.length = 0;
  while (r2.read(got)) seen.push(got[0]!);
  t.deepEqual(seen, [3, 4, 5]);
  t.is(r2.lost, 3);
});

test('ring sizes: a power of two above the cycles asked for; bad sizes are refused', (t) => {
  t.is(ringCapacityFor(1), 2);
  t.is(ringCapacityFor(3), 4);
  t.is(ringCapacityFor(4), 8);
  t.is(ringCapacityFor(200), 256);
  t.throws(() => ringCapacityFor(0), { instanceOf: RangeError });
  t.throws(() => ringCapacityFor(1.5), { instanceOf: RangeError });
  t.throws(() => new OutputRing(6, 1), { instanceOf: RangeError });
  t.throws(() => new OutputRing(4, 2, new SharedArrayBuffer(16)), { instanceOf: RangeError });
});

// ---- through the loop worker ----

/** Output k = the window's first value of channel k (time-major), so each cycle's outputs name the window it used. */
const PREDICTOR = `data:text/javascript,${encodeURIComponent(`
export function createPredictor() {
  return { inputSize: 4, outputSize: 2, predict(x, y) { y[0] = x[0]; y[1] = x[1]; } };
}`)}`;
const spec: PredictorSpec = { kind: 'module', url: PREDICTOR, inputSize: 4, outputNames: ['a', 'b'] };

async function startLoop(t: { teardown(fn: () => unknown): void }, outputRing?: number): Promise<ControlLoop> {
  const loop = await ControlLoop.start({
    ...servoLoopOptions(spec, { staleMs: 10_000, overrunStreak: 1_000_000 }),
    ...(outputRing !== undefined && { outputRing }),
  });
  t.teardown(() => loop.stop());
  return loop;
}

/** Window n: its first sample says (n, n / 2), so cycle outputs and commands identify it. */
function windowOf(n: number): Float32Array {
  return Float32Array.of(n, n / 2, 0, 0);
}

/** Hold the main thread (no event loop turn, no reads) for ms, or until `until` holds (bounded by ms). */
function holdMain(ms: number, until: () => boolean = () => false): void {
  const wait = new Int32Array(new SharedArrayBuffer(4));
  const end = monotonicMs() + ms;
  while (monotonicMs() < end && !until()) Atomics.wait(wait, 0, 0, 1);
}

interface Rec {
  cycle: number;
  safe: boolean;
  host: number;
  outputs: number[];
  commands: number[];
}

function drain(loop: ControlLoop, o: LoopOutput, into: Rec[]): number {
  let n = 0;
  while (loop.nextCycle(o)) {
    into.push({ cycle: o.cycle, safe: o.safe, host: o.inputHostTimeMs, outputs: Array.from(o.outputs), commands: Array.from(o.commands) });
    n++;
  }
  return n;
}

/** Each record is what its cycle computed from the window it names; cycles only go forward. */
function checkRecords(t: { true(v: boolean, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, recs: readonly Rec[]): void {
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    if (i > 0) t.true(r.cycle > recs[i - 1]!.cycle, `cycle ${r.cycle} after ${recs[i - 1]!.cycle}`);
    if (Number.isNaN(r.host)) continue;
    t.is(r.outputs[0], r.host, `cycle ${r.cycle} outputs`);
    t.is(r.outputs[1], r.host / 2);
    if (!r.safe) {
      t.is(r.commands[0], Math.min(2000, 1500 + r.host));
      t.is(r.commands[1], Math.min(2000, 1000 + r.host / 2));
    }
  }
}

test.serial('a main thread held up for 300 ms still gets every cycle the loop ran, in order', async (t) => {
  const loop = await startLoop(t);
  t.true(loop.outputRingCycles >= 2000, String(loop.outputRingCycles));
  const o = loop.createOutput();
  const recs: Rec[] = [];
  let n = 1;
  // A little normal running: windows pushed, cycles drained as the runtime's reporter does.
  while (recs.length < 50) {
    loop.pushWindow(windowOf(n), n);
    n++;
    drain(loop, o, recs);
    await new Promise((r) => setImmediate(r));
  }
  const stallN = n;
  loop.pushWindow(windowOf(stallN), stallN);
  holdMain(300);
  const pendingAfterStall = loop.outputRingPending;
  const burst = drain(loop, o, recs);
  t.log(`cycles waiting after the 300 ms stall: ${pendingAfterStall}, drained at once: ${burst}`);
  // The worker runs on meanwhile: the drain takes those too.
  t.true(burst >= pendingAfterStall, `${burst} < ${pendingAfterStall}`);
  for (let i = 0; i < 20; i++) {
    loop.pushWindow(windowOf(++n), n);
    drain(loop, o, recs);
    await new Promise((r) => setImmediate(r));
  }
  await loop.stop();
  drain(loop, o, recs);
  const s = emptyStats();
  t.true(loop.readStats(s));
  t.is(loop.outputRingOverruns, 0);
  t.is(loop.outputRingPending, 0);
  // Every cycle run is there once: the count matches, and the grid indices missing are the ones the schedule skipped.
  t.is(recs.length, s.cycles);
  t.is(recs[0]!.cycle, 1);
  let jumped = 0;
  for (let i = 1; i < recs.length; i++) jumped += recs[i]!.cycle - recs[i - 1]!.cycle - 1;
  // Skips after the last cycle run (its own overrun) move the grid index but leave no gap between records.
  t.true(jumped <= s.skipped, `${jumped} indices missing, ${s.skipped} skipped`);
  checkRecords(t, recs);
  // The window pushed before the stall drove every cycle run during it.
  t.true(recs.filter((r) => r.host === stallN).length >= burst / 2, String(recs.filter((r) => r.host === stallN).length));
  // The stop frame names the next grid index: every record is of a cycle before it.
  const latest = loop.createOutput();
  t.true(loop.readLatest(latest));
  t.is(latest.reason, 'stopped');
  t.true(recs[recs.length - 1]!.cycle < latest.cycle);
});

test.serial('a tiny ring overflows: the lost cycles are counted and the rest come out in order', async (t) => {
  const loop = await startLoop(t, 3);
  t.is(loop.outputRingCycles, 3);
  loop.pushWindow(windowOf(7), 7);
  const o = loop.createOutput();
  const recs: Rec[] = [];
  // Hold main until well over the ring's worth of cycles has run (bounded: a failure guard).
  holdMain(5000, () => loop.outputRingPending >= 40);
  t.true(loop.outputRingPending >= 40, String(loop.outputRingPending));
  t.is(drain(loop, o, recs), 3);
  t.true(loop.outputRingOverruns >= 37, String(loop.outputRingOverruns));
  await loop.stop();
  drain(loop, o, recs);
  const s = emptyStats();
  t.true(loop.readStats(s));
  // Nothing vanished without a count: read + lost = run.
  t.is(recs.length + loop.outputRingOverruns, s.cycles);
  checkRecords(t, recs);
  t.true(recs.filter((r) => r.host === 7).length >= 3);
});
