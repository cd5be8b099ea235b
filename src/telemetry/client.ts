/**
 * TelemetryClient: subscribe to one or more runtimes at once (one SUB socket per endpoint,
 * because each endpoint has its own CURVE server key) and iterate decoded messages tagged
 * with their source. `for await (const msg of client)` ends cleanly after close().
 */
import { Subscriber } from 'zeromq';
import type { Decoder } from 'cbor-x';
import { ConfigError } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { AsyncQueue } from './async-queue.js';
import { asDescriptor, asPackedBlock, isBlockTopic, unpackBlock, type StreamDescriptor } from './blocks.js';
import { asEnvelope, createDecoder } from './codec.js';
import type { KeyPair } from './keys.js';
import { checkCurveClient } from './security.js';
import { parseTopicFrame, subscriptionPrefixes, type TelemetryMessage, type Topic } from './topics.js';
import { CoreCodes } from '../core/codes.js';
import { TelemetryCodes } from './codes.js';

export interface TelemetryEndpoint {
  /** e.g. "tcp://rig-a.lab:5560" or "ipc:///run/reflex/telemetry". */
  endpoint: string;
  /** The publisher's CURVE public key (z85); omit for a plaintext (loopback) publisher. */
  serverKey?: string;
}

export interface TelemetryClientOptions {
  endpoints: ReadonlyArray<string | TelemetryEndpoint>;
  /** Topics to receive (default all). Filtering happens at the publisher (SUB prefixes). */
  topics?: readonly Topic[];
  /** Runtime ids to receive (default all). */
  runtimes?: readonly string[];
  /** This client's CURVE keypair; required when any endpoint has a serverKey. */
  keyPair?: KeyPair;
  /** ZMQ_RCVHWM per endpoint (default 1000). */
  receiveHighWaterMark?: number;
  /** Decoded messages buffered for the consumer before the sockets stop reading (default 1024). */
  queue?: number;
  /** Called when a publisher refuses this client's key (ZAP status 400) or the handshake fails. */
  onAuthFailure?: (endpoint: string, detail: string) => void;
  logger?: Logger;
}

export interface ClientStats {
  /** Messages delivered to the iterator's queue. */
  received: number;
  /** Messages missed, from sequence gaps. */
  lost: number;
  /** Frames that were not a valid telemetry message. */
  malformed: number;
  /** Sequence numbers that went backwards (a publisher restarted). */
  restarts: number;
  /** Stream descriptors received (they describe blocks and are not delivered themselves). */
  descriptors: number;
  /** Blocks dropped because their descriptor had not arrived yet (just after subscribing). */
  undescribed: number;
  /** Failed handshakes per endpoint (refused key, wrong server key). */
  authFailures: Record<string, number>;
}

export class TelemetryClient implements AsyncIterable<TelemetryMessage> {
  readonly #queue: AsyncQueue<TelemetryMessage>;
  readonly #sockets: Array<{ endpoint: string; socket: Subscriber }> = [];
  readonly #decoder: Decoder = createDecoder();
  /** Per endpoint: topic frame -> last sequence number (a frame names runtime, board and topic). */
  readonly #lastSeq = new Map<string, Map<string, number>>();
  /** Parsed topic frames, so a steady stream does not re-split and re-validate each one. */
  readonly #frames = new Map<string, ReturnType<typeof parseTopicFrame>>();
  readonly #log: Logger;
  readonly #onAuthFailure: TelemetryClientOptions['onAuthFailure'];
  /** Per endpoint: topic frame -> the latest descriptor, and the publisher's wall minus monotonic time when it was sent. */
  readonly #descs = new Map<string, Map<string, { d: StreamDescriptor; wallMinusMono: number }>>();
  readonly #stats: ClientStats = { received: 0, lost: 0, malformed: 0, restarts: 0, descriptors: 0, undescribed: 0, authFailures: {} };
  readonly #pumps: Promise<void>[] = [];
  #closed = false;

  constructor(opts: TelemetryClientOptions) {
    if (opts.endpoints.length === 0) throw new ConfigError(CoreCodes.usage, 'TelemetryClient needs at least one endpoint');
    this.#log = opts.logger ?? new Logger();
    this.#onAuthFailure = opts.onAuthFailure;
    this.#queue = new AsyncQueue(opts.queue ?? 1024);
    const prefixes = subscriptionPrefixes(opts.topics, opts.runtimes);
    const eps = opts.endpoints.map((e) => (typeof e === 'string' ? { endpoint: e } : e));
    for (const ep of eps) {
      if (ep.serverKey !== undefined) {
        if (!opts.keyPair)
          throw new ConfigError(CoreCodes.usage, `${ep.endpoint} has a server key, so a client keypair is needed (reflex keygen; --client-key-file)`);
        checkCurveClient({ serverKey: ep.serverKey, ...opts.keyPair });
      }
    }
    try {
      for (const ep of eps) this.#open(ep, opts, prefixes);
    } catch (err) {
      for (const { socket } of this.#sockets) socket.close();
      throw new ConfigError(TelemetryCodes.connect, `cannot connect telemetry client: ${(err as Error).message}`, { cause: err });
    }
  }

  #open(ep: TelemetryEndpoint, opts: TelemetryClientOptions, prefixes: string[]): void {
    const socket = new Subscriber({ receiveHighWaterMark: opts.receiveHighWaterMark ?? 1000, linger: 0 });
    if (ep.serverKey !== undefined && opts.keyPair) {
      socket.curveServerKey = ep.serverKey;
      socket.curvePublicKey = opts.keyPair.publicKey;
      socket.curveSecretKey = opts.keyPair.secretKey;
    }
    // Listen before connecting so the first refusal is not missed.
    socket.events.on('handshake:error:auth', (e) => this.#authFailed(ep.endpoint, `refused (ZAP ${e.error.status})`));
    socket.events.on('handshake:error:protocol', (e) => this.#authFailed(ep.endpoint, `handshake failed (${e.error.code}); check the server key`));
    for (const p of prefixes) socket.subscribe(p);
    socket.connect(ep.endpoint);
    this.#sockets.push({ endpoint: ep.endpoint, socket });
    this.#pumps.push(this.#pump(ep.endpoint, socket));
  }

  #authFailed(endpoint: string, detail: string): void {
    this.#stats.authFailures[endpoint] = (this.#stats.authFailures[endpoint] ?? 0) + 1;
    this.#log.limited('warn', `telemetry.auth.${endpoint}`, `telemetry ${endpoint}: ${detail}`);
    this.#onAuthFailure?.(endpoint, detail);
  }

  async #pump(endpoint: string, socket: Subscriber): Promise<void> {
    try {
      for await (const frames of socket) {
        const msg = this.#decode(endpoint, frames);
        // offer() first: the common case (room in the queue) costs no promise.
        if (!msg) continue;
        if (!this.#queue.offer(msg) && !(await this.#queue.push(msg))) break; // closed: the message is not delivered
        this.#stats.received++;
      }
    } catch (err) {
      if (!socket.closed) this.#log.error(`telemetry ${endpoint}: receive failed: ${(err as Error).message}`);
    }
  }

  #decode(endpoint: string, frames: Buffer[]): TelemetryMessage | undefined {
    // The body is frame 2, or frames 2.. joined (a large array sent uncopied: docs/telemetry.md section 2).
    if (frames.length < 2) return this.#malformed(endpoint);
    const frameText = frames[0]!.toString();
    let frame = this.#frames.get(frameText);
    if (frame === undefined && !this.#frames.has(frameText)) {
      frame = parseTopicFrame(frameText);
      // Bounded: a hostile or buggy publisher must not grow this without limit.
      if (this.#frames.size < 4096) this.#frames.set(frameText, frame);
    }
    if (!frame) return this.#malformed(endpoint);
    let value: unknown;
    try {
      value = this.#decoder.decode(frames.length === 2 ? frames[1]! : Buffer.concat(frames.slice(1)));
    } catch {
      return this.#malformed(endpoint);
    }
    // Frame 2 is a map (an envelope) or, on block topics only, an array (a packed block).
    const packed = Array.isArray(value) && isBlockTopic(frame.topic) ? asPackedBlock(value) : undefined;
    const env = packed ? undefined : asEnvelope(value);
    if (!packed && !env) return this.#malformed(endpoint);
    const seq = packed ? packed.seq : env!.seq;
    let seqs = this.#lastSeq.get(endpoint);
    if (!seqs) this.#lastSeq.set(endpoint, (seqs = new Map<string, number>()));
    let descs = this.#descs.get(endpoint);
    if (!descs) this.#descs.set(endpoint, (descs = new Map<string, { d: StreamDescriptor; wallMinusMono: number }>()));
    const last = seqs.get(frameText);
    let lost = 0;
    if (last !== undefined) {
      if (seq > last) lost = seq - last - 1;
      else {
        this.#stats.restarts++;
        // A restarted publisher's blocks must not be read with the old one's descriptor.
        descs.delete(frameText);
      }
    }
    seqs.set(frameText, seq);
    this.#stats.lost += lost;
    const source = { endpoint, runtime: frame.runtime, board: frame.board };
    if (packed) {
      const known = descs.get(frameText);
      if (!known || known.d.desc !== packed.desc) {
        this.#stats.undescribed++;
        return undefined;
      }
      const body = unpackBlock(packed, known.d);
      if (!body) return this.#malformed(endpoint);
      return {
        topic: frame.topic,
        source,
        v: packed.v,
        seq,
        mono_ms: packed.mono_ms,
        wall_ms: packed.mono_ms + known.wallMinusMono,
        body,
        lost,
      } as TelemetryMessage;
    }
    if (isBlockTopic(frame.topic)) {
      const d = asDescriptor(env!.body);
      if (!d) return this.#malformed(endpoint);
      // Bounded like #frames: one descriptor per topic frame.
      if (descs.size < 4096 || descs.has(frameText)) descs.set(frameText, { d, wallMinusMono: env!.wall_ms - env!.mono_ms });
      this.#stats.descriptors++;
      return undefined;
    }
    return {
      topic: frame.topic,
      source,
      v: env!.v,
      seq,
      mono_ms: env!.mono_ms,
      wall_ms: env!.wall_ms,
      body: env!.body,
      lost,
    } as TelemetryMessage;
  }

  #malformed(endpoint: string): undefined {
    this.#stats.malformed++;
    this.#log.limited('warn', 'telemetry.malformed', `telemetry ${endpoint}: dropped a malformed message`);
    return undefined;
  }

  stats(): ClientStats {
    return { ...this.#stats, authFailures: { ...this.#stats.authFailures } };
  }

  [Symbol.asyncIterator](): AsyncIterator<TelemetryMessage> {
    return {
      next: () => this.#queue.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Stop receiving; iteration finishes after the already-decoded messages. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { socket } of this.#sockets) socket.close();
    // Ending first releases a pump parked on a full queue; what is queued still drains.
    this.#queue.end();
    await Promise.allSettled(this.#pumps);
  }
}
