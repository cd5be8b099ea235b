/**
 * The WebSocket side of the scope: one ScopeView per connected page, a display tick at
 * FRAME_RATE that sends each page one binary frame and one JSON batch, and the rule for a
 * page that cannot keep up: while its socket still holds more than `maxBufferedBytes`
 * unsent, that tick's frame is dropped (and counted, and shown on the page) instead of
 * queued, so memory stays bounded and the page stays live rather than ever later.
 *
 * The page can only tell the hub how it wants its own view drawn (time window and width)
 * and ping it for the clock offset; nothing it sends reaches a runtime.
 */
import type { WebSocket } from 'ws';
import { monotonicMs } from '../time/monotonic.js';
import type { ScopeStream } from './frame.js';
import { DEFAULT_VIEW, FRAME_RATE, ScopeView, VIEW_LIMITS, type BatchTopic, type ViewSettings } from './view.js';

/** What the page is told about a block stream (the telemetry descriptor's fields). */
export interface StreamInfo {
  channels: readonly string[];
  unit: string;
  rate: number;
}

/** Where the subscription bridge delivers telemetry, already turned into display entries. */
export interface ScopeSink {
  block(stream: ScopeStream, info: StreamInfo, data: Float32Array, samples: number, t0: number, periodMs: number, pubMs: number): void;
  entry(topic: BatchTopic, entry: unknown): void;
  health(entry: unknown): void;
}

export interface HubOptions {
  /** Unsent bytes on a page's socket past which a display frame is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Frames per second (default FRAME_RATE). */
  frameRate?: number;
  /** Extra fields for the once-a-second `stats` message (the bridge's counters). */
  stats?: () => Record<string, unknown>;
}

interface Peer {
  ws: WebSocket;
  view: ScopeView;
  sent: number;
  dropped: number;
  droppedBuckets: number;
  badMessages: number;
}

export interface HubStats {
  clients: number;
  frames_sent: number;
  frames_dropped: number;
  bad_messages: number;
}

export class ScopeHub implements ScopeSink {
  readonly #peers = new Set<Peer>();
  readonly #streams = new Map<ScopeStream, StreamInfo>();
  readonly #maxBuffered: number;
  readonly #frameRate: number;
  readonly #stats: (() => Record<string, unknown>) | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #statsTimer: NodeJS.Timeout;
  #seq = 0;
  readonly #totals: HubStats = { clients: 0, frames_sent: 0, frames_dropped: 0, bad_messages: 0 };

  constructor(opts: HubOptions = {}) {
    this.#maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
    this.#frameRate = opts.frameRate ?? FRAME_RATE;
    this.#stats = opts.stats;
    this.#timer = setInterval(() => this.#tick(), 1000 / this.#frameRate);
    this.#statsTimer = setInterval(() => this.#sendStats(), 1000);
  }

  stats(): HubStats {
    return { ...this.#totals, clients: this.#peers.size };
  }

  /** Take over a freshly upgraded page connection. */
  add(ws: WebSocket): void {
    const peer: Peer = { ws, view: new ScopeView(DEFAULT_VIEW), sent: 0, dropped: 0, droppedBuckets: 0, badMessages: 0 };
    for (const [stream, info] of this.#streams) peer.view.describe(stream, info.channels.length);
    this.#peers.add(peer);
    this.#totals.clients++;
    ws.on('message', (data, isBinary) => this.#onMessage(peer, data, isBinary));
    ws.on('close', () => this.#peers.delete(peer));
    // A socket error ends the connection ('close' follows); count it like any bad input.
    ws.on('error', () => {
      peer.badMessages++;
      this.#totals.bad_messages++;
    });
    this.#sendJson(peer, {
      type: 'hello',
      version: 1,
      server_ms: monotonicMs(),
      frame_rate: this.#frameRate,
      window_ms: DEFAULT_VIEW.windowMs,
      width: DEFAULT_VIEW.width,
      bucket_ms: peer.view.bucketMs,
      limits: { window_ms: VIEW_LIMITS.windowMs, width: VIEW_LIMITS.width },
    });
    this.#sendJson(peer, this.#streamsMessage());
  }

  #streamsMessage(): Record<string, unknown> {
    return { type: 'streams', streams: Object.fromEntries(this.#streams) };
  }

  #onMessage(peer: Peer, data: unknown, isBinary: boolean): void {
    const bad = (): void => {
      peer.badMessages++;
      this.#totals.bad_messages++;
    };
    if (isBinary || !Buffer.isBuffer(data)) return bad();
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      return bad();
    }
    if (typeof msg !== 'object' || msg === null) return bad();
    const m = msg as Record<string, unknown>;
    if (m.type === 'ping' && typeof m.t === 'number' && Number.isFinite(m.t)) {
      // A page that sends pings and never reads would otherwise grow our send buffer without
      // bound; a pong it cannot read yet is worthless for the clock offset anyway.
      if (peer.ws.bufferedAmount > this.#maxBuffered) return bad();
      this.#sendJson(peer, { type: 'pong', t: m.t, server_ms: monotonicMs() });
      return;
    }
    if (m.type === 'view') {
      const v = parseView(m);
      if (!v) return bad();
      peer.view.configure(v);
      this.#sendJson(peer, { type: 'view', window_ms: v.windowMs, width: v.width, bucket_ms: peer.view.bucketMs });
      return;
    }
    bad();
  }

  block(stream: ScopeStream, info: StreamInfo, data: Float32Array, samples: number, t0: number, periodMs: number, pubMs: number): void {
    const known = this.#streams.get(stream);
    if (!known || !sameInfo(known, info)) {
      this.#streams.set(stream, { channels: [...info.channels], unit: info.unit, rate: info.rate });
      for (const p of this.#peers) {
        p.view.describe(stream, info.channels.length);
        this.#sendJson(p, this.#streamsMessage());
      }
    }
    for (const p of this.#peers) p.view.pushBlock(stream, data, samples, t0, periodMs, pubMs);
  }

  entry(topic: BatchTopic, entry: unknown): void {
    for (const p of this.#peers) p.view.pushBatch(topic, entry);
  }

  health(entry: unknown): void {
    for (const p of this.#peers) p.view.setHealth(entry);
  }

  #tick(): void {
    const now = monotonicMs();
    for (const p of this.#peers) {
      if (p.ws.readyState !== p.ws.OPEN) continue;
      if (p.ws.bufferedAmount > this.#maxBuffered) {
        const n = p.view.discardFrame();
        if (n > 0) {
          p.dropped++;
          p.droppedBuckets += n;
          this.#totals.frames_dropped++;
        }
        continue; // the batch waits (bounded in the view) for a tick with room
      }
      const frame = p.view.takeFrame(this.#seq, now);
      if (frame) {
        p.ws.send(frame, { binary: true });
        p.sent++;
        this.#totals.frames_sent++;
      }
      const batch = p.view.takeBatch();
      if (batch) this.#sendJson(p, batch);
    }
    this.#seq++;
  }

  #sendStats(): void {
    const extra = this.#stats?.() ?? {};
    for (const p of this.#peers) {
      this.#sendJson(p, {
        type: 'stats',
        server_ms: monotonicMs(),
        frames_sent: p.sent,
        frames_dropped: p.dropped,
        buckets_dropped: p.droppedBuckets,
        batch_overflow: p.view.batchOverflow,
        bad_messages: p.badMessages,
        decimators: p.view.decimatorStats(),
        ...extra,
      });
    }
  }

  #sendJson(p: Peer, msg: Record<string, unknown>): void {
    if (p.ws.readyState === p.ws.OPEN) p.ws.send(JSON.stringify(msg, jsonNumbers));
  }

  /** Stop ticking and close every page connection. */
  close(): void {
    clearInterval(this.#timer);
    clearInterval(this.#statsTimer);
    for (const p of this.#peers) p.ws.close(1001, 'scope stopping');
    this.#peers.clear();
  }
}

/** JSON has no NaN or Infinity: send them as null (the page shows "-"). Typed arrays become arrays. */
function jsonNumbers(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (value instanceof Float32Array || value instanceof Uint8Array || value instanceof Float64Array) return Array.from(value);
  return value;
}

function sameInfo(a: StreamInfo, b: StreamInfo): boolean {
  if (a.unit !== b.unit || !Object.is(a.rate, b.rate) || a.channels.length !== b.channels.length) return false;
  for (let i = 0; i < a.channels.length; i++) if (a.channels[i] !== b.channels[i]) return false;
  return true;
}

/** A page's `view` request, checked against VIEW_LIMITS; undefined when out of range. */
export function parseView(m: Record<string, unknown>): ViewSettings | undefined {
  const w = m.window_ms;
  const px = m.width;
  if (typeof w !== 'number' || typeof px !== 'number') return undefined;
  if (!(w >= VIEW_LIMITS.windowMs[0] && w <= VIEW_LIMITS.windowMs[1])) return undefined;
  if (!Number.isInteger(px) || px < VIEW_LIMITS.width[0] || px > VIEW_LIMITS.width[1]) return undefined;
  return { windowMs: w, width: px };
}
