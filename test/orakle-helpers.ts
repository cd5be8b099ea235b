/** Endpoints and a connected publisher/subscriber pair for the orakle tests. */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArrayPublisher, type ArrayPublisherOptions } from '../src/orakle/publisher.js';
import { ArraySubscriber } from '../src/orakle/subscriber.js';

export type Transport = 'ipc' | 'tcp';

export function endpoint(transport: Transport): string {
  return transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(tmpdir(), `reflex-orakle-${process.pid}-${randomBytes(4).toString('hex')}.ipc`)}`;
}

/** A bound publisher and a subscriber whose subscription the publisher has seen. */
export async function pair(
  transport: Transport,
  opts: ArrayPublisherOptions,
  subTopic = opts.topic,
  rcvhwm?: number,
): Promise<{ pub: ArrayPublisher; sub: ArraySubscriber; close: () => void }> {
  const pub = new ArrayPublisher(opts);
  const ep = await pub.bind(endpoint(transport));
  const sub = new ArraySubscriber({ topic: subTopic, ...(rcvhwm !== undefined ? { receiveHighWaterMark: rcvhwm } : {}) });
  sub.connect(ep);
  await pub.waitForSubscribers(1, { timeoutMs: 5000 });
  return {
    pub,
    sub,
    close: () => {
      sub.close();
      pub.close();
    },
  };
}
