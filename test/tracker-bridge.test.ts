import test from 'ava';
import { EventEmitter } from 'node:events';
import { attachBridgeClock, BridgeTracker } from '../src/devices/tracker/bridge.js';
import type { BridgeLinkEvents } from '../src/devices/bridge/link-types.js';
import { createBlock } from '../src/core/block.js';
import { ClockModel } from '../src/time/clock-model.js';
import { simulateClock } from '../src/testing/clock-sim.js';

/** A BridgeLink's events, emitted by hand: the adapters are under test, not the link. */
class FakeLink extends EventEmitter<BridgeLinkEvents> {}

test('TRACKER frames are mapped through the EMG clock model of the same device clock', (t) => {
  let now = 0;
  const clock = new ClockModel({ now: () => now });
  const link = new FakeLink();
  const feed = new BridgeTracker(link, clock, { dims: 2 });
  const got: Array<{ t: number; v: number[]; valid: boolean; seq: number }> = [];
  feed.onSample((s) => got.push({ t: s.hostTimeMs, v: Array.from(s.values), valid: s.valid, seq: s.seq }));

  const frame = { seq: 0, deviceTimeUs: 6e6, values: new Float32Array([1, 2]) };
  link.emit('tracker', frame, 0);
  t.is(got.length, 0, 'no mapping before the EMG clock has evidence');
  t.is(feed.counters().unmapped, 1);

  // EMG frames fit the device clock (300 ppm fast).
  for (const e of simulateClock({ driftPpm: 300, seed: 1 }, 12)) {
    if (e.kind === 'frame') {
      now = e.arrivalMs;
      clock.observeArrival(e.deviceUs + 500, e.arrivalMs);
    }
  }
  // A pose at device time 5e6 + 11 s happened at host 1e6 + 11000 / (1 + 300e-6).
  frame.seq = 1;
  frame.deviceTimeUs = 5e6 + 11e6;
  frame.values[0] = 3;
  link.emit('tracker', frame, now);
  frame.seq = 2;
  frame.values[1] = Number.NaN;
  link.emit('tracker', frame, now);
  link.emit('tracker', { seq: 3, deviceTimeUs: 5e6, values: new Float32Array([1, 2, 3]) }, now);
  t.is(got.length, 2);
  t.true(Math.abs(got[0]!.t - (1e6 + 11_000 / (1 + 300e-6))) < 0.25, `${got[0]!.t}`);
  t.deepEqual(got[0]!.v, [3, 2]);
  t.true(got[0]!.valid);
  t.false(got[1]!.valid, 'NaN value');
  t.deepEqual(feed.counters(), { samples: 2, unmapped: 1, badDims: 1 });
  t.is(feed.clockStatus()!.state, 'locked');
  void feed.close();
  link.emit('tracker', frame, now);
  t.is(got.length, 2, 'detached after close');
  t.is(link.listenerCount('tracker'), 0);
});

test('attachBridgeClock maps blocks before other listeners, uses round trips, re-seeds on reset', (t) => {
  let now = 0;
  const model = new ClockModel({ now: () => now });
  const link = new FakeLink();
  const seen: number[] = [];
  link.on('samples', (b) => seen.push(b.hostTimeMs));
  const detach = attachBridgeClock(link, model);
  const block = createBlock({ stream: 'emg', channels: 1, samples: 2, rate: 2000 });
  let sq = 0;
  let n = 0;
  for (const e of simulateClock({ driftPpm: 200, pingHz: 5, seed: 4 }, 15)) {
    if (e.kind === 'ping') {
      link.emit('pong', { pingId: 1, hostSendMs: e.hostSendMs, hostRecvMs: e.hostRecvMs, deviceRxUs: e.deviceRxUs, deviceTxUs: e.deviceTxUs });
      continue;
    }
    now = e.arrivalMs;
    block.deviceTimeUs = e.deviceUs;
    block.firstSample = e.firstSample;
    link.emit('samples', block, e.arrivalMs, {
      seq: 0,
      firstSample: e.firstSample,
      tUs: e.deviceUs,
      uvPerLsb: 1,
      channels: block.channels,
      samples: block.samples,
      format: 0,
    });
    t.is(seen.at(-1), block.hostTimeMs, 'the later listener saw the mapped time');
    if (e.trueHostMs - 1e6 > 10_000) {
      sq += (block.hostTimeMs - e.trueHostMs) ** 2;
      n++;
    }
  }
  // With round trips the minimum-latency bias is split, so the error is far below the 0.1 ms latency.
  t.true(Math.sqrt(sq / n) < 0.05, `rms ${Math.sqrt(sq / n)}`);
  t.false(Number.isNaN(model.status().boundGapMs));
  link.emit('reset', { cause: 'boot_id', previousBootId: 1, bootId: 2 });
  t.false(model.seeded);
  t.is(model.reseeds, 1);
  detach();
  t.is(link.listenerCount('samples'), 1);
  t.is(link.listenerCount('pong'), 0);
});
