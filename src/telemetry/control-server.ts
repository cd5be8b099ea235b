/**
 * ControlServer: a ROUTER socket taking CBOR requests from workstations. Every well-framed
 * request gets exactly one reply (errors included); anything malformed, ambiguous (a
 * repeated key) or not plain CBOR gets an error reply and never reaches a handler
 * (control-decode.ts); oversize messages are cut off by libzmq (ZMQ_MAXMSGSIZE disconnects
 * the peer), so they get nothing.
 *
 * Work is bounded (control-budget.ts): a few messages per event-loop turn, then the server
 * yields so ingest and telemetry run; past a read rate it stops reading for a moment (the
 * flood backs up in ZeroMQ's queues); past the per-peer and global rates a request gets a
 * cheap E_BUSY instead of its handler. `estop` is never refused for rate or load.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Router } from 'zeromq';
import type { Encoder } from 'cbor-x';
import { Counters } from '../core/counters.js';
import { ConfigError, isReflexError } from '../core/errors.js';
import { Logger } from '../core/log.js';
import { createEncoder } from './codec.js';
import { ControlBudget, laneOf, TurnBudget, type ControlBudgetOptions, type Refusal } from './control-budget.js';
import { decodeStrict, STRICT_CODES } from './control-decode.js';
import {
  argCheckers,
  isControlCommand,
  MAX_REQUEST_BYTES,
  parseRequest,
  type ControlArgs,
  type ControlCommand,
  type ControlError,
  type PlainValue,
  type RequestId,
} from './control-protocol.js';
import type { CurveServerOptions } from './security.js';
import { applyCurveServer, bindAll, prepareServer } from './server-security.js';
import type { ZapDecision, ZapHandler } from './zap.js';
import { CoreCodes } from '../core/codes.js';
import { TelemetryCodes } from './codes.js';

export interface ClientInfo {
  /** ROUTER routing id of the peer, hex. */
  routingId: string;
}

export type Handler<A> = (args: A, client: ClientInfo) => unknown;

export interface ControlServerOptions {
  endpoints: readonly string[];
  curve?: CurveServerOptions;
  insecure?: boolean;
  /** Largest request accepted, bytes (ZMQ_MAXMSGSIZE; default 64 KiB). */
  maxMessageSize?: number;
  /** A handler that has not settled by then gets an E_TIMEOUT reply (default 10 s). */
  handlerTimeoutMs?: number;
  /** Requests in progress at once; more get E_BUSY (default 64; `estop` is never refused). */
  maxInFlight?: number;
  /** Read rate, and request rates per peer and across peers by lane (control-budget.ts has the defaults). */
  rate?: ControlBudgetOptions;
  /** Messages handled per event-loop turn before yielding to I/O (default 32 messages or 2 ms). */
  turn?: { messages?: number; ms?: number };
  onAuth?: (d: ZapDecision) => void;
  logger?: Logger;
}

type CounterKey =
  | 'requests'
  | 'replies'
  | 'errors'
  | 'malformed'
  | 'duplicate_keys'
  | 'handler_errors'
  | 'timeouts'
  | 'send_errors'
  | 'busy'
  | 'busy_peer'
  | 'busy_global'
  | 'busy_in_flight'
  | 'yields'
  | 'throttled';

const BUSY_MESSAGE: Record<Refusal | 'in_flight', string> = {
  peer: 'this client is sending faster than its request rate; slow down and retry',
  global: 'the runtime is answering as many requests as it takes from all clients; retry shortly',
  in_flight: 'too many requests in progress; retry shortly',
};

export class ControlServer {
  readonly #opts: ControlServerOptions;
  readonly #log: Logger;
  readonly #handlers = new Map<string, { fn: Handler<never>; check: (a: Record<string, PlainValue>) => string | undefined }>();
  readonly #encoder: Encoder = createEncoder();
  readonly #budget: ControlBudget;
  readonly #turn: TurnBudget;
  /** E_BUSY replies are the flood path: everything but the id is encoded once. */
  readonly #busyHead: Buffer;
  readonly #busyTails: Record<Refusal | 'in_flight', Buffer>;
  readonly counters = new Counters<CounterKey>();
  #socket: Router | undefined;
  #zap: ZapHandler | undefined;
  #loop: Promise<void> | undefined;
  #inFlight = 0;
  #endpoints: string[] = [];
  #closed = false;

  constructor(opts: ControlServerOptions) {
    if (opts.endpoints.length === 0) throw new ConfigError(CoreCodes.config, 'control needs at least one endpoint, e.g. tcp://127.0.0.1:5561');
    this.#opts = opts;
    this.#log = opts.logger ?? new Logger();
    this.#budget = new ControlBudget(opts.rate);
    this.#turn = new TurnBudget(opts.turn);
    // {id: <id>, ok: false, error: {...}}: a 3-entry map, the "id" key, then the id, then the rest.
    const head = this.#encoder.encode('id');
    this.#busyHead = Buffer.concat([Buffer.from([0xa3]), head]);
    const tail = (why: Refusal | 'in_flight'): Buffer => {
      const rest = this.#encoder.encode({ ok: false, error: { code: TelemetryCodes.busy, message: BUSY_MESSAGE[why] } });
      // Drop the 2-entry map header: its entries continue the 3-entry map. A copy: the
      // encoder may reuse its buffer.
      if (rest[0] !== 0xa2) throw new Error(`control: unexpected CBOR map header 0x${rest[0]!.toString(16)} from the encoder`);
      return Buffer.from(rest.subarray(1));
    };
    this.#busyTails = { peer: tail('peer'), global: tail('global'), in_flight: tail('in_flight') };
  }

  /** The request rates in force (defaults filled in). */
  get limits(): ControlBudget['limits'] {
    return this.#budget.limits;
  }

  /** Register the handler for a built-in command; its args are checked before it is called. */
  handle<C extends ControlCommand>(cmd: C, fn: Handler<ControlArgs[C]>): this;
  /** Register an extra command with its own args check (return a reason to refuse, or undefined). */
  handle(cmd: string, fn: Handler<Record<string, PlainValue>>, check: (args: Record<string, PlainValue>) => string | undefined): this;
  handle(cmd: string, fn: Handler<never>, check?: (args: Record<string, PlainValue>) => string | undefined): this {
    if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(cmd)) throw new ConfigError(CoreCodes.config, `command name "${cmd}" must be lowercase letters, digits, _ . -`);
    const builtin = isControlCommand(cmd) ? argCheckers[cmd] : undefined;
    const checker = builtin ?? check;
    if (!checker) throw new ConfigError(CoreCodes.config, `extra command "${cmd}" needs an args check function`);
    this.#handlers.set(cmd, { fn, check: checker });
    return this;
  }

  async start(): Promise<string[]> {
    if (this.#closed) throw new ConfigError(TelemetryCodes.closed, 'this control server was closed; create a new one');
    if (this.#socket) return this.#endpoints;
    const { context, zap } = await prepareServer('control', this.#opts.endpoints, {
      curve: this.#opts.curve,
      insecure: this.#opts.insecure,
      onAuth: this.#opts.onAuth,
      logger: this.#log,
    });
    this.#zap = zap;
    const socket = new Router({ context, maxMessageSize: this.#opts.maxMessageSize ?? MAX_REQUEST_BYTES, sendTimeout: 0, linger: 0 });
    applyCurveServer(socket, this.#opts.curve, 'reflex.control');
    try {
      this.#endpoints = await bindAll(socket, this.#opts.endpoints);
    } catch (err) {
      socket.close();
      await zap?.close();
      throw new ConfigError(TelemetryCodes.bind, `control cannot bind ${this.#opts.endpoints.join(', ')}: ${(err as Error).message}`, { cause: err });
    }
    this.#socket = socket;
    this.#loop = this.#serve(socket);
    return this.#endpoints;
  }

  get endpoints(): readonly string[] {
    return this.#endpoints;
  }

  async #serve(socket: Router): Promise<void> {
    try {
      for (;;) {
        const wait = this.#budget.readDelayMs();
        if (wait > 0) {
          // Past the read rate: leave the rest in ZeroMQ's queues for a moment (backpressure).
          this.counters.inc('throttled');
          await sleep(Math.ceil(wait));
          continue;
        }
        const frames = await socket.receive();
        this.#onMessage(socket, frames).catch((err: unknown) => {
          // Only a bug in this file gets here; count and report it, keep serving.
          this.counters.inc('errors');
          this.#log.limited('error', 'control.internal', `control request failed internally: ${(err as Error).stack ?? String(err)}`);
        });
        // Queued messages come back from receive() without leaving the microtask queue, so
        // without this a flood would hold the main thread until the flood stops.
        if (this.#turn.spend()) {
          this.counters.inc('yields');
          await nextTurn();
        }
      }
    } catch (err) {
      if (!socket.closed) this.#log.error(`control server stopped receiving: ${(err as Error).message}`);
    }
  }

  async #onMessage(socket: Router, frames: Buffer[]): Promise<void> {
    this.counters.inc('requests');
    const routing = frames[0]!;
    // A DEALER sends [payload]; a REQ sends ['', payload]. Reply with the same envelope.
    let envelope: Buffer[];
    let payload: Buffer;
    if (frames.length === 2) {
      envelope = [routing];
      payload = frames[1]!;
    } else if (frames.length === 3 && frames[1]!.length === 0) {
      envelope = [routing, frames[1]!];
      payload = frames[2]!;
    } else {
      this.counters.inc('malformed');
      this.#reply(socket, [routing], null, { code: STRICT_CODES.malformed, message: 'a request is one CBOR frame' });
      return;
    }
    const decoded = decodeStrict(payload);
    if (!decoded.ok) {
      this.counters.inc('malformed');
      if (decoded.error.code === STRICT_CODES.duplicateKey) this.counters.inc('duplicate_keys');
      this.#reply(socket, envelope, null, decoded.error);
      return;
    }
    const req = parseRequest(decoded.value);
    if (!req.ok) {
      this.counters.inc('malformed');
      this.#reply(socket, envelope, req.id, req.error);
      return;
    }
    const peer = routing.toString('hex');
    const refused = this.#budget.admit(peer, req.cmd);
    if (refused) {
      this.counters.inc(refused === 'peer' ? 'busy_peer' : 'busy_global');
      this.#busy(socket, envelope, req.id, refused);
      return;
    }
    const h = this.#handlers.get(req.cmd);
    if (!h) {
      const known = [...this.#handlers.keys()].join(', ') || '(none registered)';
      this.#reply(socket, envelope, req.id, { code: TelemetryCodes.unknownCmd, message: `unknown command "${req.cmd}"; this runtime handles: ${known}` });
      return;
    }
    const why = h.check(req.args);
    if (why !== undefined) {
      this.#reply(socket, envelope, req.id, { code: TelemetryCodes.badArgs, message: `${req.cmd}: ${why}` });
      return;
    }
    if (this.#inFlight >= (this.#opts.maxInFlight ?? 64) && laneOf(req.cmd) !== 'safety') {
      this.counters.inc('busy_in_flight');
      this.#busy(socket, envelope, req.id, 'in_flight');
      return;
    }
    this.#inFlight++;
    const client: ClientInfo = { routingId: peer };
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.#opts.handlerTimeoutMs ?? 10_000;
    const timeout = new Promise<{ timedOut: true }>((resolve) => {
      timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
    });
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => (h.fn as Handler<Record<string, PlainValue>>)(req.args, client))
          .then((result) => ({ result })),
        timeout,
      ]);
      if ('timedOut' in outcome) {
        this.counters.inc('timeouts');
        this.#reply(socket, envelope, req.id, { code: TelemetryCodes.timeout, message: `${req.cmd} did not finish within ${timeoutMs} ms` });
      } else {
        this.#reply(socket, envelope, req.id, undefined, outcome.result);
      }
    } catch (err) {
      this.counters.inc('handler_errors');
      const code = isReflexError(err) ? err.code : TelemetryCodes.handler;
      this.#reply(socket, envelope, req.id, { code, message: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
      this.#inFlight--;
    }
  }

  #busy(socket: Router, envelope: Buffer[], id: RequestId, why: Refusal | 'in_flight'): void {
    this.counters.inc('busy');
    this.counters.inc('errors');
    this.#send(socket, envelope, Buffer.concat([this.#busyHead, this.#encoder.encode(id), this.#busyTails[why]]));
  }

  #reply(socket: Router, envelope: Buffer[], id: RequestId | null, error: ControlError | undefined, result?: unknown): void {
    if (error) this.counters.inc('errors');
    let body: Buffer;
    try {
      body = this.#encoder.encode(error ? { id, ok: false, error } : { id, ok: true, result: result ?? null });
    } catch (err) {
      this.counters.inc('errors');
      body = this.#encoder.encode({
        id,
        ok: false,
        error: { code: TelemetryCodes.handler, message: `result could not be encoded: ${(err as Error).message}` },
      });
    }
    this.#send(socket, envelope, body);
  }

  #send(socket: Router, envelope: Buffer[], body: Buffer): void {
    if (socket.closed) return;
    try {
      socket.send([...envelope, body]).then(
        () => this.counters.inc('replies'),
        (err: unknown) => this.#sendFailed(err),
      );
    } catch (err) {
      this.#sendFailed(err);
    }
  }

  #sendFailed(err: unknown): void {
    this.counters.inc('send_errors');
    this.#log.limited('warn', 'control.send', `control reply not sent: ${(err as Error).message}`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.close();
    await this.#loop;
    await this.#zap?.close();
  }
}
