import test from 'ava';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { nullLogger } from '../src/core/log.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import type { BlockBody } from '../src/telemetry/topics.js';
import { bindEndpoint, PROTOS } from './telemetry-helpers.js';

const N = 600;

function bigBlock(): BlockBody {
  // 16 channels x 1024 samples = 64 KiB per message, so kernel buffers fill within a few hundred messages.
  return {
    stream: 'emg', rate: 2000, unit: 'uV', channels: Array.from({ length: 16 }, (_, i) => `ch${i + 1}`), samples: 1024, first_sample: 0,
    block_seq: 0, device_time_us: 0, host_time_ms: 0, host_period_ms: 0.5, valid: true, data: new Float32Array(16 * 1024).fill(1.5),
  };
}

/** Publish N blocks back to back, never awaiting; returns how many calls returned. */
function burst(pub: TelemetryPublisher, body: BlockBody): number {
  let returned = 0;
  for (let i = 0; i < N; i++) {
    body.block_seq = i;
    pub.publish('emg.raw', body);
    returned++;
  }
  return returned;
}

for (const proto of PROTOS) {
  test(`a subscriber that never reads does not hold publishing up over ${proto}: drops are counted and match its gaps`, async (t) => {
    // describeEveryMs: one descriptor per subscription only, so the arithmetic below is exact.
    const pub = new TelemetryPublisher({ endpoints: [bindEndpoint(proto)], runtimeId: 'rig-a', boardId: 'sim', hwm: 8, describeEveryMs: 1e9, logger: nullLogger() });
    const [ep] = await pub.start();
    const body = bigBlock();
    try {
      // Baseline: nobody subscribed.
      t.is(burst(pub, body), N);
      await nextTurn(); // let the send outcomes (microtasks) land in the counters
      const base = pub.stats().topics['emg.raw'];
      // N blocks and the descriptor sent before the first of them.
      t.is(base.descriptors, 1);
      t.is(base.sent + base.dropped, N + 1);
      t.is(base.dropped, 0);

      // A subscriber that takes one message and then stops reading.
      const stalled = new TelemetryClient({ endpoints: [ep!], topics: ['emg.raw'], queue: 1, receiveHighWaterMark: 8, logger: nullLogger() });
      await pub.waitForSubscription('emg.raw/');
      t.is(burst(pub, body), N);
      await nextTurn();
      const after = pub.stats().topics['emg.raw'];
      const sent = after.sent - base.sent;
      const dropped = after.dropped - base.dropped;
      // Same number of calls returned with the stalled subscriber as without: publishing was not held up.
      // The new subscription made the publisher describe the stream again, first, into an empty queue.
      t.is(after.descriptors - base.descriptors, 1);
      t.is(sent + dropped, N + 1);
      t.true(dropped > 0, 'the full subscriber queue made the publisher drop');
      t.true(sent > 0);

      // Now read everything that was accepted: exactly `sent` messages, and the gaps account for every drop.
      const seqs: number[] = [];
      let lost = 0;
      const guard = setTimeout(() => void stalled.close(), 10_000);
      const blocks = sent - 1; // the rest of what was accepted is the descriptor
      for await (const m of stalled) {
        seqs.push(m.seq);
        lost += m.lost;
        if (seqs.length === blocks) break;
      }
      clearTimeout(guard);
      t.is(seqs.length, blocks);
      t.is(stalled.stats().descriptors, 1);
      t.is(stalled.stats().undescribed, 0);
      // Sequence numbers continue from the baseline burst (N + 1), then this burst's descriptor took one.
      const first = seqs[0]! - (N + 2);
      const trailing = 2 * N + 1 - seqs[seqs.length - 1]!;
      t.is(first + lost + trailing, dropped);
    } finally {
      await pub.close();
    }
  });
}

test("dropPolicy 'per-subscriber' leaves drops to libzmq: the publisher never refuses", async (t) => {
  const pub = new TelemetryPublisher({ endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', hwm: 8, dropPolicy: 'per-subscriber', describeEveryMs: 1e9, logger: nullLogger() });
  const [ep] = await pub.start();
  const stalled = new TelemetryClient({ endpoints: [ep!], topics: ['emg.raw'], queue: 1, receiveHighWaterMark: 8, logger: nullLogger() });
  try {
    await pub.waitForSubscription('emg.raw/');
    t.is(burst(pub, bigBlock()), N);
    await nextTurn();
    t.deepEqual(pub.stats().topics['emg.raw'], { sent: N + 1, dropped: 0, decimated: 0, descriptors: 1 });
  } finally {
    await stalled.close();
    await pub.close();
  }
});
