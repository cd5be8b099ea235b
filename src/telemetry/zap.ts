/**
 * ZAP 1.0 (ZeroMQ RFC 27) handler: libzmq asks it, over inproc://zeromq.zap.01 in the
 * server socket's context, whether a CURVE client may connect. We answer from an
 * allow-list of client public keys. It must be bound before the server socket binds;
 * without a handler libzmq would accept any client that knows the server key.
 */
import { Context, Router } from 'zeromq';
import { Counters } from '../core/counters.js';
import { Logger } from '../core/log.js';
import { z85Encode } from './z85.js';

export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

export interface ZapDecision {
  allowed: boolean;
  /** Client public key, z85 ('' for a non-CURVE mechanism). */
  publicKey: string;
  /** Client IP address as libzmq reports it. */
  address: string;
  domain: string;
  mechanism: string;
}

export interface ZapHandlerOptions {
  /** The context the server socket lives in. */
  context: Context;
  /** Allowed client public keys, z85. */
  allow: readonly string[];
  /** Called after every decision (tests wait on it; the runtime can log it). */
  onDecision?: (d: ZapDecision) => void;
  logger?: Logger;
}

export class ZapHandler {
  readonly #router: Router;
  readonly #allow: Set<string>;
  readonly #onDecision: ((d: ZapDecision) => void) | undefined;
  readonly #log: Logger;
  readonly counters = new Counters<'allowed' | 'denied' | 'malformed' | 'send_errors'>();
  #loop: Promise<void> | undefined;

  constructor(opts: ZapHandlerOptions) {
    this.#router = new Router({ context: opts.context, linger: 0 });
    this.#allow = new Set(opts.allow);
    this.#onDecision = opts.onDecision;
    this.#log = opts.logger ?? new Logger();
  }

  async start(): Promise<void> {
    await this.#router.bind(ZAP_ENDPOINT);
    this.#loop = this.#serve();
  }

  async #serve(): Promise<void> {
    try {
      for await (const frames of this.#router) {
        const reply = this.#decide(frames);
        if (!reply) continue;
        try {
          await this.#router.send(reply);
        } catch (err) {
          this.counters.inc('send_errors');
          this.#log.limited('warn', 'zap.send', `ZAP reply not sent: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      // Closing the socket ends the iteration; anything else is a real fault.
      if (!this.#router.closed) this.#log.error(`ZAP handler stopped: ${(err as Error).message}`);
    }
  }

  /** Frames: routing id, empty delimiter, "1.0", request id, domain, address, identity, mechanism, credentials... */
  #decide(frames: Buffer[]): Buffer[] | undefined {
    if (frames.length < 8 || frames[1]!.length !== 0 || frames[2]!.toString() !== '1.0') {
      this.counters.inc('malformed');
      if (frames.length >= 4) return this.#reply(frames[0]!, frames[3]!, '500', 'malformed ZAP request', '');
      return undefined;
    }
    const [routing, , , requestId, domainBuf, addressBuf, , mechanismBuf] = frames as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
    const mechanism = mechanismBuf.toString();
    const domain = domainBuf.toString();
    const address = addressBuf.toString();
    let publicKey = '';
    let allowed = false;
    if (mechanism === 'CURVE' && frames.length === 9 && frames[8]!.length === 32) {
      publicKey = z85Encode(frames[8]!);
      allowed = this.#allow.has(publicKey);
    }
    this.counters.inc(allowed ? 'allowed' : 'denied');
    if (!allowed) this.#log.limited('warn', 'zap.denied', `refused ${mechanism} client ${publicKey || '(no key)'} from ${address} (not in the allow-list)`);
    this.#onDecision?.({ allowed, publicKey, address, domain, mechanism });
    return allowed ? this.#reply(routing, requestId, '200', 'OK', publicKey) : this.#reply(routing, requestId, '400', 'client key not allowed', '');
  }

  #reply(routing: Buffer, requestId: Buffer, status: string, text: string, userId: string): Buffer[] {
    return [routing, Buffer.alloc(0), Buffer.from('1.0'), requestId, Buffer.from(status), Buffer.from(text), Buffer.from(userId), Buffer.alloc(0)];
  }

  async close(): Promise<void> {
    this.#router.close();
    await this.#loop;
  }
}
