/**
 * Telemetry in, display entries out: subscribes with TelemetryClient (CURVE as `reflex
 * subscribe` does it), keeps to one runtime (the one asked for, or the first heard from),
 * and hands each message to a ScopeSink: block topics as samples for the decimators, the
 * small topics as JSON entries. Times stay on the runtime's monotonic clock, except each
 * block's publish time, which is moved to this machine's monotonic clock (through both
 * machines' wall clocks; exact on one machine) so the page can measure its lag.
 */
import { TelemetryClient, type ClientStats, type TelemetryEndpoint } from '../telemetry/client.js';
import type { KeyPair } from '../telemetry/keys.js';
import { TOPICS, type TelemetryMessage } from '../telemetry/topics.js';
import { monotonicMs } from '../time/monotonic.js';
import { TrackerHistory } from './tracker-history.js';
import type { ScopeSink, StreamInfo } from './ws-hub.js';

export interface BridgeOptions {
  endpoints: ReadonlyArray<string | TelemetryEndpoint>;
  keyPair?: KeyPair;
  /** Only this runtime id; default: the first runtime a message arrives from. */
  runtime?: string;
  onAuthFailure?: (endpoint: string, detail: string) => void;
}

export interface BridgeStats {
  /** The runtime shown (runtime/board), or null before the first message. */
  source: string | null;
  /** Other runtime/board pairs heard on these endpoints, not shown (pick one with --runtime). */
  other_sources: string[];
  /** Messages from those. */
  ignored: number;
  client: ClientStats;
}

export class ScopeBridge {
  readonly #client: TelemetryClient;
  readonly #sink: ScopeSink;
  readonly #tracker = new TrackerHistory();
  readonly #info = new Map<string, StreamInfo>();
  readonly #done: Promise<void>;
  #runtime: string | undefined;
  #source: string | null = null;
  readonly #others = new Set<string>();
  #ignored = 0;

  constructor(opts: BridgeOptions, sink: ScopeSink) {
    this.#sink = sink;
    this.#runtime = opts.runtime;
    this.#client = new TelemetryClient({
      endpoints: opts.endpoints,
      keyPair: opts.keyPair,
      runtimes: opts.runtime !== undefined ? [opts.runtime] : undefined,
      topics: TOPICS.filter((t) => t !== 'actuators'),
      // A browser's worth of small topics must not be lost behind the EMG (docs/telemetry.md section 5).
      receiveHighWaterMark: 10_000,
      onAuthFailure: opts.onAuthFailure,
    });
    this.#done = this.#pump();
  }

  stats(): BridgeStats {
    return { source: this.#source, other_sources: [...this.#others], ignored: this.#ignored, client: this.#client.stats() };
  }

  async #pump(): Promise<void> {
    for await (const msg of this.#client) this.#handle(msg);
  }

  #handle(msg: TelemetryMessage): void {
    const key = `${msg.source.runtime}/${msg.source.board}`;
    if (this.#source === null && (this.#runtime === undefined || this.#runtime === msg.source.runtime)) this.#source = key;
    if (key !== this.#source) {
      this.#others.add(key);
      this.#ignored++;
      return;
    }
    const seq = msg.seq;
    const t = msg.mono_ms;
    switch (msg.topic) {
      case 'emg.raw':
      case 'emg.features':
      case 'tracker': {
        const b = msg.body;
        // Until a clock model has mapped the block, its publish time stands in for its samples' times.
        const t0 = Number.isFinite(b.host_time_ms) ? b.host_time_ms : t - (b.samples - 1) * b.host_period_ms;
        const period = Number.isFinite(b.host_period_ms) && b.host_period_ms > 0 ? b.host_period_ms : 1000 / b.rate;
        const pubMs = msg.wall_ms - (performance.timeOrigin + performance.now() - monotonicMs());
        if (msg.topic === 'tracker') this.#tracker.push(b.channels, b.data, b.samples, t0, period);
        // One StreamInfo per descriptor, not one per block: the client hands out the descriptor's channel array.
        let info = this.#info.get(msg.topic);
        if (!info || info.channels !== b.channels || info.unit !== b.unit || !Object.is(info.rate, b.rate)) {
          info = { channels: b.channels, unit: b.unit, rate: b.rate };
          this.#info.set(msg.topic, info);
        }
        this.#sink.block(msg.topic, info, b.data, b.samples, t0, period, pubMs);
        return;
      }
      case 'prediction': {
        const b = msg.body;
        const tracker = b.names.map((n) => this.#tracker.at(n, b.window_end_ms));
        this.#sink.entry('prediction', {
          seq,
          t,
          tick: b.tick,
          model: b.model,
          names: b.names,
          unit: b.unit,
          values: b.values,
          tracker,
          window_end_ms: b.window_end_ms,
          latency_ms: b.latency_ms,
        });
        return;
      }
      case 'loop':
        this.#sink.entry('loop', { seq, t, ...msg.body });
        return;
      case 'clock':
        this.#sink.entry('clock', { seq, t, ...msg.body });
        return;
      case 'event':
        this.#sink.entry('event', { seq, t, wall_ms: msg.wall_ms, ...msg.body });
        return;
      case 'health': {
        const b = msg.body;
        this.#sink.health({
          seq,
          t,
          state: b.state,
          uptime_s: b.uptime_s,
          counters: b.counters,
          // A publisher other than Reflex's may leave its own stats out.
          telemetry: typeof b.telemetry === 'object' ? { sent: b.telemetry.sent, dropped: b.telemetry.dropped } : null,
        });
        return;
      }
      case 'actuators':
        return; // not subscribed: the prediction plot shows what the model asked for
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
    await this.#done;
  }
}
