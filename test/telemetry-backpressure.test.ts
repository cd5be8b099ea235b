import test from 'ava';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { nullLogger } from '../src/core/log.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import type { BlockBody } from '../src/telemetry/topics.js';
import { bigBlock, bindEndpoint, PROTOS } from './telemetry-helpers.js';

const N = 600;

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
  const title =
    `a subscriber that never reads does not hold publishing up over ${proto}: ` + 'the publisher refuses nothing, the subscriber sees its losses as gaps';
  test(title, async (t) => {
    // describeEveryMs: one descriptor per subscription only, so the arithmetic below is exact.
    const pub = new TelemetryPublisher({
      endpoints: [bindEndpoint(proto)],
      runtimeId: 'rig-a',
      boardId: 'sim',
      hwm: 8,
      describeEveryMs: 1e9,
      logger: nullLogger(),
    });
    const [ep] = await pub.start();
    const body = bigBlock(1.5);
    try {
      // Baseline: nobody subscribed.
      t.is(burst(pub, body), N);
      await nextTurn(); // let the send outcomes (microtasks) land in the counters
      const base = pub.stats().topics['emg.raw'];
      // N blocks and the descriptor sent before the first of them.
      t.is(base.descriptors, 1);
      t.deepEqual(base, { sent: N + 1, dropped: 0, decimated: 0, descriptors: 1 });

      // A subscriber that takes one message and then stops reading.
      const stalled = new TelemetryClient({ endpoints: [ep!], topics: ['emg.raw'], queue: 1, receiveHighWaterMark: 8, logger: nullLogger() });
      await pub.waitForSubscription('emg.raw/');
      t.is(burst(pub, body), N);
      await nextTurn();
      // Same number of calls returned with the stalled subscriber as without: publishing was not held up.
      // A full subscriber queue is that subscriber's loss, not a refusal: every message was handed over.
      // The new subscription made the publisher describe the stream again, first.
      t.deepEqual(pub.stats().topics['emg.raw'], { sent: 2 * N + 2, dropped: 0, decimated: 0, descriptors: 2 });

      // Now read what it kept, then one marker block (published until it arrives: the queue may still be full).
      const seqs: number[] = [];
      let lost = 0;
      const guard = setTimeout(() => void stalled.close(), 10_000);
      const marker = setInterval(() => pub.publish('emg.raw', { ...body, block_seq: 1e6 }), 5);
      try {
        for await (const m of stalled) {
          seqs.push(m.seq);
          lost += m.lost;
          if (m.topic === 'emg.raw' && m.body.block_seq === 1e6) break;
        }
      } finally {
        clearInterval(marker);
        clearTimeout(guard);
      }
      t.is(stalled.stats().descriptors, 1);
      t.is(stalled.stats().undescribed, 0);
      // Every sequence number from its descriptor (N + 1) to the marker was received or counted lost.
      const last = seqs[seqs.length - 1]!;
      t.is(1 + seqs.length + lost, last - (N + 1) + 1);
      t.true(lost > 0, 'the stalled subscriber missed messages');
      t.true(last >= 2 * N + 2, 'the marker came after the burst');
      t.is(pub.stats().dropped, 0);
    } finally {
      await pub.close();
    }
  });
}

test('dropPolicy is refused now that a full subscriber only loses its own messages', (t) => {
  const opts = { endpoints: [bindEndpoint('ipc')], runtimeId: 'rig-a', boardId: 'sim', dropPolicy: 'count' };
  const err = t.throws(() => new TelemetryPublisher(opts as ConstructorParameters<typeof TelemetryPublisher>[0]));
  t.is((err as { code?: string }).code, 'E_CONFIG');
  t.regex(err.message, /dropPolicy was removed/);
});
