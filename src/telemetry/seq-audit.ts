/**
 * SeqAudit: per-topic sequence accounting over raw telemetry messages (frames as a SUB
 * socket returns them), for tools that measure loss without decoding bodies into typed
 * messages: how many messages of each topic frame arrived, and how many the gaps between
 * their sequence numbers say were missed (docs/telemetry.md section 5). Descriptors count
 * like any message: they use sequence numbers too.
 */
import type { Decoder } from 'cbor-x';
import { createDecoder } from './codec.js';
import { parseTopicFrame, type Topic } from './topics.js';

export interface SeqCount {
  /** Sequence number of the first message seen. */
  first: number;
  /** Sequence number of the latest message seen. */
  last: number;
  /** Messages seen. */
  received: number;
  /** Sum of the gaps between consecutive sequence numbers seen. */
  missed: number;
}

export interface AuditedMessage {
  /** Frame 1 as text: topic/runtime/board. */
  frame: string;
  topic: Topic;
  seq: number;
  /** The decoded body: an envelope map, or a packed block array. */
  value: unknown;
}

export class SeqAudit {
  readonly #decoder: Decoder = createDecoder();
  readonly #counts = new Map<string, SeqCount>();
  /** Messages that were not valid telemetry (no topic frame, no CBOR, no seq). */
  malformed = 0;
  /** Sequence numbers that did not advance (a publisher restart, or a duplicate). */
  backwards = 0;

  /** Account one message; returns what it was, or undefined (counted in `malformed`). */
  add(frames: readonly Buffer[]): AuditedMessage | undefined {
    if (frames.length < 2) return this.#bad();
    const frame = frames[0]!.toString();
    const parsed = parseTopicFrame(frame);
    if (!parsed) return this.#bad();
    let value: unknown;
    try {
      value = this.#decoder.decode(frames.length === 2 ? frames[1]! : Buffer.concat(frames.slice(1)));
    } catch {
      return this.#bad();
    }
    const seq: unknown = Array.isArray(value) ? (value as unknown[])[1] : (value as { seq?: unknown } | null)?.seq;
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return this.#bad();
    const c = this.#counts.get(frame);
    if (!c) this.#counts.set(frame, { first: seq, last: seq, received: 1, missed: 0 });
    else {
      if (seq > c.last) c.missed += seq - c.last - 1;
      else this.backwards++;
      c.last = seq;
      c.received++;
    }
    return { frame, topic: parsed.topic, seq, value };
  }

  /** Counts per topic (summed over runtimes and boards when there are several). */
  byTopic(): Record<string, SeqCount> {
    const out: Record<string, SeqCount> = {};
    for (const [frame, c] of this.#counts) {
      const topic = frame.slice(0, frame.indexOf('/'));
      const o = out[topic];
      if (!o) out[topic] = { ...c };
      else {
        o.received += c.received;
        o.missed += c.missed;
        o.first = Math.min(o.first, c.first);
        o.last = Math.max(o.last, c.last);
      }
    }
    return out;
  }

  #bad(): undefined {
    this.malformed++;
    return undefined;
  }
}
