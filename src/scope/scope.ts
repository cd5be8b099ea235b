/**
 * `reflex scope` as a module: the subscription bridge feeding the WebSocket hub, behind the
 * HTTP server that serves the page. What the command (and tests, and the benchmark) start.
 */
import type { TelemetryEndpoint } from '../telemetry/client.js';
import type { KeyPair } from '../telemetry/keys.js';
import { ScopeBridge, type BridgeStats } from './bridge.js';
import { DEFAULT_PORT, ScopeHttpServer } from './server.js';
import { ScopeHub, type HubStats } from './ws-hub.js';

export interface ScopeOptions {
  endpoints: ReadonlyArray<string | TelemetryEndpoint>;
  keyPair?: KeyPair;
  /** Only this runtime id (default: the first heard from). */
  runtime?: string;
  host?: string;
  port?: number;
  allowRemote?: boolean;
  /** Unsent bytes per page past which display frames are dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  onAuthFailure?: (endpoint: string, detail: string) => void;
}

export interface ScopeStats {
  hub: HubStats;
  bridge: BridgeStats;
  /** HTTP requests and upgrades refused for a foreign Host or Origin. */
  refused: number;
}

export class Scope {
  readonly url: string;
  readonly #hub: ScopeHub;
  readonly #bridge: ScopeBridge;
  readonly #http: ScopeHttpServer;

  private constructor(url: string, hub: ScopeHub, bridge: ScopeBridge, http: ScopeHttpServer) {
    this.url = url;
    this.#hub = hub;
    this.#bridge = bridge;
    this.#http = http;
  }

  static async start(opts: ScopeOptions): Promise<Scope> {
    let bridge: ScopeBridge | undefined;
    const hub = new ScopeHub({
      maxBufferedBytes: opts.maxBufferedBytes,
      stats: () => {
        const b = bridge?.stats();
        return b ? { source: b.source, other_sources: b.other_sources, telemetry: { ...b.client, ignored: b.ignored } } : {};
      },
    });
    let http: ScopeHttpServer | undefined;
    try {
      // Checked before anything connects: a refused bind address is a usage error.
      http = new ScopeHttpServer(hub, { host: opts.host, allowRemote: opts.allowRemote });
      bridge = new ScopeBridge({ endpoints: opts.endpoints, keyPair: opts.keyPair, runtime: opts.runtime, onAuthFailure: opts.onAuthFailure }, hub);
      const url = await http.listen(opts.port ?? DEFAULT_PORT);
      return new Scope(url, hub, bridge, http);
    } catch (err) {
      hub.close();
      await bridge?.close();
      await http?.close();
      throw err;
    }
  }

  stats(): ScopeStats {
    return { hub: this.#hub.stats(), bridge: this.#bridge.stats(), refused: this.#http.refused };
  }

  async close(): Promise<void> {
    this.#hub.close();
    await this.#bridge.close();
    await this.#http.close();
  }
}
