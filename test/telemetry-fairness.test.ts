import test from 'ava';
import { Subscriber } from 'zeromq';
import { nullLogger } from '../src/core/log.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { isBlockTopic } from '../src/telemetry/blocks.js';
import { SeqAudit } from '../src/telemetry/seq-audit.js';
import { TOPICS, type TelemetryMessage, type Topic } from '../src/telemetry/topics.js';
import { bigBlock, bindEndpoint, PROTOS, sampleBodies } from './telemetry-helpers.js';

/** Rounds of one message per topic; enough 64 KiB blocks to fill the stalled subscriber's queue and kernel buffers many times over. */
const ROUNDS = 300;

/** Reads a client in the background; `upTo(k)` resolves once the event of round k has arrived. */
class Reader {
  readonly msgs: TelemetryMessage[] = [];
  #round = -1;
  #waiters: Array<{ round: number; resolve: () => void }> = [];
  readonly done: Promise<void>;

  constructor(client: TelemetryClient) {
    this.done = (async () => {
      for await (const m of client) {
        this.msgs.push(m);
        if (m.topic === 'event' && typeof m.body.data?.round === 'number') {
          this.#round = m.body.data.round;
          this.#waiters = this.#waiters.filter((w) => (w.round <= this.#round ? (w.resolve(), false) : true));
        }
      }
    })();
  }

  /** A bounded wait: a message the healthy subscriber never gets fails the test with the round, not a hang. */
  upTo(round: number, timeoutMs = 5000): Promise<void> {
    if (this.#round >= round) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the healthy subscriber never received round ${round}'s event (last: ${this.#round})`)), timeoutMs);
      this.#waiters.push({ round, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

for (const proto of PROTOS) {
  test(`a subscriber that never reads costs a subscriber that keeps up nothing, on every topic, over ${proto}`, async (t) => {
    // hwm counts messages per subscriber: 200 fill in about 20 rounds. Much smaller would hurt the healthy one too:
    // libzmq learns what a subscriber has read only every millisecond or so, and a burst beyond hwm in that time is lost.
    const pub = new TelemetryPublisher({ endpoints: [bindEndpoint(proto)], runtimeId: 'rig-a', boardId: 'sim', hwm: 200, logger: nullLogger() });
    const [ep] = await pub.start();
    // Never read from: a tiny queue and a tiny receive buffer; it is full (hwm, then the kernel's buffers) within a hundred rounds.
    const stalled = new Subscriber({ receiveHighWaterMark: 2, receiveBufferSize: 4096, linger: 0 });
    stalled.subscribe('');
    stalled.connect(ep!);
    const client = new TelemetryClient({ endpoints: [ep!], topics: [...TOPICS], logger: nullLogger() });
    const healthy = new Reader(client);
    // A failure guard only: closing both subscribers ends every wait below.
    const guard = setTimeout(() => {
      stalled.close();
      void client.close();
    }, 20_000);
    try {
      await pub.waitForSubscription('');
      for (const topic of TOPICS) await pub.waitForSubscription(`${topic}/`);
      const bodies = sampleBodies();
      const block = bigBlock(2.5);
      for (let k = 0; k < ROUNDS; k++) {
        block.block_seq = k;
        block.first_sample = k * 1024;
        for (const topic of TOPICS) {
          if (topic === 'emg.raw') pub.publish('emg.raw', block);
          else if (topic === 'event') pub.publish('event', { kind: 'estop', level: 'warn', message: 'round', data: { round: k } });
          else if (topic === 'actuators') pub.publish('actuators', { ...bodies.actuators, tick: k, safe_state: k % 2 === 0 });
          else pub.publish(topic, bodies[topic]);
        }
        // Pace on the healthy subscriber only: it keeps up by construction, the stalled one never reads.
        await healthy.upTo(k);
      }

      // The healthy subscriber got every message of every topic: no gap anywhere, blocks all described.
      const byTopic = new Map<Topic, TelemetryMessage[]>(TOPICS.map((x) => [x, []]));
      for (const m of healthy.msgs) byTopic.get(m.topic)!.push(m);
      for (const topic of TOPICS) {
        const got = byTopic.get(topic)!;
        t.is(got.length, ROUNDS, `${topic}: every round's message arrived`);
        t.true(
          got.every((m) => m.lost === 0),
          `${topic}: no sequence gap`,
        );
        for (let i = 1; i < got.length; i++) if (got[i]!.seq <= got[i - 1]!.seq) t.fail(`${topic}: sequence went back`);
      }
      t.deepEqual(
        byTopic.get('event')!.map((m) => (m.topic === 'event' ? m.body.data?.round : -1)),
        Array.from({ length: ROUNDS }, (_, i) => i),
      );
      t.deepEqual(
        byTopic.get('actuators')!.map((m) => (m.topic === 'actuators' ? m.body.tick : -1)),
        Array.from({ length: ROUNDS }, (_, i) => i),
      );
      t.like(client.stats(), { lost: 0, undescribed: 0, malformed: 0 });
      // The publisher refused nothing: a full subscriber queue is that subscriber's loss alone.
      t.is(pub.stats().dropped, 0);

      // Now read what the stalled subscriber kept (then a marker, published until it arrives): it lost messages of
      // every topic, events and actuator states among them, so its queue really was full while the healthy one got everything.
      const audit = new SeqAudit();
      const kept = new Map<string, number>();
      let marked = false;
      const marker = setInterval(() => pub.publish('event', { kind: 'marker', level: 'info', message: 'end' }), 5);
      try {
        while (!marked) {
          const m = audit.add(await stalled.receive());
          if (m?.topic === 'event' && (m.value as { body: { kind: string } }).body.kind === 'marker') marked = true;
          // Descriptors (maps on block topics) are not rounds' messages.
          else if (m && !(isBlockTopic(m.topic) && !Array.isArray(m.value))) kept.set(m.topic, (kept.get(m.topic) ?? 0) + 1);
        }
      } finally {
        clearInterval(marker);
      }
      t.is(audit.malformed, 0);
      for (const topic of TOPICS) {
        const n = kept.get(topic) ?? 0;
        t.true(n > 0 && n < ROUNDS, `${topic}: the stalled subscriber kept ${n} of ${ROUNDS}`);
      }
      // Its losses show as a gap: the marker's sequence number jumps past the events it lost.
      t.true(audit.byTopic().event!.missed > 0);
    } finally {
      clearTimeout(guard);
      if (!stalled.closed) stalled.close();
      await client.close();
      await healthy.done;
      await pub.close();
    }
  });
}
