/**
 * The scope's HTTP side: serves the page (web/scope/) and uPlot from its own npm package
 * (nothing from a CDN: the page works offline), and upgrades `/ws` to the WebSocket the hub
 * feeds. Read-only: no route changes anything, and the page's own messages configure only
 * its own view.
 *
 * Binds loopback unless told otherwise, because the page shows a person's EMG to whoever
 * can reach the port, with no login. On loopback it also checks the Host header (and a
 * WebSocket's Origin), so a web page elsewhere cannot read the data through DNS rebinding.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { ConfigError, ReflexError } from '../core/errors.js';
import { TelemetryCodes } from '../telemetry/codes.js';
import type { ScopeHub } from './ws-hub.js';

export interface HttpOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 8090; 0 picks a free one). */
  port?: number;
  /** Needed to listen on an address other than loopback. */
  allowRemote?: boolean;
}

export const DEFAULT_PORT = 8090;
/** Largest message a page may send (its view settings and pings are tiny). */
const MAX_PAGE_MESSAGE = 4096;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** web/scope/ beside src/ (and beside dist/ in a package). */
export const PAGE_DIR = fileURLToPath(new URL('../../web/scope/', import.meta.url));

/** uPlot's dist/ folder, found through Node's resolution so it works wherever npm put the package. */
export function uplotDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Every file the server answers with, read once: path -> body and type. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(PAGE_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(`/${name}`, { body: readFileSync(join(PAGE_DIR, name)), type });
  }
  const index = assets.get('/index.html');
  if (!index) throw new ReflexError(TelemetryCodes.bind, `the scope page is missing (${PAGE_DIR}index.html): reinstall reflex`);
  assets.set('/', index);
  const up = uplotDir();
  assets.set('/vendor/uPlot.esm.js', { body: readFileSync(join(up, 'uPlot.esm.js')), type: TYPES['.js']! });
  assets.set('/vendor/uPlot.min.css', { body: readFileSync(join(up, 'uPlot.min.css')), type: TYPES['.css']! });
  return assets;
}

export class ScopeHttpServer {
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #assets: Map<string, { body: Buffer; type: string }>;
  readonly #host: string;
  readonly #loopback: boolean;
  #port = 0;
  /** Requests refused for a foreign Host or Origin header. */
  refused = 0;

  constructor(hub: ScopeHub, opts: HttpOptions = {}) {
    this.#host = opts.host ?? '127.0.0.1';
    this.#loopback = isLoopback(this.#host);
    if (!this.#loopback && !opts.allowRemote) {
      throw new ConfigError(
        TelemetryCodes.insecureBind,
        `refusing to serve the scope on ${this.#host}: the page shows live EMG to anyone who can reach the port, with no login. ` +
          'Use the default 127.0.0.1 (and an SSH tunnel: ssh -L 8090:127.0.0.1:8090 workstation), or add --allow-remote on a trusted network',
      );
    }
    this.#assets = loadAssets();
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAGE_MESSAGE });
    this.#wss.on('connection', (ws) => hub.add(ws));
    this.#server = createServer((req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
  }

  async listen(port = DEFAULT_PORT): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void =>
        reject(
          new ReflexError(
            TelemetryCodes.bind,
            `cannot listen on ${this.#host}:${port}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (pick another --port)' : ''}`,
            { cause: err },
          ),
        );
      this.#server.once('error', onError);
      this.#server.listen(port, this.#host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    const h = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${h}:${this.#port}/`;
  }

  /** On loopback, only requests addressed to this machine by a loopback name. */
  #hostAllowed(req: IncomingMessage): boolean {
    if (!this.#loopback) return true;
    const host = req.headers.host;
    if (host === undefined) return false;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
    return m !== null && isLoopback(m[1]!) && Number(m[2] ?? 80) === this.#port;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#hostAllowed(req)) {
      this.refused++;
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request: open the scope by its loopback address\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('the scope is read-only\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const asset = this.#assets.get(path);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Everything from this server, no inline script: a live EMG page must not run anyone else's code.
      'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    const origin = req.headers.origin;
    let originOk = true;
    if (origin !== undefined) {
      try {
        originOk = new URL(origin).host === req.headers.host;
      } catch {
        originOk = false;
      }
    }
    if (path !== '/ws' || !this.#hostAllowed(req) || !originOk) {
      this.refused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
