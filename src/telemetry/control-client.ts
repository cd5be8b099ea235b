/**
 * ControlClient: a DEALER talking to a runtime's ControlServer, many requests in flight,
 * replies matched by id, each request bounded by a timeout.
 */
import { Dealer } from 'zeromq';
import type { Decoder, Encoder } from 'cbor-x';
import { ConfigError, ReflexError, type ErrorCode } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { createDecoder, createEncoder } from './codec.js';
import type { ControlArgs, ControlCommand, ControlReply, PlainValue } from './control-protocol.js';
import type { KeyPair } from './keys.js';
import { checkCurveClient } from './security.js';
import { CoreCodes } from '../core/codes.js';
import { TelemetryCodes } from './codes.js';

export interface ControlClientOptions {
  endpoint: string;
  /** The server's CURVE public key (z85); omit for a plaintext (loopback) server. */
  serverKey?: string;
  /** This client's keypair; required with serverKey. */
  keyPair?: KeyPair;
  /** Default per-request timeout, ms (default 5000). */
  timeoutMs?: number;
  logger?: Logger;
}

/** A reply with ok: false, thrown by request(). */
export class ControlReplyError extends ReflexError {}

interface Pending {
  resolve: (r: ControlReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class ControlClient {
  readonly #socket: Dealer;
  readonly #encoder: Encoder = createEncoder();
  readonly #decoder: Decoder = createDecoder();
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #loop: Promise<void>;
  /** Set while the last handshake was refused, so requests fail with the reason, not a bare EAGAIN. */
  #authError: string | undefined;
  #nextId = 1;
  #closed = false;
  /** Replies that matched no pending request (late after a timeout, or garbage). */
  unmatched = 0;

  constructor(opts: ControlClientOptions) {
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#log = opts.logger ?? new Logger();
    if (opts.serverKey !== undefined) {
      if (!opts.keyPair) throw new ConfigError(CoreCodes.usage, 'a server key needs a client keypair (reflex keygen; --client-key-file)');
      checkCurveClient({ serverKey: opts.serverKey, ...opts.keyPair });
    }
    this.#socket = new Dealer({ sendTimeout: 0, linger: 0 });
    if (opts.serverKey !== undefined && opts.keyPair) {
      this.#socket.curveServerKey = opts.serverKey;
      this.#socket.curvePublicKey = opts.keyPair.publicKey;
      this.#socket.curveSecretKey = opts.keyPair.secretKey;
    }
    const authFailed = (message: string): void => {
      this.#authError = message;
      this.#failAll(TelemetryCodes.auth, message);
    };
    this.#socket.events.on('handshake:error:auth', (e) =>
      authFailed(`${opts.endpoint} refused this client's key (ZAP ${e.error.status}); ask for it to be added to the allow-list`),
    );
    this.#socket.events.on('handshake:error:protocol', (e) => authFailed(`handshake with ${opts.endpoint} failed (${e.error.code}); check the server key`));
    this.#socket.events.on('handshake', () => {
      this.#authError = undefined;
    });

    try {
      this.#socket.connect(opts.endpoint);
    } catch (err) {
      this.#socket.close();
      throw new ConfigError(TelemetryCodes.connect, `cannot connect to ${opts.endpoint}: ${(err as Error).message}`, { cause: err });
    }
    this.#loop = this.#receive();
  }

  async #receive(): Promise<void> {
    try {
      for await (const frames of this.#socket) {
        let reply: unknown;
        try {
          reply = this.#decoder.decode(frames[frames.length - 1]!);
        } catch {
          this.unmatched++;
          continue;
        }
        const id = (reply as { id?: unknown } | null)?.id;
        const p = typeof id === 'number' ? this.#pending.get(id) : undefined;
        if (!p) {
          this.unmatched++;
          this.#log.limited('warn', 'control.unmatched', `control reply with unknown id ${String(id)} ignored`);
          continue;
        }
        this.#pending.delete(id as number);
        clearTimeout(p.timer);
        p.resolve(reply as ControlReply);
      }
    } catch (err) {
      if (!this.#socket.closed) this.#failAll(CoreCodes.disconnected, `control connection failed: ${(err as Error).message}`);
    }
  }

  #failAll(code: ErrorCode, message: string): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new ReflexError(code, message));
    }
  }

  /** Send a request and resolve with the raw reply (ok or not). Rejects on timeout, refusal or close. */
  send<C extends ControlCommand>(cmd: C, args?: ControlArgs[C], opts?: { timeoutMs?: number }): Promise<ControlReply>;
  send(cmd: string, args?: Record<string, PlainValue>, opts?: { timeoutMs?: number }): Promise<ControlReply>;
  send(cmd: string, args?: object, opts?: { timeoutMs?: number }): Promise<ControlReply> {
    if (this.#closed) return Promise.reject(new ReflexError(TelemetryCodes.closed, 'control client is closed'));
    // libzmq does not reconnect after a refused handshake, so a refused client fails fast.
    if (this.#authError) return Promise.reject(new ReflexError(TelemetryCodes.auth, this.#authError));
    const id = this.#nextId++;
    const timeoutMs = opts?.timeoutMs ?? this.#timeoutMs;
    return new Promise<ControlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ReflexError(TelemetryCodes.timeout, `no reply to "${cmd}" within ${timeoutMs} ms; is the runtime reachable and this client's key allowed?`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      const body = this.#encoder.encode({ id, cmd, args: args ?? {} });
      this.#socket.send(body).then(undefined, (err: unknown) => {
        // EAGAIN: no session to queue on, which happens when the handshake was just refused and
        // its event is still on the way; leave the request pending for that event or the timeout.
        if ((err as { code?: string }).code === 'EAGAIN' && !this.#authError) return;
        const p = this.#pending.get(id);
        if (!p) return;
        this.#pending.delete(id);
        clearTimeout(timer);
        if (this.#authError) reject(new ReflexError(TelemetryCodes.auth, this.#authError));
        else reject(new ReflexError(TelemetryCodes.send, `request "${cmd}" not sent: ${(err as Error).message}`));
      });
    });
  }

  /** Like send(), but resolves with `result` and throws ControlReplyError for an error reply. */
  async request<C extends ControlCommand>(cmd: C, args?: ControlArgs[C], opts?: { timeoutMs?: number }): Promise<unknown> {
    const reply = await this.send(cmd, args, opts);
    if (!reply.ok) throw new ControlReplyError(reply.error.code, reply.error.message);
    return reply.result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    await this.#loop;
    this.#failAll(TelemetryCodes.closed, 'control client closed');
  }
}
