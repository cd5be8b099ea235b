/**
 * Child-process side of ZmqStreamer: rebuilds a Streamer from its spec, pushes its items to
 * the parent's PULL socket, and stops when told to, when the parent goes away, or when the
 * stream ends or throws. Started by zmq-stream.ts with `child_process.fork`; not an API.
 */
import * as zmq from 'zeromq';
import { isReflexError } from '../core/errors.js';
import { Streamer, type StreamerSpec } from './streamer.js';
import { encodeItem, type ErrorHeader, type WireItem } from './zmq-codec.js';

export interface WorkerStart {
  type: 'start';
  spec: StreamerSpec;
  endpoint: string;
  highWaterMark: number;
  maxIter: number | null;
  copy: boolean;
  /** How long queued items may take to reach the parent after the stream ends, ms. */
  flushMs: number;
}
export type ParentMessage = WorkerStart | { type: 'stop' };
export type WorkerMessage = { type: 'blocked'; at: number };

let push: zmq.Push | null = null;
let stopping = false;

function stop(): void {
  stopping = true;
  if (push !== null && !push.closed) {
    // Dropping queued items is the point: the consumer asked to stop.
    push.linger = 0;
    push.close(); // a send blocked on the high-water mark rejects, which ends the loop below
  }
}

process.on('message', (m: ParentMessage) => {
  if (m.type === 'start') void run(m);
  else if (m.type === 'stop') stop();
});
// The parent died or closed the channel: nobody will read what we produce.
process.on('disconnect', stop);

function errorHeader(err: unknown): ErrorHeader {
  if (err instanceof Error) {
    const raw = (err as Error & { code?: unknown }).code;
    const code = isReflexError(err) ? err.code : typeof raw === 'string' ? raw : undefined;
    return { t: 'x', name: err.name, message: err.message, ...(code !== undefined ? { code } : {}), ...(err.stack !== undefined ? { stack: err.stack } : {}) };
  }
  return { t: 'x', name: 'Error', message: String(err) };
}

async function run(m: WorkerStart): Promise<void> {
  const sock = new zmq.Push({ sendHighWaterMark: m.highWaterMark });
  push = sock;
  sock.connect(m.endpoint);
  let n = 0;
  let reportedBlock = false;
  try {
    const streamer = await Streamer.load<WireItem>(m.spec);
    for await (const item of streamer.iterate(m.maxIter ?? undefined)) {
      if (stopping) break;
      const frames = encodeItem(item, m.copy);
      let queued = false;
      const sent = sock.send(frames).then(() => {
        queued = true;
      });
      // send() resolves at once when the item fits under the high-water mark; otherwise we are
      // being held back by the consumer, which the parent reports as a 'backpressure' event.
      await Promise.resolve();
      if (!queued && !reportedBlock) {
        reportedBlock = true;
        process.send?.({ type: 'blocked', at: n } satisfies WorkerMessage);
      }
      await sent;
      n++;
    }
    if (!stopping) await sock.send(JSON.stringify({ t: 'e', n }));
  } catch (err) {
    // After stop() the closed socket rejects the pending send: that is the requested shutdown.
    if (!stopping && !sock.closed) await sock.send(JSON.stringify(errorHeader(err)));
  } finally {
    if (!sock.closed) {
      sock.linger = m.flushMs;
      sock.close();
    }
    if (process.connected) process.disconnect();
  }
}
