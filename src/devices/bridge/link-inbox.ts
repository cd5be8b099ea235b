/**
 * The receiving side of a BridgeLink: bytes from the port go through the decoder, and
 * each frame becomes a link event (samples, tracker, heartbeat, pong), a reply for the
 * commander (HELLO, ACK, ERROR by req_id), a count, or an 'error' report. Nothing is
 * allocated per frame: the decoder's block and header, and one tracker record, are reused.
 */
import type { EventEmitter } from 'node:events';
import type { Counters } from '../../core/counters.js';
import { ReflexError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { BridgeDecoder } from '../../bridge/decoder.js';
import { BridgeErrorCodes } from '../../bridge/errors.js';
import { UNSOLICITED_REQ_ID, deviceErrorName, type DeviceError, type Hello } from '../../bridge/frames.js';
import type { BridgeCommander } from './commander.js';
import type { StreamContinuity } from './link-continuity.js';
import { LOOP_REQ_ID_BASE } from '../../bridge/req-ids.js';
import type { BridgeLinkEvents, LinkCounterKey, TrackerSample } from './link-types.js';
import { versionError } from './link-util.js';
import type { LinkWatchdog } from './link-watchdog.js';
import type { PingBook } from './replies.js';

/** What the inbox needs from its link. */
export interface InboxHost {
  readonly events: EventEmitter<BridgeLinkEvents>;
  readonly counters: Counters<LinkCounterKey>;
  readonly cmd: BridgeCommander;
  readonly pings: PingBook;
  readonly continuity: StreamContinuity;
  /** Told the arrival time of every chunk, for the stall check. */
  readonly watchdog: Pick<LinkWatchdog, 'lastByteMs'>;
  readonly now: () => number;
  readonly logger: Logger;
  /** Whether connection `gen` is still the current one. */
  isCurrent(gen: number): boolean;
  /** The first block of a connection can come before START's ACK is seen: it streams. */
  streaming(): void;
  /** A HELLO of our protocol major. */
  hello(h: Hello): void;
  /** A reportable, non-fatal problem. */
  report(err: ReflexError): void;
}

export class LinkInbox {
  readonly decoder: BridgeDecoder;
  readonly #h: InboxHost;
  /** Samples count only between CONFIG and the connection's end. */
  #acceptSamples = false;
  #pushing = false;
  readonly #backlog: Uint8Array[] = [];
  /** Host time the chunk being decoded arrived, ms. */
  #arrivalMs = 0;
  readonly #tracker: TrackerSample = { seq: 0, deviceTimeUs: 0, values: new Float32Array(0) };

  /** `rate`: the configured sample rate, Hz (0: the device's, known from its HELLO). */
  constructor(h: InboxHost, rate: number) {
    this.#h = h;
    this.decoder = new BridgeDecoder(
      {
        onSamples: (block, frame) => {
          if (!this.#acceptSamples) {
            h.counters.inc('samples_before_start');
            return;
          }
          const at = this.#arrivalMs;
          h.streaming();
          h.continuity.block(at);
          h.events.emit('samples', block, at, frame);
        },
        onGap: (g) => {
          if (!this.#acceptSamples) return;
          h.continuity.frameGap(g, this.#arrivalMs);
        },
        onRestart: () => {
          if (!this.#acceptSamples) return;
          h.continuity.restart(this.#arrivalMs);
        },
        onHello: (hello) => h.hello(hello),
        onForeignHello: (v) => {
          const err = versionError(v.protoMajor, v.protoMinor);
          if (!h.cmd.onForeignHello(err)) h.report(err);
        },
        onAck: (a) => {
          if (a.reqId >= LOOP_REQ_ID_BASE && a.reqId !== UNSOLICITED_REQ_ID) return h.counters.inc('loop_acks');
          h.cmd.onAck(a);
        },
        onError: (e) => this.#onError(e),
        onPong: (p) => {
          const sentMs = h.pings.take(p.pingId);
          if (Number.isNaN(sentMs)) return h.counters.inc('pongs_unmatched');
          h.counters.inc('pongs');
          h.events.emit('pong', { pingId: p.pingId, hostSendMs: sentMs, hostRecvMs: this.#arrivalMs, deviceRxUs: p.tRxUs, deviceTxUs: p.tTxUs });
        },
        onHeartbeat: (hb) => h.events.emit('heartbeat', hb, this.#arrivalMs),
        onTracker: (f) => {
          const t = this.#tracker;
          t.seq = f.seq;
          t.deviceTimeUs = f.tUs;
          t.values = f.values;
          h.events.emit('tracker', t, this.#arrivalMs);
        },
      },
      { logger: h.logger, rate: rate || Number.NaN },
    );
  }

  /** A new connection: nothing it sends is a sample until `accept`. */
  begin(): void {
    this.#acceptSamples = false;
    this.decoder.reset();
  }

  /** Configured (STOP, CONFIG done): blocks at `rateHz` are samples from here on. */
  accept(rateHz: number): void {
    this.decoder.setRate(rateHz);
    this.decoder.reset();
    this.#acceptSamples = true;
  }

  /** The connection ended: whatever still arrives is not a sample. */
  refuse(): void {
    this.#acceptSamples = false;
  }

  /** A chunk from the port of connection `gen`. */
  feed(chunk: Uint8Array, gen: number): void {
    const h = this.#h;
    if (!h.isCurrent(gen)) return;
    // A port that answers writes synchronously (fakes) can deliver bytes while the
    // decoder is inside a handler that wrote: queue those instead of re-entering it.
    if (this.#pushing) {
      this.#backlog.push(chunk.slice());
      return;
    }
    this.#pushing = true;
    try {
      this.#arrivalMs = h.watchdog.lastByteMs = h.now();
      this.decoder.push(chunk);
      for (let next = this.#backlog.shift(); next && h.isCurrent(gen); next = this.#backlog.shift()) {
        this.#arrivalMs = h.watchdog.lastByteMs = h.now();
        this.decoder.push(next);
      }
    } finally {
      this.#pushing = false;
      this.#backlog.length = 0;
    }
  }

  /** ERROR: the control loop's, unsolicited (req_id 0xFFFF), or a reply to a command. */
  #onError(e: DeviceError): void {
    const h = this.#h;
    if (e.reqId >= LOOP_REQ_ID_BASE && e.reqId !== UNSOLICITED_REQ_ID) {
      const name = deviceErrorName(e.code);
      h.counters.inc('loop_errors');
      h.counters.inc(`loop_error_${name}`);
      h.report(new ReflexError(BridgeErrorCodes.deviceReport, `device refused an ACTUATE from the control loop: ${name}${e.message ? `: ${e.message}` : ''}`));
      return;
    }
    if (e.reqId === UNSOLICITED_REQ_ID) {
      h.counters.inc('device_reports');
      h.report(new ReflexError(BridgeErrorCodes.deviceReport, `device reports ${deviceErrorName(e.code)}${e.message ? `: ${e.message}` : ''}`));
      return;
    }
    h.cmd.onError(e);
  }
}
