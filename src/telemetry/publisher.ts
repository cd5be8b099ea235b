/**
 * TelemetryPublisher: the runtime's one outlet. `publish()` is synchronous and never waits:
 * the loop hands a body over, it is encoded (copied) right away and offered to the socket
 * with ZMQ_DONTWAIT semantics.
 *
 * Fairness: every subscriber connection has its own queue (ZMQ_SNDHWM), and a message is
 * dropped only for a subscriber whose queue is full (libzmq's lossy XPUB, never
 * ZMQ_XPUB_NODROP). So what a subscriber that keeps up receives never depends on another
 * subscriber: one that stalls loses its own messages, as sequence gaps it can see. The
 * price is that the publisher cannot count a subscriber's losses; `dropped` counts only
 * what the publisher itself failed to send (docs/telemetry.md section 5).
 *
 * Block topics go out packed, naming a stream descriptor (blocks.ts). A descriptor is sent
 * before the first block it describes, again whenever the description changes, before the
 * next block after a new subscription that covers the topic, after a descriptor that failed
 * to send, and at least every `describeEveryMs` while blocks flow (so a subscriber behind a
 * proxy, whose subscription this socket never sees, or one whose full queue lost a new
 * descriptor, is described within that time).
 */
import { randomInt } from 'node:crypto';
import { XPublisher } from 'zeromq';
import type { SampleBlock } from '../core/block.js';
import { ConfigError } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { monotonicMs } from '../time/monotonic.js';
import { describes, isBlockTopic, type StreamDescriptor } from './blocks.js';
import { CborWriter, ZERO_COPY_MIN } from './cbor-writer.js';
import { SubscriptionWatcher } from './subscriptions.js';
import type { CurveServerOptions } from './security.js';
import { applyCurveServer, bindAll, prepareServer } from './server-security.js';
import {
  checkId,
  SCHEMA_VERSION,
  TOPICS,
  topicFrame,
  type BlockBody,
  type BlockTopic,
  type PublisherStats,
  type Topic,
  type TopicBodies,
  type TopicStats,
} from './topics.js';
import type { ZapDecision, ZapHandler } from './zap.js';
import { CoreCodes } from '../core/codes.js';
import { TelemetryCodes } from './codes.js';

export interface PublishOptions {
  /**
   * Block topics: the body's `data` will never be written again (a block replayed from a
   * recording in memory, or an array allocated for this one message). Arrays of 16 KiB or
   * more are then sent without being copied, as the message's third frame; zeromq.js keeps
   * a reference to them until they are sent. Writing to such an array later corrupts what
   * subscribers receive. Smaller arrays, and other topics, are copied as usual.
   */
  immutable?: boolean;
}

/**
 * Sees every publish() and publishBlock() call before decimation, on the publishing thread
 * (the runtime's main thread, never the loop worker's). Bodies and block arrays are the
 * caller's and valid only during the call: copy what you keep. A tap that throws is counted in
 * `errors` and logged; the message is still published.
 */
export interface PublishTap {
  message<T extends Topic>(topic: T, body: TopicBodies[T], monoMs: number): void;
  block(topic: BlockTopic, block: SampleBlock, monoMs: number): void;
}

export interface TelemetryPublisherOptions {
  /** Where to bind, e.g. ["tcp://127.0.0.1:5560", "ipc:///run/reflex/telemetry"]; "tcp://host:*" picks a free port. */
  endpoints: readonly string[];
  /** This runtime's id (in every message's topic frame), [A-Za-z0-9_.-]{1,64}. */
  runtimeId: string;
  /** The board this runtime reads, same character set. */
  boardId: string;
  /** CURVE server keys and the client allow-list. Without it only loopback/ipc binds are allowed. */
  curve?: CurveServerOptions;
  /** Allow plaintext on non-loopback endpoints (a trusted, isolated lab network only). */
  insecure?: boolean;
  /**
   * ZMQ_SNDHWM: messages queued per subscriber connection (default 1000). A subscriber whose
   * queue is full misses the message; other subscribers still get it. Pick it from the
   * largest topic: each stalled subscriber can hold hwm messages of memory here (1000 x 256
   * KiB is 256 MB), plus what its TCP buffers hold.
   */
  hwm?: number;
  /** Publish only every Nth call of a topic, e.g. { 'emg.raw': 4 }. */
  decimate?: Partial<Record<Topic, number>>;
  /** Longest time between descriptors of a block topic while its blocks flow, ms (default 1000). */
  describeEveryMs?: number;
  /** Called on every CURVE admission decision. */
  onAuth?: (d: ZapDecision) => void;
  logger?: Logger;
  /** Sees every message before decimation (a recorder, src/record/recorder.ts). */
  tap?: PublishTap;
}

interface DescriptorState {
  body: StreamDescriptor & { channels: string[] };
  sentAtMs: number;
  /** Send it before the next block: new, refused, or a new subscriber covers this topic. */
  pending: boolean;
}

interface TopicState {
  frame: Buffer;
  frameText: string;
  stats: TopicStats;
  every: number;
  calls: number;
  /** Reused body for publishBlock(). */
  block: BlockBody | undefined;
  onRejected: (err: unknown) => void;
  /** Block topics: the descriptor the blocks currently name. */
  desc: DescriptorState | undefined;
  onDescriptorRejected: (err: unknown) => void;
}

/** A topic's next sequence number: every message offered so far took one, sent or dropped (subscribers see drops as gaps). */
function nextSeq(st: TopicState): number {
  return st.stats.sent + st.stats.dropped;
}

export class TelemetryPublisher {
  readonly #opts: TelemetryPublisherOptions;
  readonly #log: Logger;
  readonly #topics: Map<Topic, TopicState>;
  readonly #writer = new CborWriter();
  /** Encoded constant start of every envelope (map header, v, the seq key). */
  readonly #prefix = this.#writer.envelopePrefix(SCHEMA_VERSION);
  #socket: XPublisher | undefined;
  readonly #subs: SubscriptionWatcher;
  #zap: ZapHandler | undefined;
  #running = false;
  #closed = false;
  #notRunning = 0;
  #errors = 0;
  #endpoints: string[] = [];
  readonly #describeEveryMs: number;
  /** Descriptor ids start at a random point so a restarted publisher does not reuse the last one's ids. */
  #nextDesc = randomInt(0, 0x10000);

  constructor(opts: TelemetryPublisherOptions) {
    checkId('runtimeId', opts.runtimeId);
    checkId('boardId', opts.boardId);
    if (opts.endpoints.length === 0) throw new ConfigError(CoreCodes.config, 'telemetry needs at least one endpoint, e.g. tcp://127.0.0.1:5560');
    if (opts.hwm !== undefined && (!Number.isInteger(opts.hwm) || opts.hwm < 1)) {
      throw new ConfigError(CoreCodes.config, `telemetry hwm must be a positive integer, got ${opts.hwm}`);
    }
    for (const [topic, n] of Object.entries(opts.decimate ?? {})) {
      if (!(TOPICS as readonly string[]).includes(topic))
        throw new ConfigError(CoreCodes.config, `decimate: unknown topic "${topic}"; topics are ${TOPICS.join(', ')}`);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(CoreCodes.config, `decimate.${topic} must be a positive integer, got ${n}`);
    }
    if ('dropPolicy' in opts) {
      // Removed rather than ignored: a caller relying on publisher-side drop counts must learn they are gone.
      throw new ConfigError(
        CoreCodes.config,
        'telemetry dropPolicy was removed: a full subscriber now loses only its own messages, ' +
          'which it sees as sequence gaps (docs/telemetry.md section 5); remove the option',
      );
    }
    if (opts.describeEveryMs !== undefined && !(opts.describeEveryMs > 0)) {
      throw new ConfigError(CoreCodes.config, `telemetry describeEveryMs must be > 0, got ${opts.describeEveryMs}`);
    }
    this.#describeEveryMs = opts.describeEveryMs ?? 1000;
    this.#opts = opts;
    this.#log = opts.logger ?? new Logger();
    this.#topics = new Map(TOPICS.map((t) => [t, this.#topicState(t)]));
    this.#subs = new SubscriptionWatcher(this.#log, (prefix) => {
      // A new subscriber must learn the block topics' descriptors before it can read blocks.
      for (const st of this.#topics.values()) if (st.desc && st.frameText.startsWith(prefix)) st.desc.pending = true;
    });
  }

  #topicState(topic: Topic): TopicState {
    const stats: TopicStats = { sent: 0, dropped: 0, decimated: 0, descriptors: 0 };
    const frameText = topicFrame(topic, this.#opts.runtimeId, this.#opts.boardId);
    const st: TopicState = {
      frame: Buffer.from(frameText),
      frameText,
      stats,
      every: this.#opts.decimate?.[topic] ?? 1,
      calls: 0,
      block: undefined,
      onRejected: (err: unknown) => this.#rejected(stats, err),
      desc: undefined,
      onDescriptorRejected: (err: unknown) => {
        this.#rejected(stats, err);
        if (st.desc) st.desc.pending = true;
      },
    };
    return st;
  }

  /** Bind (after starting the ZAP handler when CURVE is configured). Returns the bound endpoints. */
  async start(): Promise<string[]> {
    if (this.#closed) throw new ConfigError(TelemetryCodes.closed, 'this publisher was closed; create a new one');
    if (this.#running) return this.#endpoints;
    const { context, zap } = await prepareServer('telemetry', this.#opts.endpoints, {
      curve: this.#opts.curve,
      insecure: this.#opts.insecure,
      onAuth: this.#opts.onAuth,
      logger: this.#log,
    });
    this.#zap = zap;
    // XPUB so subscriptions are visible: subscribers can be counted and waited for.
    const socket = new XPublisher({
      context,
      sendHighWaterMark: this.#opts.hwm ?? 1000,
      // 0 makes zeromq.js try exactly once, synchronously, and reject on EAGAIN: never a waiting send.
      sendTimeout: 0,
      // Subscriptions are polled, never awaited (subscriptions.ts): 0 makes receive() return at once.
      receiveTimeout: 0,
      // Lossy per subscriber, on purpose: with ZMQ_XPUB_NODROP one full subscriber queue made
      // libzmq refuse a message for every subscriber, so one stalled peer blinded all of them.
      noDrop: false,
      linger: 0,
    });
    socket.verbosity = 'allSubsUnsubs';
    applyCurveServer(socket, this.#opts.curve, 'reflex.telemetry');
    this.#socket = socket;
    try {
      this.#endpoints = await bindAll(socket, this.#opts.endpoints);
    } catch (err) {
      socket.close();
      await zap?.close();
      throw new ConfigError(TelemetryCodes.bind, `telemetry cannot bind ${this.#opts.endpoints.join(', ')}: ${(err as Error).message}`, { cause: err });
    }
    this.#subs.start(socket);
    this.#running = true;
    return this.#endpoints;
  }

  /** Active subscriptions: prefix -> number of subscribers (a subscriber to everything has prefix ""). */
  subscriptions(): Record<string, number> {
    return this.#subs.snapshot();
  }

  /**
   * Resolves when a subscriber (already authenticated, if CURVE is on) subscribes to exactly
   * `prefix`, or at once if one already has. Lets callers avoid ZeroMQ's slow-joiner loss.
   */
  waitForSubscription(prefix = '', signal?: AbortSignal): Promise<void> {
    return this.#subs.waitFor(prefix, signal);
  }

  /**
   * Publish every `every`th call of `topic`, unless the `decimate` option already set that
   * topic (the user's choice wins). The runtime keeps its per-cycle topics (`prediction`,
   * `actuators`) near 100 Hz for subscribers this way, whatever the loop rate; the tap still
   * sees every call. Returns the factor in force.
   */
  decimateByDefault(topic: Topic, every: number): number {
    const st = this.#topics.get(topic);
    if (!st) throw new TypeError(`unknown telemetry topic "${String(topic)}"`);
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`decimation of ${topic} must be a positive integer, got ${every}`);
    if (this.#opts.decimate?.[topic] === undefined) st.every = every;
    return st.every;
  }

  /** Bound endpoints with ports resolved. */
  get endpoints(): readonly string[] {
    return this.#endpoints;
  }

  /**
   * Encode and offer one message. Never waits and never throws; a subscriber whose queue is
   * full misses it (its sequence gap shows it), the others get it. Typed
   * arrays are copied into the message before this returns, so the caller may reuse them,
   * unless `opts.immutable` says otherwise.
   */
  publish<T extends Topic>(topic: T, body: TopicBodies[T], opts?: PublishOptions): void {
    const st = this.#topics.get(topic);
    if (!st) throw new TypeError(`unknown telemetry topic "${String(topic)}"`);
    const tap = this.#opts.tap;
    if (tap) {
      try {
        tap.message(topic, body, monotonicMs());
      } catch (err) {
        this.#tapFailed(err);
      }
    }
    if (st.calls++ % st.every !== 0) {
      st.stats.decimated++;
      return;
    }
    if (isBlockTopic(topic)) this.#sendBlock(st, body as BlockBody, opts?.immutable === true);
    else this.#send(st, topic === 'health' ? { ...(body as TopicBodies['health']), telemetry: this.stats() } : body);
  }

  /** publish() for a SampleBlock without building a body object per block. */
  publishBlock(topic: BlockTopic, block: SampleBlock): void {
    const st = this.#topics.get(topic)!;
    const tap = this.#opts.tap;
    if (tap) {
      try {
        tap.block(topic, block, monotonicMs());
      } catch (err) {
        this.#tapFailed(err);
      }
    }
    if (st.calls++ % st.every !== 0) {
      st.stats.decimated++;
      return;
    }
    const b = (st.block ??= {
      stream: '',
      rate: 0,
      unit: '',
      channels: [],
      samples: 0,
      first_sample: 0,
      block_seq: 0,
      device_time_us: 0,
      host_time_ms: 0,
      host_period_ms: 0,
      valid: true,
      data: block.data,
    });
    b.stream = block.stream;
    b.rate = block.rate;
    b.unit = block.unit;
    b.channels = block.channelNames;
    b.samples = block.samples;
    b.first_sample = block.firstSample;
    b.block_seq = block.seq;
    b.device_time_us = block.deviceTimeUs;
    b.host_time_ms = block.hostTimeMs;
    b.host_period_ms = block.hostPeriodMs;
    b.valid = block.valid;
    b.data = block.data;
    this.#sendBlock(st, b);
  }

  #send(st: TopicState, body: unknown): void {
    if (!this.#running) {
      this.#notRunning++;
      return;
    }
    let encoded: Buffer;
    try {
      encoded = this.#writer.encodeEnvelope(this.#prefix, nextSeq(st), monotonicMs(), Date.now(), body);
    } catch (err) {
      this.#unencodable(st, err);
      return;
    }
    this.#offer(st, encoded, st.onRejected);
  }

  #sendBlock(st: TopicState, b: BlockBody, immutable = false): void {
    if (!this.#running) {
      this.#notRunning++;
      return;
    }
    const now = monotonicMs();
    let d = st.desc;
    if (d === undefined || !describes(d.body, b)) {
      const desc = this.#nextDesc;
      this.#nextDesc = (desc + 1) & 0xffff;
      d = st.desc = {
        body: { desc, stream: b.stream, rate: b.rate, unit: b.unit, channels: [...b.channels] },
        sentAtMs: Number.NEGATIVE_INFINITY,
        pending: true,
      };
    }
    let encoded: Buffer;
    let data: Buffer | undefined;
    try {
      if (d.pending || now - d.sentAtMs >= this.#describeEveryMs) {
        const described = this.#writer.encodeEnvelope(this.#prefix, nextSeq(st), now, Date.now(), d.body);
        st.stats.descriptors++;
        if (this.#offer(st, described, st.onDescriptorRejected)) {
          d.pending = false;
          d.sentAtMs = now;
        }
      }
      const seq = nextSeq(st);
      if (immutable && b.data.byteLength >= ZERO_COPY_MIN) {
        // The samples go as a frame of their own, straight from the caller's memory.
        encoded = this.#writer.encodePackedBlockHead(SCHEMA_VERSION, seq, now, d.body.desc, b);
        data = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
      } else {
        encoded = this.#writer.encodePackedBlock(SCHEMA_VERSION, seq, now, d.body.desc, b);
      }
    } catch (err) {
      this.#unencodable(st, err);
      return;
    }
    this.#offer(st, encoded, st.onRejected, data);
  }

  #tapFailed(err: unknown): void {
    // The tap (a recorder) failing must not cost the subscribers their message.
    this.#errors++;
    this.#log.limited('error', 'telemetry.tap', `telemetry tap failed: ${(err as Error).message}`);
  }

  #unencodable(st: TopicState, err: unknown): void {
    // A body the encoder cannot represent is a caller bug; count it, keep the loop running.
    st.stats.dropped++;
    this.#errors++;
    this.#log.limited('error', 'telemetry.encode', `telemetry ${st.frameText} body not encodable: ${(err as Error).message}`);
  }

  /** False when the socket threw at once; a failure reported by the send's promise arrives later, through `onRejected`. */
  #offer(st: TopicState, encoded: Buffer, onRejected: (err: unknown) => void, tail?: Buffer): boolean {
    try {
      // Resolved or rejected before returning (sendTimeout 0); the outcome arrives as a microtask.
      this.#socket!.send(tail ? [st.frame, encoded, tail] : [st.frame, encoded]).then(undefined, onRejected);
      st.stats.sent++;
      return true;
    } catch (err) {
      // Synchronous throws: socket closed under us or busy; count, never propagate into the loop.
      st.stats.dropped++;
      this.#errors++;
      this.#log.limited('warn', 'telemetry.send', `telemetry send failed: ${(err as Error).message}`);
      return false;
    }
  }

  #rejected(stats: TopicStats, err: unknown): void {
    // The message was counted as sent when handed over; move it to dropped (seq already used, so subscribers see the gap).
    // A lossy XPUB never refuses for a full queue, so whatever arrives here is an error.
    stats.sent--;
    stats.dropped++;
    this.#errors++;
    this.#log.limited('warn', 'telemetry.send', `telemetry send failed: ${(err as Error).message}`);
  }

  stats(): PublisherStats {
    const topics = {} as Record<Topic, TopicStats>;
    let sent = 0;
    let dropped = 0;
    let decimated = 0;
    for (const [t, st] of this.#topics) {
      topics[t] = { ...st.stats };
      sent += st.stats.sent;
      dropped += st.stats.dropped;
      decimated += st.stats.decimated;
    }
    return { sent, dropped, decimated, not_running: this.#notRunning, errors: this.#errors + this.#subs.errors, topics };
  }

  /** ZAP admission counts (allowed/denied) when CURVE is on. */
  authStats(): Record<string, number> {
    return this.#zap?.counters.snapshot() ?? {};
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    this.#socket?.close();
    await this.#subs.close();
    await this.#zap?.close();
  }
}
