/**
 * The bridge source as the runtime sees it: a device that is not there (status says so,
 * stop() ends the wait), a flood of gaps (counted exactly, reported at most once a second),
 * and a simulated firmware killed under it (an unplug: reported, restarted, resumed).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import type { BoardDef } from '../src/boards/types.js';
import { Counters } from '../src/core/counters.js';
import { Logger, nullLogger } from '../src/core/log.js';
import { FakeBridgeDevice } from '../src/testing/bridge-fake-device.js';
import { FakeSerialBus } from '../src/hal/serial-fake.js';
import { openNodeSerial } from '../src/hal/serial-node.js';
import type { SerialOpener } from '../src/hal/serial.js';
import type { Source, SourceGap } from '../src/runtime/source.js';
import { openSource } from '../src/runtime/source-open.js';
import { BridgeSource } from '../src/runtime/source-bridge.js';
import { wireSourceEvents } from '../src/runtime/source-events.js';
import type { GapTimers } from '../src/runtime/source-gaps.js';

function bridgeBoard(path: string): BoardDef {
  return { id: 'test-bridge', name: 'test', source: { kind: 'bridge', transport: 'serial', path, rate: 1000, channels: 4, blockSamples: 2 }, actuators: [] };
}

interface Ev {
  kind: string;
  level: string;
  message: string;
  data?: Record<string, string | number | boolean>;
}

/** Resolves with the first value `pick` returns (not undefined) from the events so far or to come; rejects after a guard timeout. */
function waitFor<T>(list: T[], onPush: Set<() => void>, pick: (x: T) => boolean, what: string, guardMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const hit = list.find(pick);
      if (hit === undefined) return false;
      onPush.delete(poll);
      clearTimeout(guard);
      resolve(hit);
      return true;
    };
    const poll = (): void => void check();
    const guard = setTimeout(() => {
      onPush.delete(poll);
      reject(new Error(`timed out waiting for ${what}; have: ${JSON.stringify(list).slice(0, 2000)}`));
    }, guardMs);
    if (!check()) onPush.add(poll);
  });
}

test('a path with no device: status shows attempts and the last error, and stop() ends a pending start() at once', async (t) => {
  // The real serial backend; the wrapper only tells the test when each attempt has failed.
  const failures: number[] = [];
  const pushed = new Set<() => void>();
  const open: SerialOpener = async (o) => {
    try {
      return await openNodeSerial(o);
    } finally {
      failures.push(failures.length + 1);
      queueMicrotask(() => {
        for (const f of pushed) f();
      });
    }
  };
  const path = '/nonexistent/reflex-tty';
  const source = new BridgeSource(bridgeBoard(path), path, null, { log: nullLogger(), open });
  const states: Array<{ s: string; code?: string }> = [];
  source.on('state', (s, d) => states.push({ s, ...(d?.code !== undefined && { code: d.code }) }));
  let settled: { error: unknown } | null = null;
  const started = source.start().then(
    () => (settled = { error: null }),
    (error: unknown) => (settled = { error }),
  );
  // The link retries after 100, 200, 400, 800 ms: after the fifth failure it waits 1.6 s.
  await waitFor(failures, pushed, (n) => n === 5, 'five failed attempts to open');
  await new Promise<void>((r) => setImmediate(r)); // the link records the failure after open() rejects
  const d = source.describe();
  t.is(d.path, path);
  t.is(d.link, 'reconnecting');
  t.is(d.link_attempts, 5);
  t.is(d.last_error_code, 'E_DISCONNECTED');
  t.regex(String(d.last_error), /nonexistent\/reflex-tty/);
  t.is(typeof d.link_since_ms, 'number');
  t.deepEqual(states, [{ s: 'connecting' }, { s: 'reconnecting', code: 'E_DISCONNECTED' }], 'the reconnecting state carries the reason');
  const c = source.counters();
  t.is(c['link.connect_attempts'], 5);
  t.is(c['link.open_failures'], 5);
  t.is(settled, null, 'start() waits while the device is missing');

  // stop() in the middle of the 1.6 s backoff: start() rejects and stop() returns without waiting it out.
  let stopReturned = false;
  const stop = source.stop().then(() => (stopReturned = true));
  const guard = new Promise<void>((r) => setTimeout(r, 1000).unref());
  await Promise.race([Promise.all([stop, started]), guard]);
  t.true(stopReturned, 'stop() returned well within the pending backoff');
  t.is((settled as { error: { code?: string } } | null)?.error?.code, 'E_STOPPED');
  t.is(source.describe().link, 'stopped');
  t.is(failures.length, 5, 'no attempt after stop()');
});

/** Manual timers for the gap aggregation. */
class ManualTimers implements GapTimers {
  now = 0;
  #id = 0;
  readonly #due = new Map<number, { at: number; fn: () => void }>();
  setTimeout = (fn: () => void, ms: number): unknown => {
    this.#due.set(++this.#id, { at: this.now + ms, fn });
    return this.#id;
  };
  clearTimeout = (h: unknown): void => {
    this.#due.delete(h as number);
  };
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#due) if (e[1].at <= target && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.#due.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = target;
  }
}

test('every third frame corrupted: every gap counted, at most one gap event and one gap log line a second', async (t) => {
  const bus = new FakeSerialBus();
  const dev = new FakeBridgeDevice(bus, '/dev/fake-bridge', { channels: 4, block: 2 });
  const clock = new ManualTimers();
  const lines: string[] = [];
  const log = new Logger({ sink: (_l, m) => lines.push(m), level: 'debug', now: () => clock.now });
  const source = new BridgeSource(bridgeBoard('/dev/fake-bridge'), '/dev/fake-bridge', null, { log, open: bus.open });
  const counters = new Counters();
  const events: Array<Ev & { at: number }> = [];
  const wiring = wireSourceEvents(source, {
    counters,
    event: (kind, level, message, data) => events.push({ kind, level, message, ...(data && { data }), at: clock.now }),
    now: () => clock.now,
    timers: clock,
  });
  const gaps: SourceGap[] = [];
  source.on('gap', (g) => gaps.push(g));
  await source.start();
  lines.length = 0;

  // 3 s of device time at one frame per 2 ms (block 2 at 1 kHz): 1500 frames, every third corrupted.
  dev.corruptEvery = 3;
  for (let i = 0; i < 1500; i++) {
    dev.emitSamples(1);
    clock.advance(2);
  }
  dev.corruptEvery = 0;
  dev.emitSamples(1); // closes the gap of the last corrupted frame
  wiring.flush();
  await source.stop();

  t.is(dev.corrupted, 500);
  t.is(gaps.length, 500, 'each corrupted SAMPLES frame is one gap');
  t.is(counters.get('gaps'), 500);
  t.is(counters.get('gap_frames'), 500);
  t.is(counters.get('gap_samples'), 1000);
  const sc = source.counters();
  t.is(sc['decoder.gaps'], 500);
  t.is(sc['decoder.missing_frames'], 500);
  t.is(sc['decoder.bad_crc']! + sc['decoder.bad_cobs']! + sc['decoder.truncated']!, 500);

  const gapEvents = events.filter((e) => e.kind === 'gap');
  t.true(gapEvents.length >= 3 && gapEvents.length <= 5, `one gap event a second over 3 s: ${gapEvents.length}`);
  for (let i = 1; i < gapEvents.length - 1; i++) t.true(gapEvents[i]!.at - gapEvents[i - 1]!.at >= 1000, 'at most one per second');
  const sum = (k: string): number => gapEvents.reduce((s, e) => s + Number(e.data![k]), 0);
  t.is(sum('count'), 500);
  t.is(sum('missing_frames'), 500);
  t.is(sum('missing_samples'), 1000);
  t.is(sum('device_span_us'), 500 * 4000, 'each gap spans two block periods of device time (first samples either side)');
  t.is(gapEvents[0]!.data!.from_seq, 1, 'frame 2 (seq 2) was the first corrupted');
  t.is(gapEvents[0]!.data!.count, 1, 'the first gap is reported at once');
  t.is(gapEvents.at(-1)!.data!.to_seq, 1500);
  t.true(gapEvents.every((e) => e.data!.cause === 'frames' && e.data!.device_reset === false));
  t.regex(gapEvents[1]!.message, /^\d+ gaps \(frames\) in 1\.0 s: \d+ frames, \d+ samples missing, seq \d+ -> \d+/);

  // The log: the decoder's own gap and bad-frame warnings are limited to a line a second per kind.
  const gapLines = lines.filter((l) => /missing after seq/.test(l));
  const crcLines = lines.filter((l) => /bad_crc|bad_cobs|CRC/i.test(l));
  t.true(gapLines.length <= 4, `gap warnings: ${gapLines.length}`);
  t.true(crcLines.length <= 8, `bad-frame warnings: ${crcLines.length}`);
  t.regex(gapLines.at(-1) ?? '', /similar suppressed/);
  wiring.close();
});

test('kill -9 of the simulated firmware looks like an unplug: link removed, disconnect, restart, gap with device reset, samples again', async (t) => {
  t.timeout(60_000);
  const board: BoardDef = { id: 'sim-test', name: 'sim', source: { kind: 'bridge', transport: 'sim', rate: 1000, channels: 2 }, actuators: [] };
  const source: Source = await openSource(board, { log: nullLogger() });
  t.teardown(() => source.stop());
  const counters = new Counters();
  const events: Ev[] = [];
  const pushed = new Set<() => void>();
  const link = String(source.describe().path);
  let linkAtExit: boolean | null = null;
  const wiring = wireSourceEvents(source, {
    counters,
    event: (kind, level, message, data) => {
      // The exit notice is raised right after the supervisor removed the link: look at it now.
      if (kind === 'firmware' && data?.reason === 'firmware_exit') linkAtExit = existsSync(link);
      events.push({ kind, level, message, ...(data && { data }) });
      for (const f of pushed) f();
    },
  });
  let blocks = 0;
  source.on('samples', () => {
    blocks++;
    for (const f of pushed) f();
  });
  await source.start();
  const pidBefore = Number(source.describe().firmware_pid);
  t.true(pidBefore > 0);
  t.is(await readlink(link), String(source.describe().pty));

  process.kill(pidBefore, 'SIGKILL');
  const exit = await waitFor(events, pushed, (e) => e.data?.reason === 'firmware_exit', 'the firmware exit notice');
  t.is(exit.level, 'warn');
  t.like(exit.data, { pid: pidBefore, signal: 'SIGKILL', link_removed: true, will_restart: true });
  t.false(linkAtExit, "the dead pty's link is gone when the exit is reported");
  const disconnect = await waitFor(events, pushed, (e) => e.kind === 'disconnect', 'a disconnect event');
  t.is(disconnect.level, 'warn');
  t.truthy(disconnect.data?.reason);
  const restart = await waitFor(events, pushed, (e) => e.data?.reason === 'firmware_restart', 'the restart notice');
  t.like(restart.data, { restarts: 1 });
  t.not(restart.data?.pid, pidBefore);
  const blocksBefore = blocks;
  await waitFor(events, pushed, (e) => e.kind === 'reconnect', 'streaming again');
  const gap = await waitFor(events, pushed, (e) => e.kind === 'gap', 'the outage gap');
  t.like(gap.data, { cause: 'outage', device_reset: true, count: 1 });
  t.true(Number(gap.data!.host_span_ms) > 0);
  await waitFor([0], pushed, () => blocks > blocksBefore + 10, 'samples after the restart');
  t.is(await readlink(link), String(source.describe().pty), "the link points at the new firmware's pty");
  t.is(Number(source.describe().firmware_pid), Number(restart.data!.pid));
  const c = source.counters();
  t.like(c, { 'firmware.exits': 1, 'firmware.restarts': 1, 'firmware.gave_up': 0, 'link.device_resets': 1, 'link.outages': 1 });
  t.true(c['link.connections_lost']! >= 1);
  t.is(counters.get('device_resets'), 1);
  t.is(counters.get('source_disconnects'), 1);
  wiring.close();
  await source.stop();
  t.false(existsSync(link), 'the firmware removes its link when stopped');
});
